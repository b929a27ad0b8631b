"""PINs at rest: the keyed argon2id hasher (:class:`PinHasher`, under the install's pepper)
and whether a database holds keyed hashes (:func:`any_keyed`).

The install opens the hasher (:mod:`coldset.install`), so it lives below the service;
what the service does with PINs (reading and storing a person's hash alongside a log
entry, and why that keeps its cache sound) is :mod:`coldset.service.pins`, which also
names everything here. Why the pepper, the stored form ``pin2$<argon2id hash>``, and
the cache of PINs that verified: see there.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, select

from coldset.store.custody_schema import custody_pins

#: The prefix of a keyed (peppered) stored hash; a hash without it is the old form.
KEYED_PREFIX = "pin2$"
PEPPER_BYTES = 32
# OWASP's minimum argon2id setting (19 MiB, t=2); with the pepper kept out of the
# database, the lock-out and not the hash cost protects a 4-8 digit PIN.
_HASHER = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1)


class PinHasher:
    """Hashes and checks PINs under one install's pepper; no cache (see :class:`PinCache`)."""

    def __init__(self, pepper: bytes) -> None:
        if len(pepper) != PEPPER_BYTES:
            raise ValueError(f"a PIN pepper is {PEPPER_BYTES} bytes, not {len(pepper)}")
        self._pepper = pepper

    def _keyed(self, production: str, person: str, pin: str) -> bytes:
        # each part length-prefixed: no two (production, person, pin) give the same message
        msg = b"".join(
            len(b).to_bytes(4, "big") + b
            for b in (production.encode(), person.encode(), pin.encode())
        )
        return hmac.new(self._pepper, msg, hashlib.sha256).digest()

    def hash(self, production: str, person: str, pin: str) -> str:
        """The stored form of ``person``'s new ``pin`` on ``production`` (always keyed)."""
        return KEYED_PREFIX + _HASHER.hash(self._keyed(production, person, pin))

    def verify(self, stored: str, production: str, person: str, pin: str) -> bool:
        """Whether ``pin`` is ``person``'s PIN; ``stored`` keyed or of the old, unkeyed form.

        Always argon2id (about 20 ms): callers go through :meth:`PinCache.check`."""
        try:
            if stored.startswith(KEYED_PREFIX):
                ok = _HASHER.verify(
                    stored[len(KEYED_PREFIX) :], self._keyed(production, person, pin)
                )
            else:
                ok = _HASHER.verify(stored, pin)
        except (VerificationError, InvalidHashError):
            return False
        return bool(ok)


def is_keyed(stored: str) -> bool:
    return stored.startswith(KEYED_PREFIX)


def new_pepper() -> bytes:
    return secrets.token_bytes(PEPPER_BYTES)


def any_keyed(conn: Connection) -> bool:
    """Whether any stored hash needs the pepper (a lost pepper must not be made anew)."""
    return (
        conn.execute(
            select(custody_pins.c.person)
            .where(custody_pins.c.hash.startswith(KEYED_PREFIX, autoescape=True))
            .limit(1)
        ).first()
        is not None
    )
