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

The PIN cache
-------------
argon2id costs ~20 ms a check, and a performer confirms forty handoffs a day,
so each custody service keeps ONE :class:`PinCache` (``CustodyService.pin_cache``;
the writer process has one service, so one cache). It is the only place that
remembers anything about PINs between commands, and it holds two things:

* **stored hashes**, per production: person -> stored hash (or None: no PIN),
  tagged with the production's log size when they were read. They are used
  only while the log still has that size. That is sound because
  :func:`store_pin` is only ever called with a log entry appended in the same
  transaction (create_production, add_person, set_pin, reset_pin): a PIN
  change by this or any other writer (another process, the CLI) moves the log
  size, and the next batch reads the hashes again. Only a committed batch
  stores them (with the size it committed); a rolled-back one drops them.
* **verified PINs**: (production, person) -> (stored hash, keyed BLAKE2b digest
  of the PIN) that argon2 accepted. A hit needs the *stored hash the caller
  read* to be the same string, and a new PIN is always a new stored hash (a
  fresh salt), so a changed PIN can never be served from it. The digest is
  under a random per-process key: the cache holds no PIN. A wrong PIN is never
  remembered; a PIN change, a rejected PIN or a locked PIN forgets the person.

Invalidation, in one sentence: **a log-size change invalidates the stored
hashes of that production; a different stored hash invalidates a verified
PIN.** Nothing else is cached (the group-commit queue asks
:meth:`PinCache.known` whether a PIN still needs argon2 before the writer sees
it; it is a hint, the writer's own check decides).
"""

from __future__ import annotations

import hashlib
import secrets
import threading

from sqlalchemy import Connection, delete, insert, select

from coldset.store.custody_schema import custody_pins

# the hasher lives with the store, below the install that opens it; named here as before
from coldset.store.pins import KEYED_PREFIX as KEYED_PREFIX
from coldset.store.pins import PEPPER_BYTES as PEPPER_BYTES
from coldset.store.pins import PinHasher as PinHasher
from coldset.store.pins import any_keyed as any_keyed
from coldset.store.pins import is_keyed as is_keyed
from coldset.store.pins import new_pepper as new_pepper


class PinCache:
    """The one PIN cache of a custody service; its rules are in the module docstring."""

    #: more entries than this and a map is emptied (a bound, not a policy)
    LIMIT = 10_000

    def __init__(self, hasher: PinHasher) -> None:
        self.hasher = hasher
        self._key = secrets.token_bytes(32)
        self._lock = threading.Lock()
        self._hashes: dict[str, tuple[int, dict[str, str | None]]] = {}
        self._verified: dict[tuple[str, str], tuple[str, bytes]] = {}

    def _digest(self, production: str, person: str, pin: str) -> bytes:
        return hashlib.blake2b(
            f"{production}\0{person}\0{pin}".encode(), key=self._key, digest_size=32
        ).digest()

    # stored hashes: valid while the production's log has the size they were read at

    def hashes(self, production: str, size: int) -> dict[str, str | None]:
        """A copy of the stored hashes read at log size ``size`` ({} when none or stale)."""
        with self._lock:
            found = self._hashes.get(production)
            return dict(found[1]) if found is not None and found[0] == size else {}

    def keep_hashes(self, production: str, size: int, hashes: dict[str, str | None]) -> None:
        """Remember what a committed transaction read and wrote, at the size it committed."""
        with self._lock:
            if len(self._hashes) > self.LIMIT:
                self._hashes.clear()
            self._hashes[production] = (size, dict(hashes))

    def drop_hashes(self, production: str) -> None:
        with self._lock:
            self._hashes.pop(production, None)

    # verified PINs: valid while the stored hash is the same string

    def check(self, stored: str, production: str, person: str, pin: str) -> bool:
        """Whether ``pin`` matches ``stored``: from the cache, or argon2id (then remembered)."""
        digest = self._digest(production, person, pin)
        if self._verified.get((production, person)) == (stored, digest):
            return True
        ok = self.hasher.verify(stored, production, person, pin)
        if ok:
            with self._lock:
                if len(self._verified) > self.LIMIT:
                    self._verified.clear()
                self._verified[(production, person)] = (stored, digest)
        return ok

    def known(self, production: str, person: str, pin: str) -> bool:
        """Whether ``pin`` verified here last time (a hint: :meth:`check` decides)."""
        found = self._verified.get((production, person))
        return found is not None and found[1] == self._digest(production, person, pin)

    def forget(self, production: str, person: str | None) -> None:
        """Forget the person's verified PIN (their PIN changed, was refused or is locked)."""
        if person is None:
            return
        with self._lock:
            self._verified.pop((production, person), None)


def stored_hashes(conn: Connection, production: str, people: list[str]) -> dict[str, str]:
    if not people:
        return {}
    rows = conn.execute(
        select(custody_pins.c.person, custody_pins.c.hash).where(
            custody_pins.c.production == production, custody_pins.c.person.in_(people)
        )
    ).all()
    return {r.person: r.hash for r in rows}


def store_pin(conn: Connection, production: str, person: str, pin_hash: str) -> None:
    """Replace ``person``'s hash. Call it only alongside a log entry (see above)."""
    conn.execute(
        delete(custody_pins).where(
            custody_pins.c.production == production, custody_pins.c.person == person
        )
    )
    conn.execute(insert(custody_pins).values(production=production, person=person, hash=pin_hash))
