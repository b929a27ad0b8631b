"""Custody projection tables (and the two secret tables, which are not projections).

Every ``custody_*`` table except ``custody_pins`` and ``custody_concern_tokens``
is a projection of the production's log: the service writes it in the same
transaction as the ledger append, and ``rebuild`` recomputes it from the log.
Columns the board filters or sorts on are typed; nested detail is JSON text.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Integer, String, Table, Text

from coldset.store.schema import metadata


def _key() -> list[Column[str]]:
    return [
        Column("production", String(64), primary_key=True),
        Column("id", String(64), primary_key=True),
    ]


custody_productions = Table(
    "custody_productions",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("origin", String(255), nullable=False, unique=True),
    Column("title", Text, nullable=False),
    Column("time_zone", String(64), nullable=False),
    Column("exemption", String(64), nullable=False),
    Column("settings", Text, nullable=False),
    Column("created_at", String(32), nullable=False),
)

custody_people = Table(
    "custody_people",
    metadata,
    *_key(),
    Column("name", Text, nullable=False),
    Column("roles", Text, nullable=False),  # JSON list
    Column("has_pin", Boolean, nullable=False),
    Column("pin_locked", Boolean, nullable=False),
    Column("checked_in_unit", String(64)),
    Column("checked_in_set", String(64)),
    Column("detail", Text, nullable=False),  # credentials, training, consents
)

custody_firearms = Table(
    "custody_firearms",
    metadata,
    *_key(),
    Column("type", String(32), nullable=False),
    Column("manufacturer", Text, nullable=False),
    Column("model", Text, nullable=False),
    Column("serial", Text, nullable=False),
    Column("caliber", String(64), nullable=False),
    Column("capacity", Integer, nullable=False),
    Column("custody_kind", String(16), nullable=False),  # container | person
    Column("custody_ref", String(255), nullable=False),
    Column("issued_for", String(64)),
    Column("issued_at", String(32)),
    Column("rounds_loaded", Integer, nullable=False),
    Column("cases_in", Integer, nullable=False),
    Column("chambers", Text, nullable=False),  # JSON: [null | {"lot", "spent"}]
    Column("quarantined", Boolean, nullable=False),
    Column("last_inspection", String(64)),
    Column("last_inspection_at", String(32)),
    Column("custody_changed_at", String(32)),
    Column("disposed", Boolean, nullable=False),
    Column("detail", Text, nullable=False),  # ATF bound-book fields and the rest
)

custody_lots = Table(
    "custody_lots",
    metadata,
    *_key(),
    Column("kind", String(16), nullable=False),
    Column("caliber", String(64), nullable=False),
    Column("maker", Text, nullable=False),
    Column("load", Text, nullable=False),
    Column("received", Integer, nullable=False),
    Column("loaded", Integer, nullable=False),
    Column("fired", Integer, nullable=False),
    Column("returned", Integer, nullable=False),
    Column("cases_recovered", Integer, nullable=False),
    Column("disposed", Integer, nullable=False),
    Column("adjusted", Integer, nullable=False),
    Column("expected_stock", Integer, nullable=False),
    Column("in_firearms", Integer, nullable=False),
    Column("discrepancy", Integer, nullable=False),
    Column("quarantined", Boolean, nullable=False),
    Column("where_json", Text, nullable=False),  # {"container:x": n, "person:y": n}
    Column("detail", Text, nullable=False),  # verification, receipt
)

custody_containers = Table(
    "custody_containers",
    metadata,
    *_key(),
    Column("kind", String(32), nullable=False),
    Column("name", Text, nullable=False),
    Column("unit", String(64)),
    Column("locked", Boolean, nullable=False),
    Column("opened_by", String(64)),
    Column("opened_at", String(32)),
    Column("firearms", Text, nullable=False),  # JSON list
)

custody_alerts = Table(
    "custody_alerts",
    metadata,
    *_key(),
    Column("rule", String(64), nullable=False),
    Column("reason", Text, nullable=False),
    Column("source", Text, nullable=False),
    Column("subject", String(255), nullable=False),
    Column("roles", Text, nullable=False),
    Column("at", String(32), nullable=False),
    Column("resolved_by", String(64)),
    Column("resolved_at", String(32)),
    Column("resolution", Text),
)

custody_stop_works = Table(
    "custody_stop_works",
    metadata,
    *_key(),
    Column("scope", String(64), nullable=False),
    Column("reason", Text, nullable=False),
    Column("rule", String(64)),
    Column("called_by", String(64), nullable=False),
    Column("at", String(32), nullable=False),
    Column("incident", String(64)),
    Column("cleared_by", Text, nullable=False),
    Column("cleared_at", String(32)),
)

custody_scenes = Table(
    "custody_scenes",
    metadata,
    *_key(),
    Column("shoot_day", String(64), nullable=False),
    Column("unit", String(64), nullable=False),
    Column("set_id", String(64), nullable=False),
    Column("title", Text, nullable=False),
    Column("wrapped_at", String(32)),
    Column("detail", Text, nullable=False),  # plan, cast & crew, sign-offs
)

# Everything else the log records, one row each: units, sets, shoot days,
# inspections, meetings, incidents, concerns, overrides.
custody_records = Table(
    "custody_records",
    metadata,
    Column("production", String(64), primary_key=True),
    Column("kind", String(32), primary_key=True),
    Column("id", String(64), primary_key=True),
    Column("detail", Text, nullable=False),
)

# Per firearm, every entry that concerned it (allowed or not).
custody_timeline = Table(
    "custody_timeline",
    metadata,
    Column("production", String(64), primary_key=True),
    Column("firearm", String(64), primary_key=True),
    Column("idx", Integer, primary_key=True, autoincrement=False),
    Column("at", String(32), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("command", String(64), nullable=False),
    Column("outcome", String(32), nullable=False),
    Column("rules", Text, nullable=False),  # JSON list of rule ids in the verdicts
    Column("summary", Text, nullable=False),
)

# Idempotency keys seen in the log: key -> entry index (a projection too).
custody_idempotency = Table(
    "custody_idempotency",
    metadata,
    Column("production", String(64), primary_key=True),
    Column("key", String(128), primary_key=True),
    Column("idx", Integer, nullable=False),
    Column("command_hash", String(64), nullable=False),
)

# SECRETS, not projections: never in the log, never rebuilt from it.
custody_pins = Table(
    "custody_pins",
    metadata,
    Column("production", String(64), primary_key=True),
    Column("person", String(64), primary_key=True),
    Column("hash", Text, nullable=False),  # argon2id
)

custody_concern_tokens = Table(
    "custody_concern_tokens",
    metadata,
    Column("production", String(64), primary_key=True),
    Column("concern", String(64), primary_key=True),
    Column("token_hash", String(64), nullable=False),  # sha256 of the private link token
)

#: projection tables (cleared and recomputed by rebuild)
PROJECTIONS = (
    custody_people,
    custody_firearms,
    custody_lots,
    custody_containers,
    custody_alerts,
    custody_stop_works,
    custody_scenes,
    custody_records,
    custody_timeline,
    custody_idempotency,
)
