"""Scenario parsing details: times, placeholders, interactions, fresh databases."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from coldset.replay import ScenarioError, load, replay
from coldset.replay.interactions import derive
from coldset.replay.scenario import spaced
from tests.replay.conftest import write


def test_unquoted_yaml_times_read_as_times(tmp_path: Path, small: dict[str, Any]) -> None:
    """YAML 1.1 reads 12:55 as the number 775; the replay reads it back as 12:55."""
    small["steps"][6]["at"] = 12 * 60 + 55
    sc = load(write(tmp_path, small))
    assert sc.steps[6].at.strftime("%H:%M") == "12:55"


def test_steps_at_the_same_minute_run_a_second_apart() -> None:
    """Equal times keep file order, one second apart."""
    from datetime import UTC, datetime

    t = datetime(2025, 1, 1, 8, 0, tzinfo=UTC)
    assert [x.second for x in spaced([t, t, t])] == [0, 1, 2]


def test_placeholder_takes_the_id_a_step_created(tmp_path: Path, small: dict[str, Any]) -> None:
    """$stop_work names the stop-work an earlier step called; it can then be cleared."""
    small["steps"][6:] = [
        {"at": "08:20", "by": "lee", "call_stop_work": {"reason": "lightning", "unit": "main"}},
        {
            "at": "08:30",
            "by": "hana",
            "clear_stop_work": {"stop_work": "$stop_work", "note": "checked"},
            "confirm": ["lee"],
        },
    ]
    rep = replay(load(write(tmp_path, small)))
    assert all(r.matched for r in rep.results), [r.problems for r in rep.results]
    assert rep.results[-1].command["stop_work"].startswith("sw-")


def test_placeholder_before_anything_created(tmp_path: Path, small: dict[str, Any]) -> None:
    """$concern before any concern exists is a scenario error naming the step."""
    small["steps"].append(
        {"at": "09:00", "by": "lee", "acknowledge_concern": {"concern": "$concern", "answer": "ok"}}
    )
    with pytest.raises(ScenarioError, match="step 8.*concern"):
        replay(load(write(tmp_path, small)))


def test_each_replay_starts_from_an_empty_database(tmp_path: Path, small: dict[str, Any]) -> None:
    """Two replays of one file both succeed: the production is created afresh each time."""
    sc = load(write(tmp_path, small))
    assert all(r.matched for r in replay(sc).results)
    assert all(r.matched for r in replay(sc).results)


def test_interactions_derived_from_the_command() -> None:
    """An issue right after the same handler's show-clear scans only the performer's badge."""
    insp = {
        "type": "inspect",
        "actor": "hana",
        "firearm": "colt",
        "chambers": ["empty"] * 6,
        "barrel_clear": True,
    }
    issue = {
        "type": "issue",
        "actor": "hana",
        "firearm": "colt",
        "to": "alec",
        "confirmations": [{"person": "alec", "pin": "1"}, {"person": "dave", "pin": "2"}],
    }
    assert derive(insp, None).checklist == 7
    i = derive(issue, insp)
    assert (i.scans, i.taps, i.pins) == (1, 1, 2)
    assert derive(issue, None).scans == 2
    assert derive({"type": "check_alerts"}, None).total == 0


def test_interactions_written_in_the_file_win(tmp_path: Path, small: dict[str, Any]) -> None:
    """A step's own interactions replace the derived ones."""
    small["steps"][5]["interactions"] = {"scans": 3, "taps": 0}
    rep = replay(load(write(tmp_path, small)))
    assert rep.results[5].interactions.scans_taps == 3


@pytest.mark.parametrize("via", ["service", "api"])
def test_anonymous_concern_step(tmp_path: Path, small: dict[str, Any], via: str) -> None:
    """A step ``by: anonymous`` raises a concern with nobody's name on it, as the service
    (and the public concern form) accept; it alerts the safety contact at once."""
    small["steps"].append(
        {
            "at": "09:00",
            "by": "anonymous",
            "raise_concern": {
                "text": "The revolver was left on the cart at lunch.",
                "unit": "main",
            },
            "raises": ["concern-answered"],
        }
    )
    rep = replay(load(write(tmp_path, small)), via=via)
    assert all(r.matched for r in rep.results), [r.problems for r in rep.results]
    (raised,) = [e for e in rep.results[-1].outcome.events if e["type"] == "concern_raised"]
    assert "raised_by" not in raised


def test_anonymous_may_only_raise_a_concern(tmp_path: Path, small: dict[str, Any]) -> None:
    """``by: anonymous`` on any other command is a scenario error naming the step."""
    small["steps"].append({"at": "09:00", "by": "anonymous", "collect": {"firearm": "colt"}})
    with pytest.raises(ScenarioError, match="step 8.*anonymous may only raise a concern"):
        load(write(tmp_path, small))


def test_summary_counts_an_open_alert_once(tmp_path: Path, small: dict[str, Any]) -> None:
    """The summary counts alerts opened, not alert verdicts: a concern's alert raised at
    once and found again overdue by a later check while still open counts once."""
    from coldset.replay.report import summary

    small["steps"] += [
        {
            "at": "09:00",
            "by": "alec",
            "raise_concern": {"text": "Cart left open."},
            "raises": ["concern-answered"],
        },
        {"at": "13:30", "by": "lee", "check_alerts": {}, "raises": ["concern-answered"]},
    ]
    rep = replay(load(write(tmp_path, small)))
    assert all(r.matched for r in rep.results), [r.problems for r in rep.results]
    assert summary(rep)["alerts"] == 1
