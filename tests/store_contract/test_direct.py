"""``store.direct.Direct``: Core statements on the driver's cursor, on every backend."""

from __future__ import annotations

import pytest
from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    bindparam,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from coldset.store.db import Store
from coldset.store.direct import Direct

md = MetaData()
things = Table(
    "direct_things",
    md,
    Column("kind", String(16), primary_key=True),
    Column("id", Integer, primary_key=True),
    Column("flag", Boolean, nullable=False),
    Column("blob", LargeBinary),
    Column("note", String(64)),
)
stamped = Table(
    "direct_stamped", md, Column("id", Integer, primary_key=True), Column("at", DateTime)
)


def _store(url: str) -> Store:
    store = Store.open(url)
    md.create_all(store.engine)
    return store


def _rows(store: Store) -> list[tuple]:
    with store.read() as conn:
        return [tuple(r) for r in conn.execute(select(things).order_by(things.c.id))]


def test_many_one_and_first_match_what_sqlalchemy_writes(database_url: str) -> None:
    """Inserts, an upsert, an update's row count and a select: the values come back as written."""
    store = _store(database_url)
    ins = Direct(insert(things))
    dialect = store.engine.dialect.name
    base = pg_insert(things) if dialect == "postgresql" else sqlite_insert(things)
    upsert = Direct(
        base.on_conflict_do_update(
            index_elements=["kind", "id"],
            set_={"note": base.excluded.note, "flag": base.excluded.flag},
        )
    )
    bump = Direct(
        update(things).where(things.c.kind == bindparam("b_kind")).values(note=bindparam("b_note"))
    )
    count = Direct(
        select(func.count()).select_from(things).where(things.c.flag == bindparam("b_flag"))
    )
    with store.write() as conn:
        ins.many(
            conn,
            [
                {"kind": "a", "id": i, "flag": i % 2 == 0, "blob": bytes([i]) * 3, "note": None}
                for i in range(4)
            ],
        )
        ins.many(conn, [])  # nothing to do is not an error
        upsert.many(
            conn,
            [
                {"kind": "a", "id": 1, "flag": True, "blob": None, "note": "up"},
                {"kind": "a", "id": 9, "flag": False, "blob": None, "note": "new"},
            ],
        )
        assert bump.one(conn, {"b_kind": "zzz", "b_note": "x"}) == 0
        assert count.first(conn, {"b_flag": True}) == (3,)
    assert _rows(store) == [
        ("a", 0, True, b"\x00" * 3, None),
        ("a", 1, True, b"\x01" * 3, "up"),
        ("a", 2, True, b"\x02" * 3, None),
        ("a", 3, False, b"\x03" * 3, None),
        ("a", 9, False, None, "new"),
    ]
    with store.write() as conn:
        assert bump.one(conn, {"b_kind": "a", "b_note": "all"}) == 5
    assert {r[4] for r in _rows(store)} == {"all"}


def test_it_runs_inside_the_callers_transaction(database_url: str) -> None:
    """A failure after a Direct write rolls that write back with everything else."""
    store = _store(database_url)
    ins = Direct(insert(things))
    with pytest.raises(RuntimeError), store.write() as conn:
        ins.many(conn, [{"kind": "b", "id": 1, "flag": True, "blob": None, "note": None}])
        raise RuntimeError("the batch failed")
    assert _rows(store) == []


def test_a_parameter_that_needs_type_processing_is_refused(database_url: str) -> None:
    """A DateTime (converted by SQLAlchemy, not the driver) is refused before anything runs."""
    store = _store(database_url)
    with pytest.raises(TypeError, match="run it with Connection.execute"), store.write() as conn:
        Direct(insert(stamped)).one(conn, {"id": 1, "at": None})
    expanding = Direct(select(things.c.id).where(things.c.id.in_(bindparam("ids", expanding=True))))
    with pytest.raises(TypeError), store.read() as conn:
        expanding.first(conn, {"ids": [1, 2]})
