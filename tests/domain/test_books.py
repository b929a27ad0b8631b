"""The round books: rounds per place (``Lot.where``) always add up to the expected stock.

``Sim`` checks :func:`unbalanced_books` after every entry of every domain test; the
property test below drives random handling sequences (with counts, resolved and not)
through the real pipeline and checks it after each step.
"""

from __future__ import annotations

import random
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coldset.domain.projection import fold
from coldset.domain.sample import FIREARMS, LOTS

from .conftest import DAY, PINS, Sim, unbalanced_books
from .rules import ok, pin, take_out


def _expected(w: Sim, lot: str) -> int:
    return w.state.lots[lot].counts.expected_stock


def test_resolved_shortfall_comes_off_the_books(western_sim: Sim) -> None:
    """5 blanks missing, explained and confirmed: expected stock 95, and the places hold 95."""
    w = western_sim
    ok(w, {"type": "reconcile_counts", "actor": "hana", "lot": "blank-45", "counted": 95})
    assert w.state.lots["blank-45"].where == {"container:safe-main": 100}  # not resolved
    d = ok(
        w,
        {
            "type": "reconcile_counts",
            "actor": "hana",
            "lot": "blank-45",
            "counted": 95,
            "explanation": "5 fired in the sc-20 rehearsal, not logged",
            "confirmations": [pin("lee")],
        },
    )
    lot = w.state.lots["blank-45"]
    assert lot.discrepancy == 0 and lot.counts.expected_stock == 95
    assert lot.where == {"container:safe-main": 95}
    (e,) = d.events
    assert e["where_delta"] == {"container:safe-main": -5} and e["by"] == "hana"
    assert not unbalanced_books(w.state)


def test_shortfall_is_booked_where_rounds_are_handled_first(western_sim: Sim) -> None:
    """Rounds in the handler's hand are written off before the locked safe's."""
    w = western_sim
    take_out(w, keep={"blank-45": 3})
    assert w.state.lots["blank-45"].where == {"container:safe-main": 97, "person:hana": 3}
    ok(
        w,
        {
            "type": "reconcile_counts",
            "actor": "hana",
            "lot": "blank-45",
            "counted": 96,
            "explanation": "4 short at the count",
            "confirmations": [pin("lee")],
        },
    )
    assert w.state.lots["blank-45"].where == {"container:safe-main": 96}
    assert _expected(w, "blank-45") == 96


def test_resolved_surplus_goes_on_the_books(western_sim: Sim) -> None:
    """2 rounds too many: they are added where the lot's stock is."""
    w = western_sim
    ok(
        w,
        {
            "type": "reconcile_counts",
            "actor": "hana",
            "lot": "dummy-45",
            "counted": 52,
            "explanation": "supplier packed 52",
            "confirmations": [pin("lee")],
        },
    )
    assert w.state.lots["dummy-45"].where == {"container:safe-main": 52}
    assert _expected(w, "dummy-45") == 52
    assert fold(w.entries) == w.state


# ------------------------------------------------------------------ property

LIDS = [lot["lot"] for lot in LOTS]
CONTAINERS = ["safe-main", "safe-second", "cart-main"]
#: (firearm, its handler, scene, shot, lot of the plan, performer, its container)
PLAYS = [
    ("colt-1", "hana", "sc-12", 2, "dummy-45", "alec", "safe-main"),
    ("colt-2", "hana", "sc-20", 1, "blank-45", "frances", "safe-main"),
    ("win-1", "sam", "sc-14", 1, "blank-4440", "jensen", "safe-second"),
]
#: handling steps come often, incidents (which stop work) rarely; "cycle" is a whole
#: handoff (unlock, show clear, issue, load, fire, collect, unload, lock) with steps left out
KINDS = [
    "unlock",
    "lock",
    "inspect",
    "issue",
    "collect",
    "load",
    "discharge",
    "unload",
    "reconcile",
    "resolve",
    "return_lot",
    "meal",
    "cycle",
    "cycle",
] * 3 + ["live", "misfire", "clear"]


def _steps(kind: str, seed: int, w: Sim) -> list[dict[str, Any]]:
    if kind != "cycle":
        return [_step(kind, seed, w)]
    r = random.Random(seed)
    play = r.choice(PLAYS)
    return [
        _step(k, r.randint(0, 10_000), w, play)
        for k in ("unlock", "inspect", "issue", "load", "discharge", "collect", "unload", "lock")
        if r.random() < 0.9
    ]


def _step(
    kind: str, seed: int, w: Sim, play: tuple[str, str, str, int, str, str, str] | None = None
) -> dict[str, Any]:
    r = random.Random(seed)
    f, h, scene, shot, lid, p, home = play or r.choice(PLAYS)
    if r.random() < 0.2:
        lid = r.choice(LIDS)
    box = r.choice([None, None, home])
    if kind == "unlock":
        return {"type": "unlock_container", "actor": h, "container": home}
    if kind == "lock":
        return {
            "type": "lock_container",
            "actor": h,
            "container": home if play else r.choice(CONTAINERS),
        }
    if kind == "inspect":
        cap = next(x["capacity"] for x in FIREARMS if x["firearm"] == f)
        return {
            "type": "inspect",
            "actor": h,
            "firearm": f,
            "chambers": ["empty"] * cap,
            "barrel_clear": True,
            "confirmations": [pin(p), pin("dave")],
        }
    if kind == "issue":
        return {
            "type": "issue",
            "actor": h,
            "firearm": f,
            "to": p,
            "scene": scene,
            "confirmations": [pin(p)],
        }
    if kind == "collect":
        return {"type": "collect", "actor": h, "firearm": f}
    if kind == "load":
        return {
            "type": "load",
            "actor": h,
            "firearm": f,
            "lot": lid,
            "container": box,
            "positions": sorted(r.sample(range(1, 7), r.randint(1, 3))),
            "scene": scene,
            "shot": shot,
        }
    if kind == "discharge":
        return {
            "type": "discharge",
            "actor": h,
            "firearm": f,
            "positions": [r.randint(1, 6)],
            "scene": scene,
            "shot": shot,
        }
    if kind == "unload":
        return {"type": "unload", "actor": h, "firearm": f, "container": box}
    if kind in ("reconcile", "resolve"):
        stock = w.state.lots[lid].counts.expected_stock
        counted = stock if r.random() < 0.5 else max(0, stock + r.randint(-8, 8))
        extra: dict[str, Any] = (
            {"explanation": "recount", "confirmations": [pin("lee")]} if kind == "resolve" else {}
        )
        return {
            "type": "reconcile_counts",
            "actor": "hana",
            "lot": lid,
            "counted": counted,
            **extra,
        }
    if kind == "return_lot":
        return {
            "type": "return_lot",
            "actor": h,
            "lot": lid,
            "count": r.randint(1, 10),
            "recipient": "Stembridge",
            "container": box,
        }
    if kind == "clear":
        sw = sorted(w.state.open_stop_works(), key=lambda x: x.id)
        if sw:
            return {
                "type": "clear_stop_work",
                "actor": "hana",
                "stop_work": sw[0].id,
                "note": "checked",
                "confirmations": [pin("lee")],
            }
        kind = "live"
    if kind == "live":
        return {"type": "report_live_round", "actor": p, "lot": lid, "description": "shiny"}
    if kind == "misfire":
        return {
            "type": "report_incident",
            "actor": p,
            "kind": "misfire",
            "firearm": f,
            "description": "click",
        }
    return {
        "type": r.choice(["start_meal_break", "end_meal_break"]),
        "actor": "dave",
        "unit": "main",
    }


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(st.sampled_from(KINDS), st.integers(0, 10_000), st.integers(0, 40)),
        min_size=1,
        max_size=40,
    )
)
def test_books_balance_after_any_sequence(steps: list[tuple[str, int, int]]) -> None:
    """After every step of a random handling sequence (counts resolved or not, rounds taken
    out and put back, fired, returned to the supplier): sum(where) == expected stock, and
    sum(where) + unfired rounds in chambers == expected stock + rounds in firearms."""
    from coldset.domain.sample import western

    w = Sim()
    for c in western(DAY, PINS):
        w.ok(c)
    for kind, seed, seconds in steps:
        for cmd in _steps(kind, seed, w):
            w.clock.advance(seconds=seconds)
            w.run({k: v for k, v in cmd.items() if v is not None})
            assert not unbalanced_books(w.state)  # (Sim checks it after each entry too)
    assert fold(w.entries) == w.state
