"""Counts and custody order as they are stored: projection rows and rebuild agree."""

from __future__ import annotations

import json

from sqlalchemy import select

from coldset.domain.sample import PRODUCTION
from coldset.service import CustodyService
from coldset.store.custody_schema import custody_lots

from .conftest import cmd, pin
from .test_service import snapshot


def _lot_row(svc: CustodyService, lot: str) -> dict[str, object]:
    with svc.store.read() as conn:
        row = conn.execute(
            select(custody_lots).where(
                custody_lots.c.production == PRODUCTION, custody_lots.c.id == lot
            )
        ).one()
    return dict(row._mapping)


def test_resolved_count_keeps_the_stored_books_straight(western_service: CustodyService) -> None:
    """After a resolved shortfall the stored where_json adds up to the stored expected stock,
    and a rebuild from the log writes the same rows."""
    svc = western_service
    r = svc.execute(
        cmd(
            "reconcile_counts",
            "hana",
            lot="blank-45",
            counted=93,
            explanation="7 fired in rehearsal, not logged",
            confirmations=[pin("lee")],
        )
    )
    assert r.ok, r.error
    row = _lot_row(svc, "blank-45")
    where = json.loads(str(row["where_json"]))
    assert row["expected_stock"] == 93 and row["discrepancy"] == 0
    assert sum(where.values()) == 93 and where == {"container:safe-main": 93}
    before = snapshot(svc)
    svc.rebuild(PRODUCTION)
    assert snapshot(svc) == before


def test_lot_rows_carry_the_last_movement_and_count(western_service: CustodyService) -> None:
    """The stored lot detail shows when the lot last moved and was last counted, and the
    wrap refusal for an uncounted lot is recorded."""
    svc = western_service
    steps = [
        cmd(
            "hold_safety_meeting",
            "dave",
            shoot_day="day-1",
            scene="sc-20",
            attendees=["frances", "alec", "dave", "hana", "lee"],
        ),
        cmd("unlock_container", "hana", container="safe-main"),
        cmd("load", "hana", firearm="colt-2", lot="blank-45", positions=[1], scene="sc-20", shot=1),
        cmd("unload", "hana", firearm="colt-2"),
        cmd("lock_container", "hana", container="safe-main"),
    ]
    for c in steps:
        svc.clock.advance(seconds=5)  # type: ignore[attr-defined]
        r = svc.execute(c)
        assert r.ok, (c["type"], r.error)
    detail = json.loads(str(_lot_row(svc, "blank-45")["detail"]))
    assert detail["moved_at"] and detail["reconciled_at"] < detail["moved_at"]
    r = svc.execute(cmd("wrap_day", "dave", shoot_day="day-1"))
    assert not r.ok and "round-accounting" in {v["rule"] for v in r.verdicts}
    svc.clock.advance(seconds=5)  # type: ignore[attr-defined]
    assert svc.execute(cmd("reconcile_counts", "hana", lot="blank-45", counted=100)).ok
    detail = json.loads(str(_lot_row(svc, "blank-45")["detail"]))
    assert detail["reconciled_at"] > detail["moved_at"]
    assert svc.execute(cmd("wrap_day", "dave", shoot_day="day-1")).ok
    before = snapshot(svc)
    svc.rebuild(PRODUCTION)
    assert snapshot(svc) == before
