"""Tables. One MetaData for the whole product; each area adds its tables here.

Ledger tables (``ledger_*``) are written only by :mod:`coldset.ledger.log`.
Custody projection tables live in :mod:`coldset.store.custody_schema` and are
written only by the service in the same transaction as the ledger append.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

# One row per log (one log per production). ``size`` is the number of entries.
ledger_logs = Table(
    "ledger_logs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("origin", String(255), nullable=False, unique=True),
    Column("size", BigInteger, nullable=False, default=0),
    Column("root", LargeBinary, nullable=False),
)

# Entry i of a log: the exact bytes appended, hashed as RFC 6962 leaf i.
ledger_entries = Table(
    "ledger_entries",
    metadata,
    Column("log_id", Integer, ForeignKey("ledger_logs.id"), primary_key=True),
    Column("idx", BigInteger, primary_key=True, autoincrement=False),
    Column("data", LargeBinary, nullable=False),
    sqlite_with_rowid=False,  # clustered by (log_id, idx): verify reads a log in key order
)

# Hashes of every complete (perfect) subtree, 256 to a row: row (level, chunk)
# holds, concatenated, the 32-byte hashes of nodes chunk*256 .. chunk*256+255 at
# that level (level 0 = leaf hashes; node (L, i) covers leaves [i*2^L, (i+1)*2^L)).
# The last row of a level may be partial. Proofs read O(log n) rows; verify
# compares whole rows.
ledger_nodes = Table(
    "ledger_nodes",
    metadata,
    Column("log_id", Integer, ForeignKey("ledger_logs.id"), primary_key=True),
    Column("level", Integer, primary_key=True, autoincrement=False),
    Column("chunk", BigInteger, primary_key=True, autoincrement=False),
    Column("hashes", LargeBinary, nullable=False),
    sqlite_with_rowid=False,
)

# Every checkpoint the log signed, in order: the signed note text verbatim.
ledger_checkpoints = Table(
    "ledger_checkpoints",
    metadata,
    Column("log_id", Integer, ForeignKey("ledger_logs.id"), primary_key=True),
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("size", BigInteger, nullable=False),
    Column("root", LargeBinary, nullable=False),
    Column("note", Text, nullable=False),
)
