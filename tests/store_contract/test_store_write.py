"""``Store.write`` keeps one connection for the writer (its page cache stays warm across
batches) and starts a fresh one after a transaction that failed; on every backend."""

from __future__ import annotations

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, insert, select

from coldset.store.db import Store

md = MetaData()
numbers = Table("write_numbers", md, Column("n", Integer, primary_key=True))


def _driver(conn: object) -> object:
    return conn.connection.driver_connection  # type: ignore[attr-defined]


def test_writes_share_one_connection_and_a_failure_replaces_it(database_url: str) -> None:
    store = Store.open(database_url)
    md.create_all(store.engine)
    with store.write() as conn:
        first = _driver(conn)
        conn.execute(insert(numbers).values(n=1))
    with store.read() as conn:  # a reader in between takes a pooled one
        assert _driver(conn) is not first
    with store.write() as conn:
        assert _driver(conn) is first
        conn.execute(insert(numbers).values(n=2))
    with pytest.raises(RuntimeError), store.write() as conn:
        conn.execute(insert(numbers).values(n=3))
        raise RuntimeError("the batch failed")
    with store.write() as conn:
        assert _driver(conn) is not first  # not reused after a failure
        conn.execute(insert(numbers).values(n=4))
    with store.read() as conn:
        assert [r.n for r in conn.execute(select(numbers.c.n).order_by(numbers.c.n))] == [1, 2, 4]
    store.dispose()
    assert store._write_conn is None
