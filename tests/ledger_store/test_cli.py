"""The ledger commands as a user runs them: init, logs, verify, proof, entry, export."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from coldset.cli import main
from coldset.config import Settings
from coldset.install import open_install
from coldset.ledger import tlogproof
from coldset.ledger.note import Verifier

from .conftest import entries, make_log


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run ``coldset ARGS`` through the real entry point; return (exit code, stdout, stderr)."""
    old = sys.argv
    sys.argv = ["coldset", *args]
    try:
        main()
        code = 0
    except SystemExit as e:
        code = int(e.code or 0)
    finally:
        sys.argv = old
    cap = capsys.readouterr()
    return code, cap.out, cap.err


@pytest.fixture
def home(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    h = tmp_path / "home"
    code, out, _ = cli(capsys, "--home", str(h), "init", "--name", "cli.test")
    assert code == 0 and "cli.test+" in out
    inst = open_install(Settings.load(h))
    make_log(inst, "western", [entries(5), entries(20, 5)])
    inst.close()
    return h


def test_init_makes_a_private_key_and_prints_the_verifier_key(home: Path) -> None:
    """The signing key is mode 0600 and the verifier key file parses."""
    assert (home / "signing.key").stat().st_mode & 0o777 == 0o600
    Verifier.from_text((home / "verifier.key").read_text().strip())


def test_init_refuses_to_overwrite_a_key(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A second init in the same directory changes nothing and says why."""
    before = (home / "signing.key").read_bytes()
    code, _, err = cli(capsys, "--home", str(home), "init")
    assert code == 1 and "already exists" in err
    assert (home / "signing.key").read_bytes() == before


def test_verify_ok_and_json(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """verify prints OK with what it checked; --json gives the same as data."""
    code, out, _ = cli(capsys, "--home", str(home), "verify", "western")
    assert code == 0 and "OK cli.test/western: 25 entries" in out
    code, out, _ = cli(capsys, "--home", str(home), "verify", "--json")
    data = json.loads(out)
    assert code == 0 and data["ok"] and data["logs"][0]["entries_checked"] == 25


def test_verify_names_the_first_bad_entry(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A changed entry makes verify exit 2 and name it."""
    import sqlite3

    db = sqlite3.connect(home / "coldset.sqlite")
    db.execute("UPDATE ledger_entries SET data = X'00' WHERE idx = 7")
    db.commit()
    db.close()
    code, out, _ = cli(capsys, "--home", str(home), "verify", "western")
    assert code == 2 and "FAILED" in out and "entry 7 " in out


def test_proof_prints_a_receipt_that_verifies(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`proof` prints a c2sp.org/tlog-proof@v1 that checks against `entry`'s bytes."""
    code, receipt, _ = cli(capsys, "--home", str(home), "proof", "western", "12")
    assert code == 0 and receipt.startswith("c2sp.org/tlog-proof@v1\n")
    code, _, _ = cli(capsys, "--home", str(home), "entry", "western", "12")
    assert code == 0
    vkey = Verifier.from_text((home / "verifier.key").read_text().strip())
    cp = tlogproof.verify_proof(receipt, entries(1, 12)[0], vkey, origin="cli.test/western")
    assert cp.size == 25


def test_entry_prints_exact_bytes(home: Path) -> None:
    """`entry` writes the stored bytes and nothing else (checked through a real process)."""
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "coldset.cli",
            "--home",
            str(home),
            "entry",
            "cli.test/western",
            "3",
        ],
        capture_output=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout == entries(1, 3)[0]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["proof", "western", "abc"], "index 'abc' is not a number"),
        (["proof", "western", "-1"], "No such option: -1"),
        (["proof", "western", "--", "-1"], "is negative"),
        (["proof", "western", "25"], "out of range"),
        (["entry", "nope", "0"], "no log named 'nope'"),
        (["entry", "western", "99"], "out of range"),
        (["verify", "nope"], "no log named 'nope'"),
        (["proof", "western"], "Missing argument"),
    ],
)
def test_bad_input_is_one_line_and_exit_1(
    home: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    """Malformed or unknown input: exit 1, one clear line, no traceback."""
    code, out, err = cli(capsys, "--home", str(home), *args)
    assert code == 1
    assert message in err and "Traceback" not in out + err


def test_export_then_standalone_verify(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`export` writes a bundle whose verify.py passes with the verifier key file."""
    code, out, _ = cli(capsys, "--home", str(home), "export", "western", str(tmp_path / "b"))
    assert code == 0 and "25 entries" in out
    res = subprocess.run(
        [
            sys.executable,
            "-I",
            str(tmp_path / "b" / "verify.py"),
            str(tmp_path / "b"),
            "--key",
            str(home / "verifier.key"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert res.returncode == 0 and "RESULT: OK" in res.stdout


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o000])
def test_commands_refuse_an_exposed_or_unreadable_key(
    home: Path, mode: int, capsys: pytest.CaptureFixture[str]
) -> None:
    """A signing key readable by others, or unreadable, stops every command with the fix."""
    if mode == 0 and os.geteuid() == 0:
        pytest.skip("root reads a mode-000 file; the group/other check is what applies")
    key = home / "signing.key"
    key.chmod(mode)
    try:
        code, _, err = cli(capsys, "--home", str(home), "verify")
    finally:
        key.chmod(0o600)
    assert code == 1
    if mode:
        assert "readable by other users" in err and "chmod 600" in err
    else:
        assert "unreadable" in err
