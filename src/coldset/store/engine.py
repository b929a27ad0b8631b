"""Engines with the project's transaction discipline (SQLite pragmas, ``BEGIN IMMEDIATE``
for the writer; PostgreSQL through psycopg 3).

Its own module so that :mod:`.db` (stores) and :mod:`.migrate` (schema migrations)
both use it without importing each other.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event


def make_engine(url: str, *, background_checkpoints: bool = False, **kwargs: Any) -> Engine:
    """An engine for ``url`` with the project's transaction discipline installed.

    ``background_checkpoints`` (SQLite): no connection of this engine copies the WAL
    back into the database file when it commits (``wal_autocheckpoint=0``); a
    :class:`WalCheckpointer` must do it instead.
    """
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
            if background_checkpoints:
                cur.execute("PRAGMA wal_autocheckpoint=0")
            cur.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            if conn.get_execution_options().get("coldset_write"):
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            else:
                conn.exec_driver_sql("BEGIN")

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return create_engine(url, **kwargs)
