"""`verify` and the evidence export catch any change to entries, nodes or checkpoints."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select, update

from coldset.install import Install
from coldset.ledger import verify as verify_mod
from coldset.ledger.bundle_check import check_bundle
from coldset.ledger.errors import LedgerError
from coldset.ledger.export import export_log, standalone_verifier_source
from coldset.ledger.verify import verify_log
from coldset.store.schema import ledger_checkpoints, ledger_entries, ledger_logs, ledger_nodes

from .conftest import entries, make_log

_fresh = itertools.count()
SLOW = settings(
    max_examples=int(os.environ.get("COLDSET_HYPOTHESIS_EXAMPLES", "30")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@pytest.fixture(params=["inline", "parallel"], autouse=True)
def mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run each test both in one process and split into many tasks over two processes.

    The split is scaled down (level split 2, tasks of 512 entries and 3 checkpoints)
    so small logs exercise every task boundary the million-entry runs have.
    """
    if request.param == "parallel":
        monkeypatch.setattr(verify_mod, "SPLIT", 2)
        monkeypatch.setattr(verify_mod, "TASK_LEAVES", 512)
        monkeypatch.setattr(verify_mod, "TASK_CHECKPOINTS", 3)
        monkeypatch.setattr(verify_mod, "PARALLEL_MIN", 0)
    return str(request.param)


def _verify(inst: Install, origin: str):
    with inst.store.read() as conn:
        return verify_log(conn, origin, inst.ledger.verifier)


def _flip(blob: bytes, pos: int) -> bytes:
    b = bytearray(blob)
    b[pos % len(b)] ^= 0x01
    return bytes(b)


def _log(inst: Install, sizes: list[int]) -> str:
    batches, n = [], 0
    for k in sizes:
        batches.append(entries(k, n))
        n += k
    return make_log(inst, f"v{next(_fresh)}", batches)


def test_an_untouched_log_verifies(install: Install, mode: str) -> None:
    """A log written only by the ledger verifies with no problems, counting what it checked."""
    origin = _log(install, [300, 1, 255, 70, 1200, 3, 300])
    rep = _verify(install, origin)
    assert rep.ok, rep.problems
    assert (rep.entries, rep.checkpoints) == (2129, 7)
    assert rep.workers == (2 if mode == "parallel" else 1)
    assert rep.node_rows == sum(-(-(2129 >> lvl) // 256) for lvl in range((2129).bit_length()))


@SLOW
@given(sizes=st.lists(st.integers(1, 700), min_size=1, max_size=5), data=st.data())
def test_any_changed_entry_byte_is_named(
    install: Install, sizes: list[int], data: st.DataObject
) -> None:
    """Flipping one bit of any entry makes verify fail and name that entry first."""
    origin = _log(install, sizes)
    idx = data.draw(st.integers(0, sum(sizes) - 1))
    pos = data.draw(st.integers(0, 10_000))
    with install.store.write() as conn:
        old = conn.execute(
            select(ledger_entries.c.data).where(
                ledger_entries.c.idx == idx,
                ledger_entries.c.log_id
                == select(ledger_logs.c.id).where(ledger_logs.c.origin == origin).scalar_subquery(),
            )
        ).scalar_one()
        conn.execute(
            update(ledger_entries)
            .where(ledger_entries.c.idx == idx, ledger_entries.c.data == old)
            .values(data=_flip(old, pos))
        )
    rep = _verify(install, origin)
    assert not rep.ok
    assert rep.problems[0].kind == "entry" and rep.problems[0].index == idx


@SLOW
@given(sizes=st.lists(st.integers(1, 700), min_size=1, max_size=5), data=st.data())
def test_any_changed_node_byte_is_caught(
    install: Install, sizes: list[int], data: st.DataObject
) -> None:
    """Flipping one bit of any stored node row makes verify fail."""
    origin = _log(install, sizes)
    with install.store.write() as conn:
        log_id = conn.execute(
            select(ledger_logs.c.id).where(ledger_logs.c.origin == origin)
        ).scalar_one()
        rows = conn.execute(
            select(ledger_nodes.c.level, ledger_nodes.c.chunk, ledger_nodes.c.hashes).where(
                ledger_nodes.c.log_id == log_id
            )
        ).all()
        level, chunk, blob = data.draw(st.sampled_from(rows))
        conn.execute(
            update(ledger_nodes)
            .where(
                ledger_nodes.c.log_id == log_id,
                ledger_nodes.c.level == level,
                ledger_nodes.c.chunk == chunk,
            )
            .values(hashes=_flip(blob, data.draw(st.integers(0, 10_000))))
        )
    rep = _verify(install, origin)
    assert not rep.ok
    assert rep.problems[0].kind in ("entry", "node")
    assert rep.problems[0].level == level


@SLOW
@given(sizes=st.lists(st.integers(1, 40), min_size=1, max_size=4), data=st.data())
def test_any_changed_checkpoint_byte_is_caught(
    install: Install, sizes: list[int], data: st.DataObject
) -> None:
    """Changing any character of any stored signed checkpoint makes verify fail."""
    origin = _log(install, sizes)
    with install.store.write() as conn:
        seq = data.draw(st.integers(0, len(sizes) - 1))
        note = conn.execute(
            select(ledger_checkpoints.c.note).where(
                ledger_checkpoints.c.seq == seq,
                ledger_checkpoints.c.log_id
                == select(ledger_logs.c.id).where(ledger_logs.c.origin == origin).scalar_subquery(),
            )
        ).scalar_one()
        pos = data.draw(st.integers(0, 10_000)) % len(note)
        ch = note[pos]
        forged = note[:pos] + ("A" if ch != "A" else "B") + note[pos + 1 :]
        conn.execute(
            update(ledger_checkpoints).where(ledger_checkpoints.c.note == note).values(note=forged)
        )
    rep = _verify(install, origin)
    assert not rep.ok
    assert rep.problems[0].kind == "checkpoint"


def test_truncation_drop_and_reorder_are_caught(install: Install) -> None:
    """Dropping the last entry, dropping a middle one, or swapping two are each caught."""
    for damage in ("truncate", "drop", "swap"):
        origin = _log(install, [20, 13])
        with install.store.write() as conn:
            log_id = conn.execute(
                select(ledger_logs.c.id).where(ledger_logs.c.origin == origin)
            ).scalar_one()
            e = ledger_entries.c
            if damage == "truncate":
                conn.execute(delete(ledger_entries).where(e.log_id == log_id, e.idx == 32))
                conn.execute(update(ledger_logs).where(ledger_logs.c.id == log_id).values(size=32))
            elif damage == "drop":
                conn.execute(delete(ledger_entries).where(e.log_id == log_id, e.idx == 5))
                conn.execute(
                    update(ledger_entries)
                    .where(e.log_id == log_id, e.idx > 5)
                    .values(idx=e.idx - 1)
                )
            else:
                a, b = (
                    conn.execute(select(e.data).where(e.log_id == log_id, e.idx == i)).scalar_one()
                    for i in (3, 4)
                )
                conn.execute(
                    update(ledger_entries).where(e.log_id == log_id, e.idx == 3).values(data=b)
                )
                conn.execute(
                    update(ledger_entries).where(e.log_id == log_id, e.idx == 4).values(data=a)
                )
        rep = _verify(install, origin)
        assert not rep.ok, damage


def _export(inst: Install, origin: str, d: Path) -> Path:
    with inst.store.read() as conn:
        export_log(conn, inst.ledger, origin, d)
    return d


def _run_standalone(bundle: Path, key: str) -> subprocess.CompletedProcess[str]:
    """Run the bundle's verify.py in isolated mode: no coldset on the path."""
    return subprocess.run(
        [sys.executable, "-I", str(bundle / "verify.py"), str(bundle), "--key", key],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_standalone_verifier_accepts_an_honest_export(install: Install, tmp_path: Path) -> None:
    """verify.py, run without coldset importable, checks an export and says what it checked."""
    origin = _log(install, [5, 300, 2])
    bundle = _export(install, origin, tmp_path / "bundle")
    assert "import coldset" not in (bundle / "verify.py").read_text()
    res = _run_standalone(bundle, install.signer.verifier_text)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "307 entries re-hashed" in res.stdout and "3 checkpoint signatures" in res.stdout
    assert "2 consistency proofs" in res.stdout and "RESULT: OK" in res.stdout


@SLOW
@given(data=st.data())
def test_standalone_verifier_catches_any_changed_byte(
    install: Install, tmp_path_factory, data: st.DataObject
) -> None:
    """One changed byte in entries, checkpoints or proofs of an export fails the check."""
    origin = _log(install, [7, 9, 30])
    bundle = _export(install, origin, tmp_path_factory.mktemp("b") / "bundle")
    name = data.draw(st.sampled_from(["entries.jsonl", "checkpoints.jsonl", "consistency.jsonl"]))
    raw = (bundle / name).read_bytes()
    pos = data.draw(st.integers(0, 100_000)) % len(raw)
    # A changed byte that leaves the file's JSON framing intact is the hard case;
    # newline changes are truncation and are covered below.
    new = b"A" if raw[pos : pos + 1] != b"A" else b"B"
    if raw[pos : pos + 1] == b"\n":
        return
    (bundle / name).write_bytes(raw[:pos] + new + raw[pos + 1 :])
    try:
        rep = check_bundle(str(bundle), install.signer.verifier_text)
        assert not rep.ok
    except LedgerError:
        pass  # refused outright: also caught


def test_truncated_export_is_one_clear_line(install: Install, tmp_path: Path) -> None:
    """A bundle cut short gets a plain failure, never a traceback."""
    origin = _log(install, [10, 10])
    bundle = _export(install, origin, tmp_path / "bundle")
    raw = (bundle / "entries.jsonl").read_bytes()
    (bundle / "entries.jsonl").write_bytes(raw[: len(raw) // 2])
    res = _run_standalone(bundle, install.signer.verifier_text)
    assert res.returncode == 1
    assert "Traceback" not in res.stdout + res.stderr
    assert "RESULT: FAILED" in res.stdout and "truncated" in res.stdout
    (bundle / "manifest.json").write_text('{"format": ')
    res = _run_standalone(bundle, install.signer.verifier_text)
    assert res.returncode == 1 and res.stdout.startswith("FAILED: manifest.json is not valid")


def test_standalone_verifier_refuses_another_key(install: Install, tmp_path: Path) -> None:
    """A bundle checked against a key that did not sign it fails, naming the key problem."""
    from coldset.ledger.note import Signer

    origin = _log(install, [3])
    bundle = _export(install, origin, tmp_path / "bundle")
    other = Signer.generate("test.local").verifier_text
    res = _run_standalone(bundle, other)
    assert res.returncode == 1 and "RESULT: FAILED" in res.stdout
    assert "known key" in res.stdout


def test_export_refuses_a_non_empty_directory(install: Install, tmp_path: Path) -> None:
    """Export never mixes with existing files."""
    origin = _log(install, [3])
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "keep.txt").write_text("mine")
    with pytest.raises(LedgerError, match="not empty"):
        _export(install, origin, tmp_path / "x")


def test_standalone_source_is_one_self_contained_file() -> None:
    """The assembled verifier compiles and imports nothing from coldset."""
    src = standalone_verifier_source()
    compile(src, "verify.py", "exec")
    assert "from ." not in src and "coldset." not in src.replace("coldset evidence", "")
    assert json  # (json is used by the bundle format; keep the import honest)
