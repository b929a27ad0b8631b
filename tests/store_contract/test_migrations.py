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


def test_a_database_made_without_migrations_gets_a_clear_error(tmp_path) -> None:  # noqa: ANN001
    """A pre-migration database (tables, no alembic_version) is refused with what to do."""
    import pytest

    from coldset.config import ConfigError

    store = Store.open(f"sqlite:///{tmp_path / 'old.sqlite'}")
    metadata.create_all(store.engine)
    with pytest.raises(ConfigError, match="without schema migrations"):
        store.create_all()
    store.dispose()
