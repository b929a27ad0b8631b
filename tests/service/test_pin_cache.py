"""The service's one PIN cache: a changed PIN takes effect at once, in this service or another.

The cache (:class:`coldset.service.pins.PinCache`) keeps stored hashes per
production, valid while the production's log keeps the size it had when they were
read (every PIN change is a log entry), and the PINs argon2 accepted, valid while
the stored hash is the same string. The path through the writer process the
server runs is tested in tests/web/test_writer_process.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from coldset.domain.sample import PRODUCTION, western
from coldset.ledger.log import Ledger
from coldset.service import CustodyService
from coldset.service.command_queue import CommandQueue
from coldset.service.pins import PinCache, PinHasher
from coldset.store.db import Store
from tests.domain.conftest import DAY

from .conftest import PEPPER, PINS, cmd, make_service


def consent(service: CustodyService, person: str, pin_: str) -> Any:
    """A command that needs ``person``'s PIN as a confirmation (repeatable)."""
    return service.execute(
        cmd(
            "record_consent",
            "hana",
            performer=person,
            weapon_type="shotgun",
            confirmations=[{"person": person, "pin": pin_}],
        )
    )


def consent_cmd(person: str, pin_: str) -> dict[str, object]:
    return cmd(
        "record_consent",
        "hana",
        performer=person,
        weapon_type="shotgun",
        confirmations=[{"person": person, "pin": pin_}],
    )


@contextmanager
def pin_queries(service: CustodyService) -> Iterator[list[str]]:
    """Collect the SQL statements that read the PIN table while the block runs."""
    seen: list[str] = []

    def spy(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "custody_pins" in statement and statement.lstrip().upper().startswith("SELECT"):
            seen.append(statement)

    engine = service.store.engine
    event.listen(engine, "before_cursor_execute", spy)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", spy)


def test_a_known_pin_is_not_read_again(western_service: CustodyService) -> None:
    """After the first check, the same person's PIN costs no query while the cache is valid."""
    svc = western_service
    assert consent(svc, "alec", PINS["alec"]).ok
    with pin_queries(svc) as seen:
        for _ in range(3):
            assert consent(svc, "alec", PINS["alec"]).ok
        assert consent(svc, "alec", "0000").error_kind == "credential"
    assert seen == []


def test_reset_pin_refuses_the_old_pin_at_once(western_service: CustodyService) -> None:
    svc = western_service
    assert consent(svc, "alec", PINS["alec"]).ok  # cached now
    assert svc.execute(cmd("reset_pin", "hana", person="alec", pin="5555")).ok
    r = consent(svc, "alec", PINS["alec"])
    assert r.error_kind == "credential"
    assert consent(svc, "alec", "5555").ok


def test_set_pin_refuses_the_old_pin_at_once(western_service: CustodyService) -> None:
    svc = western_service
    assert consent(svc, "alec", PINS["alec"]).ok
    assert svc.execute(cmd("set_pin", "alec", person="alec", pin="86420")).ok
    assert consent(svc, "alec", PINS["alec"]).error_kind == "credential"
    assert consent(svc, "alec", "86420").ok


def test_a_reset_inside_the_batch_counts_for_the_rest_of_the_batch(
    western_service: CustodyService,
) -> None:
    svc = western_service
    assert consent(svc, "alec", PINS["alec"]).ok
    rs = svc.execute_batch(
        [
            consent_cmd("alec", PINS["alec"]),
            cmd("reset_pin", "hana", person="alec", pin="5555"),
            consent_cmd("alec", PINS["alec"]),
            consent_cmd("alec", "5555"),
        ]
    )
    assert [r.status for r in rs[:2]] == ["allowed", "allowed"]
    assert rs[2].error_kind == "credential"
    assert rs[3].ok
    # and after the batch
    assert consent(svc, "alec", PINS["alec"]).error_kind == "credential"
    assert consent(svc, "alec", "5555").ok


def test_actor_pin_follows_a_reset(western_service: CustodyService) -> None:
    """The actor's own PIN (web sessions send it) is cached and invalidated the same way."""
    svc = western_service
    unlock = cmd("unlock_container", "hana", container="safe-main")
    lock = cmd("lock_container", "hana", container="safe-main")
    assert svc.execute(unlock, actor_pin=PINS["hana"]).ok
    assert svc.execute(lock, actor_pin=PINS["hana"]).ok
    assert svc.execute(cmd("set_pin", "hana", person="hana", pin="24680")).ok
    assert svc.execute(unlock, actor_pin=PINS["hana"]).error_kind == "credential"
    assert svc.execute(unlock, actor_pin="24680").ok


def test_another_service_on_the_same_store_resets(western_service: CustodyService) -> None:
    svc = western_service
    assert consent(svc, "alec", PINS["alec"]).ok
    other = CustodyService(svc.store, svc.ledger, svc.clock, pins=svc.pins)
    assert other.execute(cmd("reset_pin", "hana", person="alec", pin="5555")).ok
    assert consent(svc, "alec", PINS["alec"]).error_kind == "credential"
    assert consent(svc, "alec", "5555").ok


def test_another_process_resets(tmp_path: Path) -> None:
    """Another writer with its own engine, ledger and caches (as another process has)."""
    path = tmp_path / "db.sqlite"
    svc = make_service(path)
    assert all(r.ok for r in svc.execute_batch(western(DAY, PINS)))
    assert consent(svc, "alec", PINS["alec"]).ok
    store2 = Store.open(f"sqlite:///{path}")
    other = CustodyService(
        store2,
        Ledger(svc.ledger.signer),
        svc.clock,
        pins=PinHasher(PEPPER),
        origin_prefix=svc.origin_prefix,
    )
    try:
        assert other.execute(cmd("reset_pin", "hana", person="alec", pin="5555")).ok
        assert consent(svc, "alec", PINS["alec"]).error_kind == "credential"
        assert consent(svc, "alec", "5555").ok
        # and back the other way: this service changes it, the other sees it
        assert svc.execute(cmd("set_pin", "alec", person="alec", pin="7777")).ok
        assert consent(other, "alec", "5555").error_kind == "credential"
        assert consent(other, "alec", "7777").ok
    finally:
        store2.dispose()
        svc.store.dispose()


def test_a_rolled_back_reset_leaves_the_old_pin(
    western_service: CustodyService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch that fails after storing a new hash must not leave that hash cached."""
    svc = western_service
    assert consent(svc, "alec", PINS["alec"]).ok

    def boom(*_a: Any, **_k: Any) -> None:
        raise RuntimeError("disk full")

    with monkeypatch.context() as m:
        m.setattr(svc, "_flush", boom)
        with pytest.raises(RuntimeError):
            svc.execute_batch(
                [cmd("reset_pin", "hana", person="alec", pin="5555"), consent_cmd("alec", "5555")]
            )
    assert consent(svc, "alec", "5555").error_kind == "credential"
    assert consent(svc, "alec", PINS["alec"]).ok


def test_a_new_person_has_no_pin_until_one_is_set(western_service: CustodyService) -> None:
    """'No PIN' is cached too, and forgotten when the PIN is set."""
    svc = western_service
    assert svc.execute(
        cmd("add_person", "maria", person="newbie", name="New", roles=["performer"])
    ).ok
    assert consent(svc, "newbie", "1234").error_kind == "credential"
    assert svc.execute(cmd("set_pin", "maria", person="newbie", pin="1234")).ok
    assert consent(svc, "newbie", "1234").ok


def test_lockout_still_applies_with_a_cached_hash(western_service: CustodyService) -> None:
    svc = western_service
    assert consent(svc, "alec", PINS["alec"]).ok
    for _ in range(5):
        assert consent(svc, "alec", "0000").error_kind == "credential"
    r = consent(svc, "alec", PINS["alec"])
    assert r.error_kind == "credential" and "locked" in (r.error or "")
    assert svc.execute(cmd("reset_pin", "hana", person="alec", pin="5555")).ok
    assert consent(svc, "alec", PINS["alec"]).error_kind == "credential"
    assert consent(svc, "alec", "5555").ok


class _CountingHasher(PinHasher):
    """A real hasher that counts its argon2 checks."""

    calls = 0

    def verify(self, stored: str, production: str, person: str, pin: str) -> bool:
        self.calls += 1
        return super().verify(stored, production, person, pin)


def test_there_is_one_pin_cache_and_the_hasher_has_none(western_service: CustodyService) -> None:
    """The hasher checks with argon2 every time; only the service's PinCache remembers,
    and the group-commit queue asks that same cache (it keeps no PIN state of its own)."""
    svc = western_service
    hasher = _CountingHasher(PEPPER)
    with svc.store.read() as conn:
        from coldset.service.pins import stored_hashes

        stored = stored_hashes(conn, PRODUCTION, ["alec"])["alec"]
    assert stored is not None
    assert hasher.verify(stored, PRODUCTION, "alec", PINS["alec"])
    assert hasher.verify(stored, PRODUCTION, "alec", PINS["alec"])
    assert hasher.calls == 2
    cache = PinCache(hasher)
    assert cache.check(stored, PRODUCTION, "alec", PINS["alec"])
    assert cache.check(stored, PRODUCTION, "alec", PINS["alec"])
    assert hasher.calls == 3
    queue = CommandQueue(svc)
    try:
        assert queue.custody.pin_cache is svc.pin_cache
        assert not [k for k in vars(queue) if "pin" in k and k != "_argon2_slots"]
    finally:
        queue.stop()


def test_a_changed_pin_needs_argon2_again_before_the_writer(
    western_service: CustodyService,
) -> None:
    """After a PIN reset the old PIN is no longer "known" to the queue's warm-up: it is
    checked off the writer again (before, the queue's own cache still called it known)."""
    from coldset.domain.commands import parse_command

    svc = western_service
    queue = CommandQueue(svc)
    try:
        old = parse_command(consent_cmd("alec", PINS["alec"]))
        queue.warm_pins(old)
        assert not queue.needs_pin_check(old, None)
        assert svc.execute(cmd("reset_pin", "hana", person="alec", pin="5555")).ok
        assert queue.needs_pin_check(old, None)
        assert consent(svc, "alec", PINS["alec"]).error_kind == "credential"
        new = parse_command(consent_cmd("alec", "5555"))
        queue.warm_pins(new)
        assert not queue.needs_pin_check(new, None)
        assert consent(svc, "alec", "5555").ok
    finally:
        queue.stop()


def test_a_verified_pin_is_tied_to_its_stored_hash(western_service: CustodyService) -> None:
    """The same PIN set again is a new stored hash: the cache does not answer for it until
    argon2 has checked it against the new hash."""
    svc = western_service
    hasher = _CountingHasher(PEPPER)
    cache = PinCache(hasher)
    first = hasher.hash(PRODUCTION, "alec", "1234")
    again = hasher.hash(PRODUCTION, "alec", "1234")
    assert first != again
    assert cache.check(first, PRODUCTION, "alec", "1234")
    assert cache.check(again, PRODUCTION, "alec", "1234")
    assert hasher.calls == 2
    assert not cache.check(first, PRODUCTION, "alec", "9999")
    assert svc.pin_cache is not cache
