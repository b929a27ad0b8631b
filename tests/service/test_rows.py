"""Projection rows are upserted: a changed row is replaced in place, a new one inserted,
one the state no longer has deleted; the other rows of the table are untouched."""

from __future__ import annotations

from sqlalchemy import select

from coldset.service.core import CustodyService
from coldset.service.rows import _replace
from coldset.store.custody_schema import custody_records


def _rows(svc: CustodyService) -> dict[str, str]:
    with svc.store.read() as conn:
        return {r.id: r.detail for r in conn.execute(
            select(custody_records.c.id, custody_records.c.detail)
            .where(custody_records.c.production == "p", custody_records.c.kind == "unit"))}


def test_replace_upserts_inserts_and_deletes(service: CustodyService) -> None:
    def key(i: str) -> dict[str, str]:
        return {"production": "p", "kind": "unit", "id": i}

    with service.store.write() as conn:
        _replace(conn, custody_records, [key("a"), key("b"), key("c")],
                 [{**key(i), "detail": f"{i}-1"} for i in "abc"])
    assert _rows(service) == {"a": "a-1", "b": "b-1", "c": "c-1"}
    with service.store.write() as conn:     # a changed, b gone, d new; c not named
        _replace(conn, custody_records, [key("a"), key("b"), key("d")],
                 [{**key("a"), "detail": "a-2"}, {**key("d"), "detail": "d-1"}])
    assert _rows(service) == {"a": "a-2", "c": "c-1", "d": "d-1"}
