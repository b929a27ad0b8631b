"""Projection rows are upserted: a changed row is replaced in place, a new one inserted,
one the state no longer has deleted; the other rows of the table are untouched."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from sqlalchemy import select

from coldset.service.core import CustodyService
from coldset.service.rows import _j, _replace, _tree
from coldset.store.custody_schema import custody_records


def _rows(svc: CustodyService) -> dict[str, str]:
    with svc.store.read() as conn:
        return {
            r.id: r.detail
            for r in conn.execute(
                select(custody_records.c.id, custody_records.c.detail).where(
                    custody_records.c.production == "p", custody_records.c.kind == "unit"
                )
            )
        }


def test_replace_upserts_inserts_and_deletes(service: CustodyService) -> None:
    def key(i: str) -> dict[str, str]:
        return {"production": "p", "kind": "unit", "id": i}

    with service.store.write() as conn:
        _replace(
            conn,
            custody_records,
            [key("a"), key("b"), key("c")],
            [{**key(i), "detail": f"{i}-1"} for i in "abc"],
        )
    assert _rows(service) == {"a": "a-1", "b": "b-1", "c": "c-1"}
    with service.store.write() as conn:  # a changed, b gone, d new; c not named
        _replace(
            conn,
            custody_records,
            [key("a"), key("b"), key("d")],
            [{**key("a"), "detail": "a-2"}, {**key("d"), "detail": "d-1"}],
        )
    assert _rows(service) == {"a": "a-2", "c": "c-1", "d": "d-1"}


def test_tree_encodes_as_asdict_does(western_service: CustodyService) -> None:
    """The rows' JSON from ``_tree`` is the text ``asdict`` gave, for every record of the
    sample western (people with credentials, training and consent; scenes with plans;
    lots, containers, firearms, inspections)."""
    state = western_service.state("dusty-trail")
    seen = 0
    for value in vars(state).values():
        if not isinstance(value, Mapping):
            continue
        for obj in value.values():
            if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
                assert _j(_tree(obj)) == _j(dataclasses.asdict(obj)), obj
                seen += 1
    assert seen > 30
    odd = _Holder(tags={"b", "a", "c"}, pair=(1, [2, {"k": (3,)}]), inner=_Holder())
    assert _j(_tree(odd)) == _j(dataclasses.asdict(odd))


@dataclasses.dataclass(frozen=True)
class _Holder:
    tags: frozenset[str] | set[str] = frozenset()
    pair: tuple[object, ...] = ()
    inner: object = None
