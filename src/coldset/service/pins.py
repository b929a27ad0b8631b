"""PINs: argon2id hashes in a secrets table (never in the log, never a projection).

Verification is argon2id. A process-local cache remembers a (hash, keyed digest
of the PIN) pair that verified, so a performer confirming forty handoffs a day
costs one argon2 check, not forty; the cache key is a BLAKE2b digest under a
random per-process key, so the cache holds no PIN.

The custody service also keeps each person's stored hash between batches,
valid only while the production's log keeps the size it had when the hash was
read. That is sound because :func:`store_pin` is only ever called with a log
entry appended in the same transaction (create_production, add_person,
set_pin, reset_pin): another writer's PIN change always moves the log size.
"""

from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, delete, insert, select

from coldset.store.custody_schema import custody_pins

# OWASP's minimum argon2id setting (19 MiB, t=2); the lock-out, not the hash
# cost, protects a 4-8 digit PIN.
_HASHER = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1)
_KEY = secrets.token_bytes(32)
_VERIFIED: set[tuple[str, bytes]] = set()


def hash_pin(pin: str) -> str:
    return _HASHER.hash(pin)


def verify(stored: str, pin: str) -> bool:
    digest = hashlib.blake2b(pin.encode(), key=_KEY, digest_size=32).digest()
    if (stored, digest) in _VERIFIED:
        return True
    try:
        ok = _HASHER.verify(stored, pin)
    except (VerificationError, InvalidHashError):
        return False
    if ok:
        if len(_VERIFIED) > 10_000:
            _VERIFIED.clear()
        _VERIFIED.add((stored, digest))
    return bool(ok)


def stored_hashes(conn: Connection, production: str, people: list[str]) -> dict[str, str]:
    if not people:
        return {}
    rows = conn.execute(select(custody_pins.c.person, custody_pins.c.hash).where(
        custody_pins.c.production == production, custody_pins.c.person.in_(people))).all()
    return {r.person: r.hash for r in rows}


def store_pin(conn: Connection, production: str, person: str, pin_hash: str) -> None:
    """Replace ``person``'s hash. Call it only alongside a log entry (see above)."""
    conn.execute(delete(custody_pins).where(custody_pins.c.production == production,
                                            custody_pins.c.person == person))
    conn.execute(insert(custody_pins).values(production=production, person=person,
                                             hash=pin_hash))
