"""Engines and transactions.

SQLite: WAL, ``synchronous=FULL`` (a commit is on disk when it returns), foreign
keys on, one writer that takes the lock up front with ``BEGIN IMMEDIATE``;
readers use plain deferred transactions and never block the writer.
PostgreSQL: psycopg 3; the writer serialises on a per-store advisory lock.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text

_WRITE_LOCK_KEY = 0x636F6C64  # "cold": PostgreSQL advisory lock id of the single writer


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url`` with the project's transaction discipline installed."""
    if url.startswith("sqlite"):
        # Pooled connections: closing the last SQLite connection checkpoints the
        # WAL (an fsync), which must not happen after every transaction.
        engine = create_engine(url, **kwargs)

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            # Take transaction control away from pysqlite so BEGIN is ours.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=10000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            if conn.get_execution_options().get("coldset_write"):
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            else:
                conn.exec_driver_sql("BEGIN")

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return create_engine(url, **kwargs)


class Store:
    """A database handle: ``write()`` for the one writer, ``read()`` for everyone else."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.is_sqlite = engine.dialect.name == "sqlite"
        # One writer per process; across processes SQLite's lock (or the
        # PostgreSQL advisory lock) orders commits.
        self._writer = threading.Lock()

    @classmethod
    def open(cls, url: str) -> Store:
        return cls(make_engine(url))

    def create_all(self) -> None:
        """Bring the schema to the newest migration (see :mod:`coldset.store.migrate`)."""
        from coldset.store.migrate import upgrade

        upgrade(self.engine)

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction: committed (durably) on normal exit, rolled back on error."""
        with (
            self._writer,
            self.engine.connect().execution_options(coldset_write=True) as conn,
            conn.begin(),
        ):
            if not self.is_sqlite:
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _WRITE_LOCK_KEY})
            yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read transaction: one consistent snapshot, never blocks the writer."""
        with self.engine.connect() as conn, conn.begin():
            yield conn

    def dispose(self) -> None:
        self.engine.dispose()
