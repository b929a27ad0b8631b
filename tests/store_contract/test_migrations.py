"""The Alembic migrations build exactly the tables the code declares, on every backend."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from coldset.store import metadata
from coldset.store.db import Store


def test_migrations_match_the_tables_in_code(database_url: str) -> None:
    """Upgrading an empty database to head leaves no difference from the code's metadata.

    If this fails after a table change: `python -m coldset.store.migrate revision "..."`.
    """
    store = Store.open(database_url)
    store.create_all()
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
        tables = set(inspect(conn).get_table_names())
    store.dispose()
    assert diff == []
    assert set(metadata.tables) <= tables


def test_upgrade_twice_is_harmless(database_url: str) -> None:
    """Opening an install again (which upgrades) changes nothing."""
    store = Store.open(database_url)
    store.create_all()
    store.create_all()
    store.dispose()
