"""Background WAL checkpoints (the server's writer): commits never copy the WAL back
themselves; the checkpointer thread does, and a store opened without it keeps SQLite's
own automatic checkpoints. Durability is unchanged (WAL, synchronous=FULL)."""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import text

from coldset.ledger.log import Ledger
from coldset.ledger.note import Signer
from coldset.store.db import Store, WalCheckpointer

from .conftest import entries


def _store(path: Path, background: bool) -> Store:
    store = Store.open(f"sqlite:///{path}", background_checkpoints=background)
    store.create_all()
    return store


def _append(store: Store, ledger: Ledger, origin: str, n: int) -> None:
    for i in range(n):
        with store.write() as conn:
            ledger.append(conn, origin, entries(5, start=i * 5))


def test_commits_leave_the_wal_to_the_checkpointer(tmp_path: Path) -> None:
    store = _store(tmp_path / "bg.sqlite", background=True)
    try:
        assert store.checkpointer is not None
        store.checkpointer.stop()  # no timer: this test calls it by hand
        with store.write() as conn:
            assert conn.execute(text("PRAGMA wal_autocheckpoint")).scalar() == 0
            assert conn.execute(text("PRAGMA synchronous")).scalar() == 2
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        ledger = Ledger(Signer.generate("test.local"))
        with store.write() as conn:
            ledger.create(conn, "test.local/a")
        _append(store, ledger, "test.local/a", 40)
        busy, frames, copied = store.checkpointer.checkpoint()  # type: ignore[misc]
        assert busy == 0 and frames > 0 and copied == frames
        with store.read() as conn:  # everything is still there, in the database file
            assert ledger.size(conn, "test.local/a") == 200
    finally:
        store.dispose()


def test_the_checkpointer_runs_on_its_own_and_stops(tmp_path: Path) -> None:
    store = _store(tmp_path / "bg.sqlite", background=True)
    ticker = WalCheckpointer(store.engine, interval=0.01)
    try:
        ticker.start()
        deadline = time.monotonic() + 5
        while ticker.runs < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert ticker.runs >= 3
    finally:
        ticker.stop()
        store.dispose()
    assert not ticker._thread.is_alive()


def test_without_it_sqlite_checkpoints_as_usual(tmp_path: Path) -> None:
    store = _store(tmp_path / "plain.sqlite", background=False)
    try:
        assert store.checkpointer is None
        with store.write() as conn:
            assert conn.execute(text("PRAGMA wal_autocheckpoint")).scalar() == 1000
    finally:
        store.dispose()
