"""The stored log: appends, roots, proofs and checkpoints agree with the reference tree."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text, update

from coldset.install import Install
from coldset.ledger import merkle
from coldset.ledger.checkpoint import Checkpoint
from coldset.ledger.errors import LedgerError
from coldset.ledger.log import (
    InconsistentCheckpoint,
    IndexOutOfRange,
    Ledger,
    LogExists,
    UnknownLog,
)
from coldset.ledger.note import open_note
from coldset.store.schema import ledger_logs, ledger_nodes

from .conftest import entries, make_log

_fresh = itertools.count()


def test_indices_are_assigned_in_order_across_batches(install: Install) -> None:
    """Entry i gets index i, whatever the batching."""
    origin = install.origin("p")
    with install.store.write() as conn:
        install.ledger.create(conn, origin)
        assert install.ledger.append(conn, origin, entries(3)) == [0, 1, 2]
    with install.store.write() as conn:
        assert install.ledger.append(conn, origin, entries(2, 3)) == [3, 4]
    with install.store.read() as conn:
        assert install.ledger.size(conn, origin) == 5
        assert install.ledger.entry(conn, origin, 3) == entries(1, 3)[0]


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(batches=st.lists(st.integers(1, 70), min_size=1, max_size=8), data=st.data())
def test_roots_and_proofs_match_the_reference_tree(
    install: Install, batches: list[int], data: st.DataObject
) -> None:
    """Stored roots, inclusion and consistency proofs verify against the reference root."""
    slug = f"h{next(_fresh)}"
    all_entries: list[bytes] = []
    plan = []
    for n in batches:
        plan.append(entries(n, len(all_entries)))
        all_entries.extend(plan[-1])
    origin = make_log(install, slug, plan)
    leaves = [merkle.leaf_hash(e) for e in all_entries]
    total = len(leaves)
    with install.store.read() as conn:
        for size in sorted({1, total, *data.draw(st.lists(st.integers(1, total), max_size=5))}):
            root = merkle.root_of(leaves[:size])
            assert install.ledger.root(conn, origin, size) == root
            idx = data.draw(st.integers(0, size - 1))
            proof = install.ledger.inclusion_proof(conn, origin, idx, size)
            merkle.verify_inclusion(leaves[idx], idx, size, proof, root)
            m = data.draw(st.integers(1, size))
            cproof = install.ledger.consistency_proof(conn, origin, m, size)
            merkle.verify_consistency(m, size, cproof, merkle.root_of(leaves[:m]), root)


def test_each_batch_gets_a_signed_checkpoint_for_its_size(install: Install) -> None:
    """One transaction, one checkpoint; the note verifies and carries origin, size and root."""
    origin = make_log(install, "cp", [entries(5), entries(1, 5), entries(10, 6)])
    with install.store.read() as conn:
        cps = list(install.ledger.checkpoints(conn, origin))
        assert [c.size for c in cps] == [5, 6, 16]
        for c in cps:
            body = Checkpoint.parse(open_note(c.note, [install.ledger.verifier]).text)
            assert (body.origin, body.size, body.root) == (origin, c.size, c.root)
            assert body.root == install.ledger.root(conn, origin, c.size)


def test_a_rolled_back_append_leaves_nothing_and_the_next_append_is_right(
    install: Install,
) -> None:
    """An append whose transaction fails is not half-written; the writer recovers."""
    origin = make_log(install, "rb", [entries(3)])
    with pytest.raises(RuntimeError), install.store.write() as conn:
        install.ledger.append(conn, origin, entries(4, 3))
        raise RuntimeError("the caller's transaction fails after the append")
    with install.store.write() as conn:
        install.ledger.append(conn, origin, entries(2, 3))
    with install.store.read() as conn:
        assert install.ledger.size(conn, origin) == 5
        assert install.ledger.root(conn, origin) == merkle.root_of(
            [merkle.leaf_hash(e) for e in entries(5)]
        )
        assert [c.size for c in install.ledger.checkpoints(conn, origin)] == [3, 5]


def test_a_second_writer_instance_continues_the_same_tree(install: Install) -> None:
    """The frontier is reloaded from the store when another writer appended meanwhile."""
    origin = make_log(install, "two", [entries(7)])
    other = Ledger(install.signer)
    with install.store.write() as conn:
        other.append(conn, origin, entries(300, 7))
    with install.store.write() as conn:
        install.ledger.append(conn, origin, entries(5, 307))
    with install.store.read() as conn:
        assert install.ledger.root(conn, origin) == merkle.root_of(
            [merkle.leaf_hash(e) for e in entries(312)]
        )


def test_refuses_to_sign_a_checkpoint_inconsistent_with_the_last(install: Install) -> None:
    """If the stored tree no longer extends the last signed checkpoint, nothing is signed."""
    origin = make_log(install, "inc", [entries(4)])
    forged = b"\x07" * 32
    # Someone rewrites history: the subtree over entries 0..3 and the stored root.
    with install.store.write() as conn:
        conn.execute(update(ledger_nodes).where(ledger_nodes.c.level == 2).values(hashes=forged))
        conn.execute(update(ledger_logs).where(ledger_logs.c.origin == origin).values(root=forged))
    fresh = Ledger(install.signer)
    with (
        pytest.raises(InconsistentCheckpoint, match="not consistent"),
        install.store.write() as conn,
    ):
        fresh.append(conn, origin, entries(1, 4))
    with install.store.read() as conn:
        assert [c.size for c in install.ledger.checkpoints(conn, origin)] == [4]
        assert install.ledger.size(conn, origin) == 4


def test_a_stored_root_that_disagrees_with_the_nodes_stops_the_append(install: Install) -> None:
    """An append never builds on a frontier that does not give the stored root."""
    origin = make_log(install, "root", [entries(4)])
    with install.store.write() as conn:
        conn.execute(
            update(ledger_logs).where(ledger_logs.c.origin == origin).values(root=b"\x00" * 32)
        )
    with (
        pytest.raises(LedgerError, match="do not give the stored root"),
        install.store.write() as conn,
    ):
        Ledger(install.signer).append(conn, origin, entries(1, 4))


def test_bad_requests_are_named(install: Install) -> None:
    """Unknown logs, duplicate logs, indices and sizes out of range get clear errors."""
    origin = make_log(install, "bad", [entries(3)])
    with install.store.read() as conn:
        with pytest.raises(UnknownLog, match="no log named 'nope'"):
            install.ledger.size(conn, "nope")
        with pytest.raises(IndexOutOfRange, match="0..2"):
            install.ledger.entry(conn, origin, 3)
        with pytest.raises(IndexOutOfRange):
            install.ledger.inclusion_proof(conn, origin, 0, 4)
        with pytest.raises(IndexOutOfRange):
            install.ledger.consistency_proof(conn, origin, 0, 2)
    with pytest.raises(LogExists), install.store.write() as conn:
        install.ledger.create(conn, origin)


def test_sqlite_commits_are_durable(install: Install) -> None:
    """The write connection runs WAL with synchronous=FULL (2)."""
    with install.store.write() as conn:
        assert conn.execute(text("PRAGMA synchronous")).scalar() == 2
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
