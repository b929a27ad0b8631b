"""The one way around SQLAlchemy's execution layer: statements run on the driver's cursor.

Everything else in coldset runs through ``Connection.execute``. This module is
the only place that touches the DB-API cursor, for two measured hot paths, and it
does so inside the caller's transaction, on the caller's connection:

* :class:`Direct`: the writer's hot statements, written as Core statements;
* :class:`RawDb`: the ledger's reads for proofs and ``verify`` (a few dozen
  single-row reads per proof; a million-row stream, through a server-side
  cursor on PostgreSQL so it is never all in memory).

No padded ``IN`` lists: a lookup with a variable number of keys (the
idempotency keys of a batch) goes through ``Connection.execute`` with an
``in_()`` (SQLAlchemy's "expanding" bind parameter), whose compiled form
SQLAlchemy caches; it runs once per batch that carries keys, so the ~40 µs it
costs over the cursor is not worth a family of padded statements. :class:`Direct`
refuses expanding parameters.

Direct
------

Each batch of commands the server's writer commits runs the same ten or so
statements (append the entries, extend the Merkle node rows, move the log's
head, store the checkpoint, upsert the projection rows, the timeline and the
idempotency keys). Through ``Connection.execute`` each call costs SQLAlchemy
~40-50 µs of parameter and result processing on top of the driver's own work
(an 8-row insert: 89 µs against 37 µs on the cursor, measured here), which is
several percent of a batch. A :class:`Direct` statement is still written with
SQLAlchemy Core; it is compiled once per dialect and set of parameter names,
and then executed on the DB-API cursor of the caller's connection, so it runs
inside the caller's transaction like any other statement.

Only for statements whose parameters both drivers (sqlite3, psycopg 3) take
as they are: text, integers, booleans, bytes and NULL. Anything that needs
SQLAlchemy's type processing is refused when the statement is first compiled.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import Boolean, Connection, Integer, LargeBinary, String
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement

_PLAIN = (String, Integer, Boolean, LargeBinary)


class Direct:
    """A Core statement, compiled once per (dialect, parameter names), run on the cursor."""

    __slots__ = ("stmt", "_compiled")

    def __init__(self, stmt: ClauseElement) -> None:
        self.stmt = stmt
        self._compiled: dict[tuple[str, tuple[str, ...]], tuple[str, tuple[str, ...] | None]] = {}

    def _sql(self, conn: Connection, keys: tuple[str, ...]) -> tuple[str, tuple[str, ...] | None]:
        dialect = conn.dialect
        found = self._compiled.get((dialect.name, keys))
        if found is None:
            compiled = self.stmt.compile(dialect=dialect, column_keys=list(keys))
            if not isinstance(compiled, SQLCompiler):
                raise TypeError(f"{self.stmt!s} is not a SQL statement Direct can run")
            for name, bind in compiled.binds.items():
                if not isinstance(bind.type, _PLAIN) or bind.expanding:
                    raise TypeError(
                        f"{self.stmt!s}: parameter {name!r} ({bind.type!r}) needs "
                        "SQLAlchemy's processing; run it with Connection.execute"
                    )
            order = compiled.positiontup if dialect.positional else None
            found = self._compiled[(dialect.name, keys)] = (
                str(compiled),
                tuple(order or ()) or None,
            )
        return found

    def _cursor(self, conn: Connection) -> Any:
        return conn.connection.driver_connection.cursor()  # type: ignore[union-attr]

    def many(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """Execute once per row (``executemany``); every row has the same keys."""
        if not rows:
            return
        sql, order = self._sql(conn, tuple(rows[0]))
        cur = self._cursor(conn)
        try:
            if order is None:
                cur.executemany(sql, rows)
            else:
                cur.executemany(sql, [tuple([r[k] for k in order]) for r in rows])
        finally:
            cur.close()

    def one(self, conn: Connection, params: Mapping[str, Any]) -> int:
        """Execute once; the number of rows it changed (for an UPDATE or DELETE)."""
        sql, order = self._sql(conn, tuple(params))
        cur = self._cursor(conn)
        try:
            cur.execute(sql, params if order is None else tuple([params[k] for k in order]))
            return int(cur.rowcount)
        finally:
            cur.close()

    def first(self, conn: Connection, params: Mapping[str, Any]) -> tuple[Any, ...] | None:
        """Execute a SELECT; its first row as a tuple (columns in the statement's order)."""
        rows = self._select(conn, params, one=True)
        return rows[0] if rows else None

    def all(self, conn: Connection, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Execute a SELECT; every row, as tuples."""
        return self._select(conn, params, one=False)

    def _select(
        self, conn: Connection, params: Mapping[str, Any], one: bool
    ) -> list[tuple[Any, ...]]:
        sql, order = self._sql(conn, tuple(params))
        cur = self._cursor(conn)
        try:
            cur.execute(sql, params if order is None else tuple([params[k] for k in order]))
            if one:
                row = cur.fetchone()
                return [] if row is None else [tuple(row)]
            return [tuple(r) for r in cur.fetchall()]
        finally:
            cur.close()


class RawDb:
    """Plain SQL (``?`` placeholders) on the cursor of a connection: the ledger's reads."""

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
