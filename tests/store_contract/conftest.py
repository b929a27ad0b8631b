"""One contract, every backend: SQLite always, PostgreSQL whenever a server answers.

The PostgreSQL URL comes from ``COLDSET_TEST_PG_URL`` (default: the local
server over its Unix socket, database ``coldset_test``; `.ci/run` starts the
server and creates it). Each test gets a schema of its own, dropped after. In
CI (``CI`` set) an unreachable server fails the run instead of skipping, so the
PostgreSQL half cannot silently stop running.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

PG_URL = os.environ.get("COLDSET_TEST_PG_URL", "postgresql+psycopg:///coldset_test")


def _pg_available() -> str | None:
    try:
        eng = create_engine(PG_URL, connect_args={"connect_timeout": 3})
        with eng.connect() as conn:
            conn.execute(text("SELECT 1"))
        eng.dispose()
        return None
    except Exception as e:  # noqa: BLE001 - any failure means "no server here"
        return f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"


_PG_PROBLEM = _pg_available()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'coldset.sqlite'}"
        return
    if _PG_PROBLEM:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is not reachable at {PG_URL} in CI: {_PG_PROBLEM}")
        pytest.skip(f"no PostgreSQL server at {PG_URL} ({_PG_PROBLEM})")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in PG_URL else "?"
    try:
        yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
