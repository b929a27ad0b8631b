"""Account tables: logins, which person an account is on each production, sessions, tokens.

Written only by :mod:`coldset.service.accounts`. These are secrets and settings,
not projections of a log: a person's roles live in the production's log (the
``custody_people`` projection); an account only says *which person* it acts as
on a production. Session and API tokens are stored as SHA-256 digests, never
in clear; passwords as argon2id hashes.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Integer, String, Table, Text

from coldset.store.schema import metadata

account_logins = Table(
    "account_logins",
    metadata,
    Column("login", String(64), primary_key=True),
    Column("name", Text, nullable=False),
    Column("password_hash", Text, nullable=False),
    Column("demo", Boolean, nullable=False, default=False),  # made by `serve --demo`
    Column("site_admin", Boolean, nullable=False, default=False),
    Column("created_at", String(32), nullable=False),
    Column("failed_count", Integer, nullable=False, default=0),
    Column("failed_since", String(32)),
    Column("locked_until", String(32)),
)

# The person an account acts as on a production (the actor of its commands).
account_members = Table(
    "account_members",
    metadata,
    Column("login", String(64), primary_key=True),
    Column("production", String(64), primary_key=True),
    Column("person", String(64), nullable=False),
)

account_sessions = Table(
    "account_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("login", String(64), nullable=False, index=True),
    Column("csrf", String(64), nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("expires_at", String(32), nullable=False),
)

account_tokens = Table(
    "account_tokens",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("login", String(64), nullable=False, index=True),
    Column("label", Text, nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("revoked_at", String(32)),
)
