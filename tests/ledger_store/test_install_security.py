"""The data directory's secrets: file modes, the PIN pepper, the pinned public key.

Real installs in temporary directories; the CLI through its entry point.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from argon2.exceptions import VerificationError

from coldset.clock import FixedClock
from coldset.config import ConfigError, Settings
from coldset.domain.sample import PRODUCTION, western
from coldset.install import Install, init_install, open_install
from coldset.ledger.log import Ledger
from coldset.ledger.note import Signer
from coldset.service import CustodyService
from coldset.service import pins as pinstore
from coldset.service.pins import PinHasher
from tests.domain.conftest import DAY, PINS
from tests.service.conftest import START

from .conftest import entries
from .test_cli import cli


@pytest.fixture
def lax_umask() -> Iterator[None]:
    """The usual umask (022): what ``coldset init`` makes must not depend on it."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def _western(settings: Settings) -> None:
    """The sample western recorded through a service on the install (PINs set)."""
    inst = open_install(settings)
    try:
        svc = CustodyService(inst.store, inst.ledger, FixedClock(START), pins=inst.pins)
        results = svc.execute_batch(western(DAY, PINS))
        assert all(r.ok for r in results), [r.error for r in results if not r.ok]
    finally:
        inst.close()


@pytest.fixture
def settings(tmp_path: Path, lax_umask: None) -> Settings:
    s = Settings.load(tmp_path / "data")
    init_install(s, "secrets.test")
    return s


def _service(inst: Install) -> CustodyService:
    return CustodyService(inst.store, inst.ledger, FixedClock(START), pins=inst.pins)


def _consent(svc: CustodyService, pin: str) -> bool:
    return svc.execute(
        {
            "type": "record_consent",
            "production": PRODUCTION,
            "actor": "hana",
            "performer": "alec",
            "weapon_type": "shotgun",
            "confirmations": [{"person": "alec", "pin": pin}],
        }
    ).ok


def _stored(inst: Install, person: str) -> str:
    with inst.store.read() as conn:
        return pinstore.stored_hashes(conn, PRODUCTION, [person])[person]


# ------------------------------------------------------------------ #3 file modes


def test_init_makes_the_directory_0700_and_every_file_0600(settings: Settings) -> None:
    """Under umask 022, init and use leave the directory 0700 and every file in it (the
    database and its -wal and -shm files included) 0600."""
    _western(settings)
    inst = open_install(settings)  # the database is open: its -wal and -shm exist
    try:
        assert stat.S_IMODE(settings.home.stat().st_mode) == 0o700
        files = {f.name: stat.S_IMODE(f.stat().st_mode) for f in settings.home.iterdir()}
        assert {
            "coldset.sqlite",
            "coldset.sqlite-wal",
            "coldset.sqlite-shm",
            "signing.key",
            "pin.pepper",
            "install.json",
            "verifier.key",
        } <= set(files)
        assert {n: m for n, m in files.items() if m != 0o600} == {}
    finally:
        inst.close()


@pytest.mark.parametrize(
    ("target", "mode", "fix"),
    [
        ("coldset.sqlite", 0o644, "chmod 600 {home}/coldset.sqlite"),
        ("pin.pepper", 0o640, "chmod 600 {home}/pin.pepper"),
        (".", 0o755, "chmod 700 {home}"),
    ],
)
def test_every_command_refuses_a_directory_or_file_others_can_read(
    settings: Settings, capsys: pytest.CaptureFixture[str], target: str, mode: int, fix: str
) -> None:
    """A readable database, pepper or data directory stops every command (and the server,
    which opens the install the same way) with one line giving the exact chmod."""
    (settings.home / target).chmod(mode)
    with pytest.raises(ConfigError) as e:
        open_install(settings)
    assert fix.format(home=settings.home) in str(e.value)
    code, out, err = cli(capsys, "--home", str(settings.home), "board")
    assert code == 1 and out == ""
    assert len(err.strip().splitlines()) == 1 and fix.format(home=settings.home) in err
    code, _, err = cli(capsys, "--home", str(settings.home), "verify")
    assert code == 1 and fix.format(home=settings.home) in err


# ------------------------------------------------------------------ #3 the pepper


def test_a_copied_database_alone_cannot_check_a_pin(settings: Settings) -> None:
    """The stored hash is keyed: argon2id of the PIN does not match it, nor does the same
    scheme under another pepper; only the install's pepper does."""
    _western(settings)
    inst = open_install(settings)
    try:
        stored = _stored(inst, "alec")
        assert stored.startswith("pin2$")
        with pytest.raises(VerificationError):
            PasswordHasher().verify(stored.removeprefix("pin2$"), PINS["alec"])
        assert not PinHasher(bytes(32)).verify(stored, PRODUCTION, "alec", PINS["alec"])
        assert not inst.pins.verify(stored, PRODUCTION, "dave", PINS["alec"])  # not movable
        assert inst.pins.verify(stored, PRODUCTION, "alec", PINS["alec"])
        pepper = settings.pepper_path.read_text()
        assert len(bytes.fromhex(pepper.strip())) == 32
        with inst.store.read() as conn:  # the pepper is nowhere in the database
            assert pepper.strip() not in "".join(
                str(r) for r in conn.exec_driver_sql("SELECT * FROM custody_pins")
            )
    finally:
        inst.close()


def test_an_old_unkeyed_hash_still_verifies_and_is_keyed_at_the_next_pin_set(
    settings: Settings,
) -> None:
    """A hash stored before the pepper (bare argon2id of the PIN) checks as before; the
    person's next set-pin stores a keyed one."""
    _western(settings)
    inst = open_install(settings)
    try:
        with inst.store.write() as conn:  # what an install from before the pepper holds
            pinstore.store_pin(conn, PRODUCTION, "alec", PasswordHasher().hash("2468"))
        svc = _service(inst)
        assert _consent(svc, "2468") and not _consent(svc, "1357")
        assert svc.execute(
            {
                "type": "set_pin",
                "production": PRODUCTION,
                "actor": "alec",
                "person": "alec",
                "pin": "8642",
            }
        ).ok
        assert _stored(inst, "alec").startswith("pin2$")
        assert _consent(_service(inst), "8642") and not _consent(_service(inst), "2468")
    finally:
        inst.close()


def test_an_install_from_before_the_pepper_gets_one_on_first_open(settings: Settings) -> None:
    """No pepper file and no keyed hash: the first open makes pin.pepper, mode 0600."""
    settings.pepper_path.unlink()
    inst = open_install(settings)
    inst.close()
    assert stat.S_IMODE(settings.pepper_path.stat().st_mode) == 0o600
    assert len(bytes.fromhex(settings.pepper_path.read_text().strip())) == 32


def test_a_lost_pepper_is_not_silently_replaced(settings: Settings) -> None:
    """Keyed hashes but no pepper: refused, saying to restore it, and no new pepper made."""
    _western(settings)
    settings.pepper_path.unlink()
    with pytest.raises(ConfigError, match="restore it from the backup"):
        open_install(settings)
    assert not settings.pepper_path.exists()


# ------------------------------------------------------------------ #9 the pinned key


def _swap_key(settings: Settings) -> Signer:
    """Replace signing.key with another valid key of the same name (mode 0600)."""
    other = Signer.generate("secrets.test")
    settings.key_path.write_text(other.to_text() + "\n")
    settings.key_path.chmod(0o600)
    return other


def test_init_pins_the_public_key(settings: Settings) -> None:
    """install.json records the public key made at init."""
    pinned = json.loads(settings.install_path.read_text())["verifier_key"]
    assert pinned == settings.verifier_path.read_text().strip()
    assert pinned == Signer.from_text(settings.key_path.read_text().strip()).verifier_text


def test_a_swapped_signing_key_stops_every_signing_command(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    """Another valid signing.key: opening to sign refuses, a custody command exits 1 with
    one line, and nothing is written."""
    _western(settings)
    _swap_key(settings)
    with pytest.raises(ConfigError, match="not this install's key"):
        open_install(settings)
    code, out, err = cli(
        capsys,
        "--home",
        str(settings.home),
        "unlock-container",
        "--as",
        "hana",
        "--container",
        "safe-main",
    )
    assert code == 1 and "not this install's key" in err and "restore" in err
    assert len(err.strip().splitlines()) == 1
    inst = open_install(settings, signing=False)
    try:
        with inst.store.read() as conn:
            size = inst.ledger.size(conn, inst.origin(PRODUCTION))
        assert size == len(western(DAY, PINS))
    finally:
        inst.close()


def test_the_server_refuses_a_swapped_signing_key(settings: Settings) -> None:
    """`coldset serve` exits at once with the reason instead of serving."""
    _swap_key(settings)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2] / "src")}
    res = subprocess.run(
        [sys.executable, "-m", "coldset.cli", "--home", str(settings.home), "serve", "--port", "0"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert res.returncode == 1, res.stdout + res.stderr
    assert "not this install's key" in res.stderr


def test_verify_checks_the_pinned_key_not_signing_key(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    """A log signed throughout by a swapped key fails `coldset verify` (it checks the key
    pinned at init), even though every checkpoint matches the key in signing.key."""
    other = _swap_key(settings)
    inst = open_install(settings, signing=False)
    try:
        forged = Ledger(other)
        origin = inst.origin("forged")
        with inst.store.write() as conn:
            forged.create(conn, origin)
            forged.append(conn, origin, entries(10))
    finally:
        inst.close()
    code, out, _ = cli(capsys, "--home", str(settings.home), "verify", "--json")
    assert code == 2
    report = json.loads(out)
    assert not report["ok"] and report["logs"][0]["problems"]


def test_a_replaced_install_json_is_caught_by_the_database(settings: Settings) -> None:
    """All three key files swapped for another key: the database's checkpoints, signed by
    the install's key, still refuse the start."""
    _western(settings)
    other = _swap_key(settings)
    settings.verifier_path.write_text(other.verifier_text + "\n")
    settings.install_path.write_text(
        json.dumps({"name": "secrets.test", "verifier_key": other.verifier_text})
    )
    with pytest.raises(ConfigError, match="not signed by this install's key"):
        open_install(settings)


def test_an_install_from_before_pinning_pins_verifier_key_on_first_open(settings: Settings) -> None:
    """install.json without a pinned key: the first open pins verifier.key's key."""
    settings.install_path.write_text(json.dumps({"name": "secrets.test"}))
    settings.install_path.chmod(0o600)
    open_install(settings).close()
    pinned = json.loads(settings.install_path.read_text())["verifier_key"]
    assert pinned == settings.verifier_path.read_text().strip()
