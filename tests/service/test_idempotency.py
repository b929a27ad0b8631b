"""Idempotency keys in a batch: one lookup per production, the same answers as one by one."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from coldset.domain.sample import PRODUCTION
from coldset.service import CustodyService

from .conftest import cmd


def size(svc: CustodyService) -> int:
    with svc.store.read() as conn:
        return svc.ledger.size(conn, svc.origin(PRODUCTION))


@contextmanager
def idem_selects(service: CustodyService) -> Iterator[list[str]]:
    """The idempotency SELECTs SQLite itself runs (its trace callback: statements the
    writer sends on the driver's cursor bypass SQLAlchemy's events)."""
    seen: list[str] = []
    traced: list[Any] = []

    def trace(statement: str) -> None:
        if "custody_idempotency" in statement and statement.lstrip().upper().startswith("SELECT"):
            seen.append(statement)

    def on_begin(conn: Any) -> None:
        raw = conn.connection.driver_connection
        raw.set_trace_callback(trace)
        traced.append(raw)

    event.listen(service.store.engine, "begin", on_begin)
    try:
        yield seen
    finally:
        event.remove(service.store.engine, "begin", on_begin)
        for raw in traced:
            raw.set_trace_callback(None)


def unlock(container: str, key: str) -> dict[str, object]:
    return cmd("unlock_container", "hana", container=container, idempotency_key=key)


def test_every_case_in_one_batch(western_service: CustodyService) -> None:
    """Repeated in the batch, stored before, reused for another command, a fresh key."""
    svc = western_service
    stored = svc.execute(unlock("safe-main", "old"))
    assert stored.ok
    svc.execute(cmd("lock_container", "hana", container="safe-main"))
    n = size(svc)
    rs = svc.execute_batch(
        [
            unlock("safe-second", "k1"),  # new: decided and written
            unlock("safe-second", "k1"),  # same key, same command: the first result
            unlock("cart-main", "k1"),  # same key, other command: duplicate
            unlock("safe-main", "old"),  # stored key, same command: replayed
            cmd("lock_container", "hana", container="safe-main", idempotency_key="old"),
            cmd("lock_container", "hana", container="safe-second", idempotency_key="k2"),
        ]
    )
    assert rs[0].ok and not rs[0].replayed and rs[0].index == n
    assert rs[1].replayed and rs[1].index == n and rs[1].status == "allowed"
    assert rs[2].status == "rejected" and rs[2].error_kind == "duplicate"
    assert rs[3].replayed and rs[3].index == stored.index
    assert rs[4].error_kind == "duplicate"
    assert rs[5].ok and rs[5].index == n + 1
    assert size(svc) == n + 2
    # the keys of the batch are stored: a retry of the whole batch writes nothing
    again = svc.execute_batch(
        [
            unlock("safe-second", "k1"),
            cmd("lock_container", "hana", container="safe-second", idempotency_key="k2"),
        ]
    )
    assert [r.index for r in again] == [n, n + 1] and all(r.replayed for r in again)
    assert size(svc) == n + 2


def test_a_key_whose_command_wrote_nothing_is_not_taken(western_service: CustodyService) -> None:
    """A command rejected before the log (unknown id) does not claim its key."""
    svc = western_service
    rs = svc.execute_batch([unlock("no-such-safe", "k"), unlock("safe-main", "k")])
    assert rs[0].error_kind == "unknown-id" and rs[0].index is None
    assert rs[1].ok and not rs[1].replayed
    assert svc.execute(unlock("safe-main", "k")).replayed


def test_one_lookup_per_batch(western_service: CustodyService) -> None:
    svc = western_service
    svc.execute_batch(
        [
            unlock("safe-main", "a"),
            cmd("lock_container", "hana", container="safe-main", idempotency_key="b"),
        ]
    )
    batch = [
        unlock("safe-main", "a"),
        unlock("safe-second", "c"),
        unlock("safe-second", "c"),
        cmd("lock_container", "hana", container="safe-second", idempotency_key="d"),
        cmd("lock_container", "hana", container="safe-main", idempotency_key="b"),
    ]
    with idem_selects(svc) as seen:
        rs = svc.execute_batch(batch)
    assert len(seen) == 1
    assert [r.replayed for r in rs] == [True, False, True, False, True]
    with idem_selects(svc) as seen:
        svc.execute_batch([cmd("unlock_container", "hana", container="safe-main")])
    assert seen == []  # no keys, no lookup


def test_many_keys_in_one_batch(western_service: CustodyService) -> None:
    """More keys than one IN (...) takes are looked up in chunks with the same answers."""
    svc = western_service
    first = svc.execute_batch(
        [cmd("check_alerts", "hana", idempotency_key=f"k{i}") for i in range(1200)]
    )
    assert all(r.ok for r in first)
    n = size(svc)
    again = svc.execute_batch(
        [cmd("check_alerts", "hana", idempotency_key=f"k{i}") for i in range(1201)]
    )
    assert all(r.replayed for r in again[:1200])
    assert [r.index for r in again[:1200]] == [r.index for r in first]
    assert not again[1200].replayed and again[1200].index == n
