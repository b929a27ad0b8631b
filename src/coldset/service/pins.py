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

from sqlalchemy import Connection, delete, insert, select

from coldset.store.custody_schema import custody_pins

# the hasher lives with the store, below the install that opens it; named here as before
from coldset.store.pins import KEYED_PREFIX as KEYED_PREFIX
from coldset.store.pins import PEPPER_BYTES as PEPPER_BYTES
from coldset.store.pins import PinHasher as PinHasher
from coldset.store.pins import any_keyed as any_keyed
from coldset.store.pins import is_keyed as is_keyed
from coldset.store.pins import new_pepper as new_pepper


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
