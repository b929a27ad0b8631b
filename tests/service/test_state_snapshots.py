"""``CustodyService.state()`` hands out immutable snapshots of committed state.

Pages and the API read the state from the threadpool, outside the service's lock, while
the writer runs commands. A reader therefore gets an object the writer never changes
again: iterating it cannot raise "dictionary changed size during iteration", it shows
one committed log size throughout, and a batch that fails is never visible in it.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert

from coldset.domain.events import parse_entry
from coldset.domain.projection import fold
from coldset.domain.sample import PRODUCTION
from coldset.domain.state import State
from coldset.service import CustodyService
from coldset.store.custody_schema import custody_timeline

from .conftest import cmd, make_service

#: The State fields that hold collections (every one a page may iterate).
COLLECTIONS = [
    f.name for f in fields(State) if f.name not in ("production", "size", "last_at", "dirty")
]


def receive(n: int) -> dict[str, object]:
    return cmd(
        "receive_firearm",
        "hana",
        firearm=f"snap-{n}",
        manufacturer="Colt",
        model="SAA",
        serial=f"S-{n}",
        firearm_type="single_action_revolver",
        caliber=".45 Colt",
        capacity=6,
        receipt_date="2025-03-01",
        receipt_source="Rentals",
        container="safe-main",
    )


def inspect(n: int) -> dict[str, object]:
    return cmd("inspect", "hana", firearm=f"snap-{n}", chambers=["empty"] * 6, barrel_clear=True)


def fingerprint(state: State) -> tuple[Any, ...]:
    """Everything in ``state``, read the way a page reads it (iterating every collection)."""
    out: list[Any] = [state.size, state.last_at, state.production]
    for name in COLLECTIONS:
        out.append((name, tuple(sorted(getattr(state, name).items(), key=lambda kv: kv[0]))))
    return tuple(out)


def committed(svc: CustodyService) -> list[dict[str, Any]]:
    with svc.store.read() as conn:
        return [parse_entry(data) for _i, data in svc.ledger.entries(conn, svc.origin(PRODUCTION))]


@pytest.fixture
def fast_switches() -> Iterator[None]:
    """Let threads switch often, so a reader is interrupted mid-iteration many times."""
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    yield
    sys.setswitchinterval(old)


def test_a_snapshot_does_not_change_when_a_command_commits(western_service: CustodyService) -> None:
    """A state read before a command is the same object, unchanged, after it; the next
    read shows the command."""
    svc = western_service
    assert svc.execute(cmd("unlock_container", "hana", container="safe-main")).ok
    before = svc.state(PRODUCTION)
    seen = fingerprint(before)
    assert svc.execute(receive(1)).ok
    assert fingerprint(before) == seen
    after = svc.state(PRODUCTION)
    assert after is not before and after.size == before.size + 1
    assert "snap-1" in after.firearms and "snap-1" not in before.firearms


def test_a_snapshot_cannot_be_changed_by_its_reader(western_service: CustodyService) -> None:
    """The collections a reader gets are read-only: a page cannot change them by accident."""
    state = western_service.state(PRODUCTION)
    colt = state.firearms["colt-1"]
    with pytest.raises(TypeError):
        state.firearms["colt-1"] = colt  # type: ignore[index]
    with pytest.raises((TypeError, AttributeError)):
        state.people.pop("hana")  # type: ignore[attr-defined]
    assert western_service.state(PRODUCTION).firearms["colt-1"] is colt


def test_another_process_appending_does_not_change_a_snapshot(
    western_service: CustodyService, tmp_path: Path
) -> None:
    """The web process's service catches up with what the writer process committed by
    building a new snapshot, never by folding into the one a page is reading."""
    writer = western_service
    reader = make_service(tmp_path / "coldset.sqlite")
    try:
        assert writer.execute(cmd("unlock_container", "hana", container="safe-main")).ok
        before = reader.state(PRODUCTION)
        seen = fingerprint(before)
        assert writer.execute(receive(1)).ok
        after = reader.state(PRODUCTION)
        assert after.size == before.size + 1 and "snap-1" in after.firearms
        assert fingerprint(before) == seen
    finally:
        reader.store.dispose()


def test_a_failed_batch_is_never_visible(western_service: CustodyService) -> None:
    """A batch that fails after it folded its entries (here its timeline row clashes with
    a row already in the table) leaves readers on the last committed snapshot."""
    svc = western_service
    assert svc.execute(cmd("unlock_container", "hana", container="safe-main")).ok
    assert svc.execute(receive(1)).ok
    before = svc.state(PRODUCTION)
    seen = fingerprint(before)
    with svc.store.write() as conn:  # a row where the inspection's own row will go
        conn.execute(
            insert(custody_timeline).values(
                production=PRODUCTION,
                firearm="snap-1",
                idx=before.size + 1,
                at=before.last_at,
                actor="hana",
                command="planted",
                outcome="allowed",
                rules="[]",
                summary="",
            )
        )
    with pytest.raises(Exception, match="UNIQUE|unique|duplicate"):
        svc.execute_batch([receive(2), inspect(1)])
    assert fingerprint(before) == seen
    now = svc.state(PRODUCTION)
    assert fingerprint(now) == seen
    assert "snap-2" not in now.firearms and len(committed(svc)) == before.size


def test_readers_iterating_while_the_writer_writes_see_committed_states(
    western_service: CustodyService, fast_switches: None
) -> None:
    """Four threads read ``state()`` and iterate every collection of it (as the labels
    page does) while another thread runs 300 commands through the service: no reader
    raises, and every state a reader saw equals the log folded up to the size it showed."""
    svc = western_service
    assert svc.execute(cmd("unlock_container", "hana", container="safe-main")).ok
    done = threading.Event()
    errors: list[BaseException] = []
    seen: list[tuple[int, tuple[Any, ...]]] = []

    def read() -> None:
        try:
            while not done.is_set():
                state = svc.state(PRODUCTION)
                size = state.size
                seen.append((size, fingerprint(state)))
                assert state.size == size
        except BaseException as e:  # noqa: BLE001 - reported by the test below
            errors.append(e)

    def write() -> None:
        try:
            for n in range(150):
                assert svc.execute(receive(n)).ok
                assert svc.execute(inspect(n)).ok
        except BaseException as e:  # noqa: BLE001
            errors.append(e)
        finally:
            done.set()

    readers = [threading.Thread(target=read) for _ in range(4)]
    writer = threading.Thread(target=write)
    for t in (*readers, writer):
        t.start()
    for t in (writer, *readers):
        t.join(120)
    assert not errors, errors[:3]
    entries = committed(svc)
    sizes = sorted({size for size, _ in seen})
    assert len(sizes) > 20, "the readers should have seen many sizes"
    by_size: dict[int, tuple[Any, ...]] = {}
    for size, fp in seen:
        if size in by_size:
            assert fp == by_size[size], f"two different states at size {size}"
        by_size[size] = fp
    for size in sizes[:: max(1, len(sizes) // 25)] + sizes[-1:]:
        assert by_size[size] == fingerprint(fold(entries[:size])), size
