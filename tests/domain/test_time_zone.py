"""The production's time zone is a real IANA name, and reasons say which clock they use."""

from __future__ import annotations

import pytest

from coldset.domain import commands as c
from coldset.domain.model import Exemption, Production, ProductionSettings
from coldset.domain.rules.wording import local_time
from coldset.domain.state import State


def _create(tz: str) -> c.CreateProduction:
    cmd = c.parse_command(
        {
            "type": "create_production",
            "production": "p1",
            "actor": "maria",
            "title": "P",
            "actor_name": "Maria Ortega",
            "time_zone": tz,
        }
    )
    assert isinstance(cmd, c.CreateProduction)
    return cmd


@pytest.mark.parametrize("tz", ["Mars/Olympus", "../../etc/passwd", "Not a zone"])
def test_an_unknown_time_zone_is_refused_with_its_name(tz: str) -> None:
    """A zone zoneinfo does not know is a clear field error naming it (before, it was
    accepted and every rule that needs "today" failed later)."""
    with pytest.raises(c.CommandError) as e:
        _create(tz)
    assert "unknown time zone" in str(e.value)


def test_a_known_zone_is_kept() -> None:
    """America/Denver and UTC are accepted as they are."""
    assert _create("America/Denver").time_zone == "America/Denver"
    assert _create("UTC").time_zone == "UTC"


def test_reason_times_name_the_zone() -> None:
    """A time in a reason is the production's wall clock with the zone's abbreviation."""
    s = State(
        production=Production(
            id="p1",
            title="P",
            origin="",
            time_zone="America/Denver",
            exemption=Exemption.none,
            settings=ProductionSettings(),
            created_at="",
        )
    )
    assert local_time(s, "2025-03-03T15:00:00.000Z") == "2025-03-03 08:00 MST"
    assert local_time(s, "2025-07-03T15:00:00.000Z") == "2025-07-03 09:00 MDT"
