"""Recompute a production's projection tables from its log."""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import Connection, delete, insert

from coldset import canonical
from coldset.domain.events import parse_entry
from coldset.domain.projection import apply_entry
from coldset.domain.state import State
from coldset.ledger.log import Ledger
from coldset.service import timeline
from coldset.service.rows import all_dirty, production_row, write_rows
from coldset.store import custody_schema as t


def _command_hash(command: dict[str, Any]) -> str:
    """The idempotency hash of a recorded command (PINs are already absent)."""
    return hashlib.sha256(canonical.dumps(command)).hexdigest()


def rebuild(conn: Connection, ledger: Ledger, origin: str, production: str) -> State:
    """Clear and rewrite every projection row of ``production`` inside ``conn``'s transaction."""
    state = State()
    tl_rows: list[dict[str, Any]] = []
    idem: dict[str, dict[str, Any]] = {}
    for idx, data in ledger.entries(conn, origin):
        entry = parse_entry(data)
        tl_rows.extend(timeline.rows(production, idx, state, entry))
        key = entry["command"].get("idempotency_key")
        if key and key not in idem:
            idem[key] = {
                "production": production,
                "key": key,
                "idx": idx,
                "command_hash": _command_hash(entry["command"]),
            }
        state = apply_entry(state, entry)
    state.dirty.clear()
    for table in (*t.PROJECTIONS, t.custody_productions):
        col = table.c.id if table is t.custody_productions else table.c.production
        conn.execute(delete(table).where(col == production))
    if state.production is None:
        return state
    conn.execute(insert(t.custody_productions).values(**production_row(state)))
    write_rows(conn, state, all_dirty(state))
    if tl_rows:
        conn.execute(insert(t.custody_timeline), tl_rows)
    if idem:
        conn.execute(insert(t.custody_idempotency), list(idem.values()))
    return state
