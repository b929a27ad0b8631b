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
        row = conn.execute(select(custody_lots).where(
            custody_lots.c.production == PRODUCTION, custody_lots.c.id == lot)).one()
    return dict(row._mapping)


def test_resolved_count_keeps_the_stored_books_straight(
        western_service: CustodyService) -> None:
    """After a resolved shortfall the stored where_json adds up to the stored expected stock,
    and a rebuild from the log writes the same rows."""
    svc = western_service
    r = svc.execute(cmd("reconcile_counts", "hana", lot="blank-45", counted=93,
                        explanation="7 fired in rehearsal, not logged",
                        confirmations=[pin("lee")]))
    assert r.ok, r.error
    row = _lot_row(svc, "blank-45")
    where = json.loads(str(row["where_json"]))
    assert row["expected_stock"] == 93 and row["discrepancy"] == 0
    assert sum(where.values()) == 93 and where == {"container:safe-main": 93}
    before = snapshot(svc)
    svc.rebuild(PRODUCTION)
    assert snapshot(svc) == before
