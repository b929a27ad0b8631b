"""The store contract: the ledger and the custody service behave the same on every backend."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from coldset.clock import FixedClock
from coldset.config import Settings
from coldset.domain.sample import PRODUCTION, western
from coldset.install import init_install, open_install
from coldset.ledger import merkle
from coldset.ledger.export import export_log
from coldset.ledger.verify import verify_log
from coldset.service import CustodyService
from tests.domain.conftest import DAY, PINS

START = datetime(2025, 3, 3, 15, 0, tzinfo=UTC)


def _install(tmp_path: Path, database_url: str):
    settings = Settings.load(tmp_path / "home", database_url)
    init_install(settings, "contract.test")
    return open_install(settings)


def _entries(n: int, start: int = 0) -> list[bytes]:
    return [b'{"i":%d}' % i for i in range(start, start + n)]


def test_append_proofs_and_checkpoints(tmp_path: Path, database_url: str) -> None:
    """Appends in batches give the reference roots, verifiable proofs and one checkpoint each."""
    inst = _install(tmp_path, database_url)
    origin = inst.origin("p")
    with inst.store.write() as conn:
        inst.ledger.create(conn, origin)
    total = 0
    for n in (1, 255, 2, 300):
        with inst.store.write() as conn:
            assert inst.ledger.append(conn, origin, _entries(n, total)) == list(
                range(total, total + n)
            )
        total += n
    leaves = [merkle.leaf_hash(e) for e in _entries(total)]
    with inst.store.read() as conn:
        assert inst.ledger.root(conn, origin) == merkle.root_of(leaves)
        for i, size in ((0, 1), (256, 300), (557, 558)):
            root = merkle.root_of(leaves[:size])
            merkle.verify_inclusion(
                leaves[i], i, size, inst.ledger.inclusion_proof(conn, origin, i, size), root
            )
        merkle.verify_consistency(
            256,
            558,
            inst.ledger.consistency_proof(conn, origin, 256, 558),
            merkle.root_of(leaves[:256]),
            merkle.root_of(leaves),
        )
        assert [c.size for c in inst.ledger.checkpoints(conn, origin)] == [1, 256, 258, 558]
    inst.close()


def test_verify_and_export(tmp_path: Path, database_url: str) -> None:
    """A full verify passes, and an export of the same log checks out."""
    from coldset.ledger.bundle_check import check_bundle

    inst = _install(tmp_path, database_url)
    origin = inst.origin("v")
    with inst.store.write() as conn:
        inst.ledger.create(conn, origin)
    for k in range(5):
        with inst.store.write() as conn:
            inst.ledger.append(conn, origin, _entries(97, 97 * k))
    with inst.store.read() as conn:
        rep = verify_log(conn, origin, inst.ledger.verifier)
        assert rep.ok, rep.problems
        assert (rep.entries, rep.checkpoints) == (485, 5)
        export_log(conn, inst.ledger, origin, tmp_path / "bundle")
    assert check_bundle(str(tmp_path / "bundle"), inst.signer.verifier_text).ok
    inst.close()


def test_custody_service_rebuild_equals_incremental(tmp_path: Path, database_url: str) -> None:
    """The demo western through the service; the board survives a rebuild from the log."""
    inst = _install(tmp_path, database_url)
    svc = CustodyService(inst.store, inst.ledger, FixedClock(START), pins=inst.pins)
    results = svc.execute_batch(western(DAY, PINS))
    assert all(r.ok for r in results), [(r.command, r.error, r.rules) for r in results if not r.ok]
    refused = svc.execute(
        {
            "type": "issue",
            "production": PRODUCTION,
            "actor": "dave",
            "firearm": "colt-2",
            "to": "jensen",
            "scene": "sc-12",
        }
    )
    assert refused.status == "refused" and "armorer-only-handoff" in refused.rules
    before = svc.board(PRODUCTION)
    svc.rebuild(PRODUCTION)
    assert svc.board(PRODUCTION) == before
    with inst.store.read() as conn:
        assert verify_log(conn, svc.origin(PRODUCTION), inst.ledger.verifier).ok
    inst.close()


def test_the_servers_writer_process_on_every_backend(tmp_path: Path, database_url: str) -> None:
    """What `coldset serve` runs: the writer in a child process opens the same database
    (SQLite file or PostgreSQL schema); its commands land in the log this process reads,
    and the log still verifies."""
    from coldset.clock import SystemClock
    from coldset.service.writer_process import WriterProcess

    inst = _install(tmp_path, database_url)
    svc = CustodyService(inst.store, inst.ledger, SystemClock(), pins=inst.pins)
    today = datetime.now(UTC).date()
    assert all(r.ok for r in svc.execute_batch(western(today, PINS)))
    size = svc.state(PRODUCTION).size
    w = WriterProcess(inst.settings.home, database_url)
    w.start()
    try:
        assert w.wait_ready(timeout=60) == {PRODUCTION: size}
        w.listen()
        r1 = w.execute(
            {
                "type": "unlock_container",
                "production": PRODUCTION,
                "actor": "hana",
                "container": "safe-main",
            }
        )
        r2 = w.execute(
            {
                "type": "inspect",
                "production": PRODUCTION,
                "actor": "hana",
                "firearm": "colt-1",
                "chambers": ["empty"] * 6,
                "barrel_clear": True,
            }
        )
        assert r1.ok and r2.ok and (r1.index, r2.index) == (size, size + 1)
    finally:
        w.stop()
    assert svc.state(PRODUCTION).size == size + 2
    with inst.store.read() as conn:
        assert verify_log(conn, svc.origin(PRODUCTION), inst.ledger.verifier).ok
    inst.close()
