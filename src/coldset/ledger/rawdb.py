"""Direct DB-API access for the ledger's hot paths.

A proof needs a few dozen single-row reads and verify streams a million rows;
going through the driver's cursor (inside the caller's SQLAlchemy transaction,
on the same connection) avoids per-statement and per-row ORM overhead.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection


class RawDb:
    _n = 0

    def __init__(self, raw: Any, paramstyle: str) -> None:
        self.raw = raw
        self.ph = "?" if paramstyle == "qmark" else "%s"

    @classmethod
    def of(cls, conn: Connection) -> RawDb:
        return cls(conn.connection.driver_connection, conn.dialect.paramstyle)

    def q(self, sql: str) -> str:
        return sql.replace("?", self.ph)

    def one(self, sql: str, *args: Any) -> Any:
        cur = self.raw.cursor()
        try:
            cur.execute(self.q(sql), args)
            return cur.fetchone()
        finally:
            cur.close()

    def stream(self, sql: str, *args: Any, block: int = 4096) -> Iterator[list[Any]]:
        """Rows in blocks. On PostgreSQL through a server-side cursor, so a million
        rows are never all in memory at once (SQLite steps through them anyway)."""
        if self.ph == "%s":
            RawDb._n += 1
            cur = self.raw.cursor(name=f"coldset_stream_{RawDb._n}")
        else:
            cur = self.raw.cursor()
        try:
            cur.execute(self.q(sql), args)
            while True:
                rows = cur.fetchmany(block)
                if not rows:
                    break
                yield rows
        finally:
            cur.close()
