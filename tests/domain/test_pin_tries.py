"""After a wrong PIN the person is told how many tries are left before the PIN locks, by
name (issue 10: "tries left" after a wrong PIN), and the try that locks it says so."""

from __future__ import annotations

from tests.domain.conftest import Sim


def test_a_wrong_pin_says_how_many_tries_are_left(western_sim: Sim) -> None:
    """Five wrong tries lock a PIN: 4, 3, 2, 1 left, then "now locked"; the person is named
    by name, not login."""
    cmd = {
        "type": "record_consent",
        "actor": "hana",
        "performer": "alec",
        "weapon_type": "shotgun",
        "confirmations": [{"person": "alec", "pin": "9999"}],
    }
    name = western_sim.state.people["alec"].name
    said = [western_sim.run(cmd, pins={"alec": "wrong"}).error or "" for _ in range(5)]
    assert all(s.startswith(f"{name}: wrong PIN") for s in said), said
    assert "4 tries left" in said[0] and "3 tries left" in said[1]
    assert "1 try left" in said[3]
    assert "now locked" in said[4] and "tries left" not in said[4]
