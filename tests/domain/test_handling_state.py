"""State checks of the handling commands (``stale-state``), after the rules have passed.

Containers: rounds never come out of or go into a locked container; a handler
unlocks it first (its contents pass into their custody). Quarantine: nothing is
loaded into a quarantined firearm or from a quarantined lot, whatever the rules say.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from coldset.domain import commands as c
from coldset.domain.decide import Rejection, events_for

from .conftest import PRODUCTION, Sim
from .rules import ok, run, take_out


def _load(**fields: Any) -> dict[str, Any]:
    return {
        "type": "load",
        "actor": "hana",
        "firearm": "colt-1",
        "lot": "dummy-45",
        "positions": [1, 2],
        "scene": "sc-12",
        "shot": 2,
        **fields,
    }


def _stale(d: Any, *words: str) -> None:
    assert d.status == "rejected" and d.error_kind == "stale-state", (d.status, d.error)
    for w in words:
        assert w in (d.error or ""), (w, d.error)


# ------------------------------------------------------------------ locked containers


def test_load_from_a_locked_container_is_stale(western_sim: Sim) -> None:
    """Loading with container= a locked safe is refused as stale state; nothing moves."""
    w = western_sim
    take_out(w)  # colt-1 out, the safe locked again
    before = dict(w.state.lots["dummy-45"].where)
    assert w.state.containers["safe-main"].locked and before == {"container:safe-main": 50}
    d = run(w, _load(container="safe-main"))
    _stale(d, "safe-main is locked", "Unlock it first")
    assert d.entry is not None and d.entry["events"] == []  # recorded, nothing done
    assert w.state.lots["dummy-45"].where == before
    assert w.state.firearms["colt-1"].chambers == (None,) * 6


def test_load_after_unlocking_comes_from_the_handlers_hand(western_sim: Sim) -> None:
    """Unlocking moves the rounds into the handler's custody; the load takes them from there."""
    w = western_sim
    take_out(w, keep={"dummy-45": 2})
    ok(w, _load())
    assert w.state.lots["dummy-45"].where == {"container:safe-main": 48}


def test_unload_into_a_locked_container_is_stale(western_sim: Sim) -> None:
    """Unloading into a locked safe is refused; into an open one it passes, and locking the
    safe secures those rounds."""
    w = western_sim
    take_out(w, keep={"dummy-45": 2})
    ok(w, _load())
    d = run(w, {"type": "unload", "actor": "hana", "firearm": "colt-1", "container": "safe-main"})
    _stale(d, "safe-main is locked")
    assert w.state.firearms["colt-1"].loaded
    assert w.state.lots["dummy-45"].where == {"container:safe-main": 48}
    ok(w, {"type": "unlock_container", "actor": "hana", "container": "safe-main"})
    ok(w, {"type": "unload", "actor": "hana", "firearm": "colt-1", "container": "safe-main"})
    assert w.state.lots["dummy-45"].where == {"person:hana": 48, "container:safe-main": 2}
    ok(w, {"type": "lock_container", "actor": "hana", "container": "safe-main"})
    assert w.state.lots["dummy-45"].where == {"container:safe-main": 50}
    assert w.state.unsecured_rounds() == {}


def test_return_lot_from_a_locked_container_is_stale(western_sim: Sim) -> None:
    """Returning rounds to the supplier takes them out of a container too: unlock first."""
    w = western_sim
    cmd = {
        "type": "return_lot",
        "actor": "hana",
        "lot": "blank-45",
        "count": 10,
        "recipient": "Stembridge Gun Rentals",
        "container": "safe-main",
    }
    _stale(run(w, cmd), "safe-main is locked")
    assert w.state.lots["blank-45"].counts.disposed == 0
    ok(w, {"type": "unlock_container", "actor": "hana", "container": "safe-main"})
    ok(w, {**cmd, "container": None})
    assert w.state.lots["blank-45"].where == {"person:hana": 90}


# ------------------------------------------------------------------ quarantine


def _load_events(w: Sim, **fields: Any) -> list[Any]:
    """The state check alone (the rules are not run): the load's events, or Rejection."""
    cmd = c.parse_command({"production": PRODUCTION, **_load(**fields)})
    return events_for(w.state, cmd, "2025-03-03T15:30:00Z", w.state.size)


@pytest.mark.parametrize("subject", ["firearm", "lot"])
def test_state_check_refuses_loading_a_quarantined_firearm_or_lot(
    western_sim: Sim, subject: str
) -> None:
    """Even if no rule caught it, the state check refuses a quarantined firearm or lot."""
    w = western_sim
    take_out(w, keep={"dummy-45": 2})
    assert _load_events(w)  # loadable as it stands
    if subject == "firearm":
        w.state.firearms = w.state.firearms.set(
            "colt-1", replace(w.state.firearms["colt-1"], quarantined=True)
        )
    else:
        w.state.lots = w.state.lots.set(
            "dummy-45", replace(w.state.lots["dummy-45"], quarantined=True)
        )
    with pytest.raises(Rejection) as err:
        _load_events(w)
    assert err.value.kind == "stale-state"
    assert "quarantined" in err.value.message and "release it" in err.value.message


def test_misfire_quarantined_firearm_is_not_loaded(western_sim: Sim) -> None:
    """Through the pipeline: a firearm quarantined after a misfire stays unloadable until it
    is released, with the stop-work cleared."""
    w = western_sim
    take_out(w, keep={"dummy-45": 2})
    ok(
        w,
        {
            "type": "report_incident",
            "actor": "hana",
            "kind": "misfire",
            "firearm": "colt-1",
            "description": "click, no bang",
        },
    )
    assert w.state.firearms["colt-1"].quarantined
    d = run(w, _load())
    assert d.status in ("refused", "rejected")
    assert not w.state.firearms["colt-1"].loaded
