"""PINs: keyed argon2id hashes in a secrets table (never in the log, never a projection).

A 4-digit PIN has 10,000 values: its argon2id hash alone is recovered offline
in minutes by anyone who can read the database, and the lock-out does not
apply offline. So the argon2id input is HMAC-SHA256 under the install's
*pepper* (32 random bytes in ``pin.pepper`` in the data directory, mode 0600,
never in the database) of the production, the person and the PIN: a copied
database alone gives nothing to guess against, and a hash cannot be moved to
another person. The stored form is versioned: ``pin2$<argon2id hash>`` (keyed);
a bare ``$argon2id$...`` hash (from before the pepper) still verifies and is
replaced by a keyed one on the person's next PIN set or reset.

Verification is argon2id. A :class:`PinHasher` remembers a (hash, keyed digest
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
import hmac
import secrets
import threading

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, delete, insert, select

from coldset.store.custody_schema import custody_pins

#: The prefix of a keyed (peppered) stored hash; a hash without it is the old form.
KEYED_PREFIX = "pin2$"
PEPPER_BYTES = 32
# OWASP's minimum argon2id setting (19 MiB, t=2); with the pepper kept out of the
# database, the lock-out and not the hash cost protects a 4-8 digit PIN.
_HASHER = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1)


class PinHasher:
    """Hashes and checks PINs under one install's pepper (see the module docstring)."""

    def __init__(self, pepper: bytes) -> None:
        if len(pepper) != PEPPER_BYTES:
            raise ValueError(f"a PIN pepper is {PEPPER_BYTES} bytes, not {len(pepper)}")
        self._pepper = pepper
        self._key = secrets.token_bytes(32)
        self._verified: set[tuple[str, bytes]] = set()
        self._lock = threading.Lock()

    def _keyed(self, production: str, person: str, pin: str) -> bytes:
        # each part length-prefixed: no two (production, person, pin) give the same message
        msg = b"".join(len(b).to_bytes(4, "big") + b
                       for b in (production.encode(), person.encode(), pin.encode()))
        return hmac.new(self._pepper, msg, hashlib.sha256).digest()

    def hash(self, production: str, person: str, pin: str) -> str:
        """The stored form of ``person``'s new ``pin`` on ``production`` (always keyed)."""
        return KEYED_PREFIX + _HASHER.hash(self._keyed(production, person, pin))

    def verify(self, stored: str, production: str, person: str, pin: str) -> bool:
        """Whether ``pin`` is ``person``'s PIN; ``stored`` keyed or of the old, unkeyed form."""
        digest = hashlib.blake2b(f"{production}\0{person}\0{pin}".encode(), key=self._key,
                                 digest_size=32).digest()
        if (stored, digest) in self._verified:
            return True
        try:
            if stored.startswith(KEYED_PREFIX):
                ok = _HASHER.verify(stored[len(KEYED_PREFIX):],
                                    self._keyed(production, person, pin))
            else:
                ok = _HASHER.verify(stored, pin)
        except (VerificationError, InvalidHashError):
            return False
        if ok:
            with self._lock:
                if len(self._verified) > 10_000:
                    self._verified.clear()
                self._verified.add((stored, digest))
        return bool(ok)


def is_keyed(stored: str) -> bool:
    return stored.startswith(KEYED_PREFIX)


def new_pepper() -> bytes:
    return secrets.token_bytes(PEPPER_BYTES)


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


def any_keyed(conn: Connection) -> bool:
    """Whether any stored hash needs the pepper (a lost pepper must not be made anew)."""
    return conn.execute(select(custody_pins.c.person).where(
        custody_pins.c.hash.startswith(KEYED_PREFIX, autoescape=True)).limit(1)).first() \
        is not None
