"""Engines and transactions.

SQLite: WAL, ``synchronous=FULL`` (a commit is on disk when it returns), foreign
keys on, one writer that takes the lock up front with ``BEGIN IMMEDIATE``;
readers use plain deferred transactions and never block the writer.
PostgreSQL: psycopg 3; the writer serialises on a per-store advisory lock.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, text

from coldset.store.engine import make_engine

log = logging.getLogger("coldset.store")
_WRITE_LOCK_KEY = 0x636F6C64  # "cold": PostgreSQL advisory lock id of the single writer


class Store:
    """A database handle: ``write()`` for the one writer, ``read()`` for everyone else."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.is_sqlite = engine.dialect.name == "sqlite"
        # One writer per process; across processes SQLite's lock (or the
        # PostgreSQL advisory lock) orders commits.
        self._writer = threading.Lock()
        # The writer keeps one connection (see write) for as long as it works.
        self._write_conn: Connection | None = None
        self.checkpointer: WalCheckpointer | None = None

    @classmethod
    def open(cls, url: str, *, background_checkpoints: bool = False) -> Store:
        """``background_checkpoints`` (SQLite; the server's writer): the WAL is copied back
        into the database file by a thread of this store, not by whichever commit
        happens to cross SQLite's 1,000-page mark (which then took 7-70 ms)."""
        store = cls(make_engine(url, background_checkpoints=background_checkpoints))
        if background_checkpoints and store.is_sqlite:
            store.checkpointer = WalCheckpointer(store.engine)
            store.checkpointer.start()
        return store

    def create_all(self) -> None:
        """Bring the schema to the newest migration (see :mod:`coldset.store.migrate`)."""
        from coldset.store.migrate import upgrade  # alembic is loaded only when needed

        upgrade(self.engine)

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction: committed (durably) on normal exit, rolled back on error.

        Every write transaction of this store runs on the same connection, kept open
        between them. A connection taken from the pool each time was, as often as
        not, one a reader or the WAL checkpointer had used last: its page cache was
        from before the previous commit, so SQLite dropped it and read the pages of
        every index it touched again (~160 reads per batch of 8 commands, measured
        with /proc/self/io). After a failed transaction the connection is closed and
        the next write opens a new one."""
        with self._writer:
            conn = self._write_conn
            if conn is None or conn.closed or conn.invalidated:
                conn = self._write_conn = self.engine.connect().execution_options(
                    coldset_write=True
                )
            try:
                with conn.begin():
                    if not self.is_sqlite:
                        conn.execute(
                            text("SELECT pg_advisory_xact_lock(:k)"), {"k": _WRITE_LOCK_KEY}
                        )
                    yield conn
            except BaseException:
                self._write_conn = None
                with contextlib.suppress(Exception):
                    conn.close()
                raise

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read transaction: one consistent snapshot, never blocks the writer."""
        with self.engine.connect() as conn, conn.begin():
            yield conn

    def dispose(self) -> None:
        if self.checkpointer is not None:
            self.checkpointer.stop()
        with self._writer:
            if self._write_conn is not None:
                with contextlib.suppress(Exception):
                    self._write_conn.close()
                self._write_conn = None
        self.engine.dispose()


class WalCheckpointer:
    """A daemon thread that copies SQLite's WAL back into the database file every
    ``interval`` seconds (``PRAGMA wal_checkpoint(PASSIVE)``: it never waits for, or
    blocks, a reader or the writer; the copy and its fsync happen off the writer's
    path). SQLite's documentation suggests exactly this for applications that care
    about commit latency. A failed checkpoint is logged and tried again."""

    def __init__(self, engine: Engine, interval: float = 0.5) -> None:
        self.engine, self.interval = engine, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name="coldset-wal-checkpoint", daemon=True
        )
        self.runs = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        self.checkpoint()  # leave the database file up to date

    def checkpoint(self) -> tuple[int, int, int] | None:
        """One PASSIVE checkpoint: (busy, frames in the WAL, frames copied), or None."""
        try:
            raw = self.engine.raw_connection()
            try:
                row = raw.driver_connection.execute(  # type: ignore[union-attr]
                    "PRAGMA wal_checkpoint(PASSIVE)"
                ).fetchone()
            finally:
                raw.close()
        except Exception:
            log.exception("WAL checkpoint failed; trying again in %.1f s", self.interval)
            return None
        self.runs += 1
        return (int(row[0]), int(row[1]), int(row[2])) if row else None

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.checkpoint()
