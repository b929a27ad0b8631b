"""Who may record a firearm's discharge: the person holding it, or a handler (issue 15 #5).

Anyone else (the 1st AD, another performer, the safety contact) is refused like a
wrong role: the attempt is recorded as rejected, nothing is fired on record, and the
reason names who holds the firearm and what to do instead (report an incident).
"""

from __future__ import annotations

import pytest

from coldset.domain.projection import fold

from .conftest import PINS, Sim


def _issued_and_loaded(w: Sim) -> None:
    """colt-2 shown clear, issued to Frances for sc-20 and loaded with three blanks."""
    w.ok({"type": "unlock_container", "actor": "hana", "container": "safe-main"})
    w.ok(
        {
            "type": "inspect",
            "actor": "hana",
            "firearm": "colt-2",
            "chambers": ["empty"] * 6,
            "barrel_clear": True,
            "confirmations": [
                {"person": "frances", "pin": PINS["frances"]},
                {"person": "dave", "pin": PINS["dave"]},
            ],
        }
    )
    w.ok(
        {
            "type": "issue",
            "actor": "hana",
            "firearm": "colt-2",
            "to": "frances",
            "scene": "sc-20",
            "confirmations": [{"person": "frances", "pin": PINS["frances"]}],
        }
    )
    w.ok(
        {
            "type": "load",
            "actor": "hana",
            "firearm": "colt-2",
            "lot": "blank-45",
            "positions": [1, 2, 3],
            "scene": "sc-20",
            "shot": 1,
        }
    )


def _fired(w: Sim) -> int:
    return w.state.lots["blank-45"].counts.fired


@pytest.mark.parametrize("actor", ["dave", "lee", "alec", "jensen", "maria"])
def test_nobody_but_holder_or_handler_records_a_discharge(western_sim: Sim, actor: str) -> None:
    """The 1st AD, the safety contact, another performer and the producer cannot record a
    discharge of the firearm Frances holds: rejected as wrong-role, the attempt is kept in
    the log, no round is marked fired, and the reason names the holder in plain words."""
    w = western_sim
    _issued_and_loaded(w)
    size = w.state.size
    d = w.run({"type": "discharge", "actor": actor, "firearm": "colt-2", "positions": [1]})
    assert d.status == "rejected" and d.error_kind == "wrong-role"
    assert d.entry is not None and d.entry["outcome"] == "rejected" and not d.events
    assert w.state.size == size + 1 and _fired(w) == 0
    assert w.state.firearms["colt-2"].chambers[0] is not None
    assert not w.state.firearms["colt-2"].chambers[0].spent
    msg = d.error or ""
    assert msg.startswith("Only Frances Fisher-Kahn, who holds colt-2, or a handler")
    assert "can record its discharge" in msg and "report" in msg  # what to do instead


def test_the_holder_records_their_discharge(western_sim: Sim) -> None:
    """The performer holding the firearm records the rounds they fired."""
    w = western_sim
    _issued_and_loaded(w)
    w.ok({"type": "discharge", "actor": "frances", "firearm": "colt-2", "positions": [1, 2]})
    assert _fired(w) == 2


@pytest.mark.parametrize("handler", ["hana", "sam"])
def test_a_handler_records_a_discharge_of_a_firearm_a_performer_holds(
    western_sim: Sim, handler: str
) -> None:
    """The armorer or the assistant armorer records the discharge for the performer."""
    w = western_sim
    _issued_and_loaded(w)
    w.ok({"type": "discharge", "actor": handler, "firearm": "colt-2", "positions": [3]})
    assert _fired(w) == 1
    assert fold(w.entries) == w.state


def test_after_collect_the_former_holder_is_refused_naming_the_armorer(western_sim: Sim) -> None:
    """Once the armorer has collected the firearm, the performer who had it no longer
    records its discharge, nor does the 1st AD: the reason names the armorer."""
    w = western_sim
    _issued_and_loaded(w)
    w.ok({"type": "collect", "actor": "hana", "firearm": "colt-2"})
    for actor in ("frances", "dave"):
        d = w.run({"type": "discharge", "actor": actor, "firearm": "colt-2", "positions": [1]})
        assert d.error_kind == "wrong-role", actor
        assert (d.error or "").startswith("Only Hana Reyes, who holds colt-2, or a handler")
    assert _fired(w) == 0


def test_a_firearm_in_a_container_is_nobodys_to_fire(western_sim: Sim) -> None:
    """A locked-away firearm has no holder: a non-handler is refused (wrong-role, saying
    nobody holds it); a handler gets the usual stale-state answer (unlock it first)."""
    w = western_sim
    d = w.run({"type": "discharge", "actor": "dave", "firearm": "colt-1", "positions": [1]})
    assert d.error_kind == "wrong-role"
    assert "nobody holds colt-1" in (d.error or "")
    d = w.run({"type": "discharge", "actor": "hana", "firearm": "colt-1", "positions": [1]})
    assert d.error_kind == "stale-state"


# ------------------------------------------------------------------ the same hole: inspect


def test_a_performer_cannot_record_the_barrel_check_of_the_firearm_they_hold(
    western_sim: Sim,
) -> None:
    """An inspection is the handler's record: the barrel check that blanks after dummies
    need (barrel-check-before-blanks) and the check a quarantined firearm needs before
    release (misfire-quarantine). A performer holding the firearm cannot record one
    (wrong-role, recorded, no inspection on record); the handler holding it can."""
    w = western_sim
    _issued_and_loaded(w)
    before = w.state.firearms["colt-2"].last_inspection
    d = w.run(
        {
            "type": "inspect",
            "actor": "frances",
            "firearm": "colt-2",
            "chambers": ["blank"] * 3 + ["empty"] * 3,
            "barrel_clear": True,
            "function_check": True,
        }
    )
    assert d.status == "rejected" and d.error_kind == "wrong-role"
    assert d.entry is not None and not d.events
    assert (d.error or "").startswith("Only a handler")
    assert "Frances Fisher-Kahn" in (d.error or "")
    assert w.state.firearms["colt-2"].last_inspection == before
    w.ok({"type": "collect", "actor": "hana", "firearm": "colt-2"})
    w.ok(
        {
            "type": "inspect",
            "actor": "hana",
            "firearm": "colt-2",
            "chambers": ["blank"] * 3 + ["empty"] * 3,
            "barrel_clear": True,
        }
    )
