"""Taking items out of and putting them into a container (issue 10, "flows that fight the
crew"): an open container is not custody of its contents. The armorer opens the safe
leaving the contents inside, takes one revolver out and relocks; everything else stays
locked away, and ``ammo-secured`` says nothing about rounds nobody moved."""

from __future__ import annotations

from typing import Any

from coldset.domain.events import EVENTS, entry_bytes, parse_entry

from .conftest import Sim
from .rules import ok, run


def _open(w: Sim, **kw: Any) -> None:
    ok(
        w,
        {
            "type": "unlock_container",
            "actor": "hana",
            "container": "safe-main",
            "leave_inside": True,
            **kw,
        },
    )


def _alerts(w: Sim) -> list[str]:
    d = ok(w, {"type": "check_alerts", "actor": "lee"})
    return [v.rule for v in d.verdicts]


def test_take_one_revolver_out_and_relock(western_sim: Sim) -> None:
    """Open leaving the contents inside, take colt-1, lock: colt-1 is in the armorer's
    hands, colt-2 and every round are locked away, nothing is loose."""
    w = western_sim
    rounds_before = {lid: dict(lot.where) for lid, lot in w.state.lots.items()}
    _open(w)
    assert w.state.firearms["colt-1"].custody.kind == "container"
    assert w.state.held_by("hana") == []
    ok(
        w,
        {
            "type": "take_from_container",
            "actor": "hana",
            "container": "safe-main",
            "firearms": ["colt-1"],
        },
    )
    assert w.state.held_by("hana") == ["colt-1"]
    ok(w, {"type": "lock_container", "actor": "hana", "container": "safe-main"})
    st = w.state
    assert st.held_by("hana") == ["colt-1"]  # nothing named: what was taken out stays out
    assert st.containers["safe-main"].locked
    assert "colt-2" in st.containers["safe-main"].firearms
    assert "colt-1" not in st.containers["safe-main"].firearms
    assert st.firearms["colt-2"].custody.kind == "container"
    assert {lid: dict(lot.where) for lid, lot in st.lots.items()} == rounds_before
    assert st.unsecured_rounds() == {}
    w.clock.advance(minutes=30)
    assert "ammo-secured" not in _alerts(w)


def test_the_old_open_still_takes_everything(western_sim: Sim) -> None:
    """Without leave_inside, opening hands everything to the opener as before; relocking
    with only colt-2 leaves the rounds in the armorer's hands, and after the grace period
    ammo-secured fires (the flow the crew fought with)."""
    w = western_sim
    ok(w, {"type": "unlock_container", "actor": "hana", "container": "safe-main"})
    assert "colt-1" in w.state.held_by("hana")
    ok(
        w,
        {
            "type": "lock_container",
            "actor": "hana",
            "container": "safe-main",
            "firearms": ["colt-2"],
            "rounds": {},
        },
    )
    assert w.state.unsecured_rounds() != {}
    w.clock.advance(minutes=30)
    assert "ammo-secured" in _alerts(w)


def test_an_open_container_left_open_is_not_secured(western_sim: Sim) -> None:
    """The other way: rounds left in a container that stays open are loose, and
    ammo-secured alerts after the grace period (an open container secures nothing)."""
    w = western_sim
    _open(w)
    w.clock.advance(minutes=30)
    assert "ammo-secured" in _alerts(w)


def test_put_in_then_lock(western_sim: Sim) -> None:
    """Put a firearm and rounds back into the open container, then lock: all locked away."""
    w = western_sim
    _open(w)
    ok(
        w,
        {
            "type": "take_from_container",
            "actor": "hana",
            "container": "safe-main",
            "firearms": ["colt-1"],
            "rounds": {"dummy-45": 6},
        },
    )
    assert w.state.lots["dummy-45"].where.get("person:hana") == 6
    ok(
        w,
        {
            "type": "put_in_container",
            "actor": "hana",
            "container": "safe-main",
            "firearms": ["colt-1"],
            "rounds": {"dummy-45": 6},
        },
    )
    assert not w.state.lots["dummy-45"].where.get("person:hana")
    ok(w, {"type": "lock_container", "actor": "hana", "container": "safe-main", "firearms": []})
    assert w.state.held_by("hana") == [] and w.state.unsecured_rounds() == {}


def test_take_and_put_refuse_what_cannot_be(western_sim: Sim) -> None:
    """Taking from a locked container, taking what is not in it, more rounds than it
    holds, putting in what you do not hold, naming nothing, or a non-handler taking:
    each refused with a reason, and nothing changes."""
    w = western_sim
    take = {
        "type": "take_from_container",
        "actor": "hana",
        "container": "safe-main",
        "firearms": ["colt-1"],
    }
    before = w.state
    assert "locked" in (run(w, take).error or "")
    _open(w)
    opened = w.state
    for bad, words in [
        ({**take, "rounds": {"dummy-45": 10_000}}, "holds"),
        ({**take, "firearms": []}, "name the firearms"),
        ({**take, "firearms": ["colt-1", "colt-1"]}, "twice"),
        (
            {
                "type": "put_in_container",
                "actor": "hana",
                "container": "safe-main",
                "firearms": ["colt-1"],
            },
            "colt-1",
        ),
    ]:
        d = run(w, bad)
        assert d.status == "rejected" and words in (d.error or ""), (bad, d.error)
    d = run(w, {**take, "actor": "alec"})
    assert d.status != "allowed"
    assert w.state.firearms == opened.firearms and w.state.lots == opened.lots
    assert before.firearms["colt-1"].custody == w.state.firearms["colt-1"].custody


def test_old_unlock_entries_read_as_taking_everything(western_sim: Sim) -> None:
    """A container_unlocked event written before version 2 (no took_all) is upcast to
    took_all=True, so an old log folds as it did; a new one carries its version."""
    assert (
        EVENTS.current({"type": "container_unlocked", "container": "safe-main", "by": "hana"}, 1)[
            "took_all"
        ]
        is True
    )
    w = western_sim
    d = ok(
        w,
        {
            "type": "unlock_container",
            "actor": "hana",
            "container": "safe-main",
            "leave_inside": True,
        },
    )
    assert d.entry is not None
    e = d.entry["events"][0]
    assert e["v"] == 2 and e["took_all"] is False
    assert parse_entry(entry_bytes(d.entry))["events"][0]["took_all"] is False


def test_firearms_left_in_an_open_container_are_not_locked_away(western_sim: Sim) -> None:
    """A firearm left in an open container counts as out of lock-up (the board's "out"
    list, the meal-break checks), until the container is locked again."""
    w = western_sim
    locked = set(w.state.containers["safe-main"].firearms)
    assert not locked & set(w.state.firearms_out())
    _open(w)
    assert locked <= set(w.state.firearms_out())
    ok(w, {"type": "lock_container", "actor": "hana", "container": "safe-main"})
    assert not locked & set(w.state.firearms_out())
