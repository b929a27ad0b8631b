"""Storage: one SQLAlchemy Core schema on SQLite (default) or PostgreSQL.

Only the service (and the ledger it calls) writes. Adapters never touch this.
"""

from coldset.store import accounts_schema as _accounts_schema  # noqa: F401  (registers tables)
from coldset.store import custody_schema as _custody_schema  # noqa: F401  (registers tables)
from coldset.store.db import Store
from coldset.store.engine import make_engine
from coldset.store.schema import metadata

__all__ = ["Store", "make_engine", "metadata"]
