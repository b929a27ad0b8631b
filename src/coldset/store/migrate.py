"""Schema migrations (Alembic), run on coldset's own engine.

``upgrade(engine)`` brings a database to the newest schema; `coldset init` and
every open of an install call it. To add a migration after changing a table::

    .venv/bin/python -m coldset.store.migrate revision "what changed"

and review the generated file in ``src/coldset/store/migrations/versions``.
``tests/store_contract/test_migrations.py`` fails while the migrations and the
tables in code disagree.
"""

from __future__ import annotations

import sys
import tempfile
from importlib import resources

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, inspect

from coldset.store.engine import make_engine

# Tables that mark a database as coldset's (so a pre-migration one is recognised).
_OURS = frozenset({"ledger_logs", "ledger_entries", "ledger_nodes", "ledger_checkpoints"})


def _config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("coldset.store") / "migrations"))
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    cfg = _config()
    tables = set(inspect(engine).get_table_names())
    if tables and "alembic_version" not in tables and tables & _OURS:
        from coldset.config import ConfigError

        raise ConfigError(
            f"the database at {engine.url.render_as_string(hide_password=True)} was made by a "
            "development build of coldset without schema migrations and cannot be upgraded; "
            "start a new data directory (coldset init --home NEW_DIR)"
        )
    with engine.connect() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
        conn.commit()


def revision(message: str) -> None:
    """Autogenerate a migration from the difference between the tables and head."""
    with tempfile.TemporaryDirectory() as d:
        engine = make_engine(f"sqlite:///{d}/scratch.sqlite")
        upgrade(engine)
        cfg = _config()
        with engine.connect() as conn:
            cfg.attributes["connection"] = conn
            command.revision(cfg, message=message, autogenerate=True)
        engine.dispose()


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "revision":
        revision(sys.argv[2])
    else:
        sys.exit('usage: python -m coldset.store.migrate revision "what changed"')
