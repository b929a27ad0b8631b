"""Property: after any command sequence, rebuilding from the log equals the incremental state."""

from __future__ import annotations

import random
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coldset.domain.events import parse_entry
from coldset.domain.projection import fold
from coldset.domain.sample import FIREARMS, LOTS, PRODUCTION, western
from tests.domain.conftest import DAY, PINS, unbalanced_books

from .conftest import cmd, make_service
from .test_service import snapshot

FIDS = [f["firearm"] for f in FIREARMS]
LIDS = [lot["lot"] for lot in LOTS]
PERFORMERS = ["alec", "jensen", "frances"]
HANDLERS = ["hana", "sam"]
CONTAINERS = ["safe-main", "safe-second", "cart-main"]
KINDS = [
    "unlock",
    "lock",
    "inspect",
    "issue",
    "collect",
    "transfer",
    "load",
    "discharge",
    "unload",
    "misfire",
    "live",
    "stop",
    "clear",
    "concern",
    "meal",
    "reconcile",
    "wrong_pin",
    "consent",
    "checkout",
]


def make(kind: str, seed: int) -> dict[str, Any]:
    r = random.Random(seed)
    h, f, p = r.choice(HANDLERS), r.choice(FIDS), r.choice(PERFORMERS)
    conf = [{"person": p, "pin": PINS[p]}]
    if kind == "unlock":
        return cmd("unlock_container", h, container=r.choice(CONTAINERS))
    if kind == "lock":
        return cmd("lock_container", h, container=r.choice(CONTAINERS))
    if kind == "inspect":
        cap = next(x["capacity"] for x in FIREARMS if x["firearm"] == f)
        return cmd(
            "inspect",
            h,
            firearm=f,
            chambers=["empty"] * cap,
            barrel_clear=r.random() < 0.8,
            confirmations=conf,
        )
    if kind == "issue":
        return cmd(
            "issue",
            h,
            firearm=f,
            to=p,
            scene=r.choice(["sc-12", "sc-14", "sc-20"]),
            confirmations=conf,
        )
    if kind == "collect":
        return cmd("collect", h, firearm=f)
    if kind == "transfer":
        return cmd("transfer", r.choice([h, p]), firearm=f, to=r.choice(HANDLERS + PERFORMERS))
    if kind == "load":
        return cmd(
            "load",
            h,
            firearm=f,
            lot=r.choice(LIDS),
            positions=sorted(r.sample(range(1, 7), r.randint(1, 3))),
        )
    if kind == "discharge":
        return cmd("discharge", h, firearm=f, positions=[r.randint(1, 6)])
    if kind == "unload":
        return cmd("unload", h, firearm=f, container=r.choice([None, "safe-main"]) or None)
    if kind == "misfire":
        return cmd("report_incident", p, kind="misfire", firearm=f, description="click")
    if kind == "live":
        return cmd("report_live_round", p, lot=r.choice(LIDS), description="found one")
    if kind == "stop":
        return cmd("call_stop_work", p, reason="smoke", unit=r.choice([None, "main"]))
    if kind == "clear":
        return cmd(
            "clear_stop_work",
            h,
            stop_work=f"sw-{r.randint(60, 90)}",
            note="checked",
            confirmations=[{"person": "lee", "pin": PINS["lee"]}],
        )
    if kind == "concern":
        return cmd("raise_concern", r.choice(["anonymous", p]), text="worried")
    if kind == "meal":
        return cmd(r.choice(["start_meal_break", "end_meal_break"]), "dave", unit="main")
    if kind == "reconcile":
        return cmd(
            "reconcile_counts",
            h,
            lot=r.choice(LIDS),
            counted=r.randint(40, 100),
            explanation=r.choice(["", "miscount"]),
            confirmations=[{"person": "lee", "pin": PINS["lee"]}],
        )
    if kind == "wrong_pin":
        return cmd("issue", h, firearm=f, to=p, confirmations=[{"person": p, "pin": "0000"}])
    if kind == "consent":
        wt = r.choice(["single_action_revolver", "lever_action", "shotgun"])
        return cmd(r.choice(["withdraw_consent", "record_consent"]), p, performer=p, weapon_type=wt)
    return cmd("check_out", h, unit=r.choice(["main", "second"]))


def _strip_none(c: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in c.items() if v is not None}


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(
            st.sampled_from(KINDS), st.integers(0, 10_000), st.booleans(), st.integers(0, 20)
        ),
        min_size=1,
        max_size=40,
    )
)
def test_rebuild_equals_incremental_state(steps: list[tuple[str, int, bool, int]]) -> None:
    """Random command sequences (single and batched): rebuild == incremental, rows and state."""
    with tempfile.TemporaryDirectory() as d:
        svc = make_service(Path(d) / "p.sqlite")
        try:
            svc.execute_batch(western(DAY, PINS))
            batch: list[dict[str, Any]] = []
            for kind, seed, batched, minutes in steps:
                svc.clock.advance(minutes=minutes)  # type: ignore[attr-defined]
                c = _strip_none(make(kind, seed))
                if batched:
                    batch.append(c)
                    continue
                if batch:
                    svc.execute_batch(batch)
                    batch = []
                svc.execute(c)
            if batch:
                svc.execute_batch(batch)
            incremental_rows = snapshot(svc)
            incremental = svc.state(PRODUCTION)
            with svc.store.read() as conn:
                entries = [
                    parse_entry(x) for _i, x in svc.ledger.entries(conn, svc.origin(PRODUCTION))
                ]
            assert fold(entries) == incremental
            assert unbalanced_books(incremental) == []
            assert svc.rebuild(PRODUCTION) == incremental
            assert snapshot(svc) == incremental_rows
        finally:
            svc.store.dispose()
