"""Creating and opening an install: data directory, signing key, PIN pepper, database.

``init`` makes the data directory (0700), the Ed25519 signing key and the PIN
pepper outside the database, and the schema; every file in the directory is
0600. The install's public key is pinned in ``install.json`` at init.
``open_install`` refuses to run with a data directory or file other users can
read, with a key that is missing, unreadable or readable by others, and (for
anything that signs) with a signing key that is not the pinned one.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from coldset.config import (
    ConfigError,
    Settings,
    check_home_modes,
    check_install_name,
    check_key_file,
)
from coldset.ledger.errors import LedgerError, NoteError
from coldset.ledger.log import Ledger
from coldset.ledger.note import Signer, Verifier, open_note
from coldset.store.db import Store
from coldset.store.pins import PEPPER_BYTES, PinHasher, any_keyed, new_pepper

log = logging.getLogger("coldset.install")


@dataclass
class Install:
    settings: Settings
    store: Store
    ledger: Ledger
    #: the public key pinned at init: what every checkpoint must be signed by
    verifier: Verifier
    #: PIN hashing under this install's pepper
    pins: PinHasher

    @property
    def signer(self) -> Signer:
        return self.ledger.signer

    def origin(self, slug: str) -> str:
        """The log origin of a production: ``<install name>/<slug>``."""
        return f"{self.verifier.name}/{slug}"

    def close(self) -> None:
        self.store.dispose()


@contextmanager
def _private_files() -> Iterator[None]:
    """Files and directories made in the block are for this user only (umask 077)."""
    old = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(old)


def _write_private(path: Path, text: str, *, exclusive: bool = False) -> None:
    flags = os.O_WRONLY | os.O_CREAT | (os.O_EXCL if exclusive else os.O_TRUNC)
    fd = os.open(path, flags, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(path, 0o600)


def _sqlite_path(url: str) -> Path | None:
    prefix = "sqlite:///"
    return Path(url[len(prefix) :]) if url.startswith(prefix) and url != prefix else None


def init_install(settings: Settings, name: str) -> Signer:
    """Create the data directory, key pair, PIN pepper and schema. Refuses to overwrite a key."""
    check_install_name(name)
    with _private_files():
        settings.home.mkdir(parents=True, exist_ok=True)
        if settings.key_path.exists():
            raise ConfigError(
                f"{settings.key_path} already exists: this directory is already an install "
                "(remove it yourself if you really mean to start again; its logs would no "
                "longer verify against a new key)"
            )
        os.chmod(settings.home, 0o700)
        signer = Signer.generate(name)
        _write_private(settings.key_path, signer.to_text() + "\n", exclusive=True)
        _write_private(settings.pepper_path, new_pepper().hex() + "\n", exclusive=True)
        _write_private(settings.verifier_path, signer.verifier_text + "\n")
        _write_private(
            settings.install_path,
            json.dumps({"name": name, "verifier_key": signer.verifier_text}, indent=2) + "\n",
        )
        db = _sqlite_path(settings.database_url)
        if db is not None and not db.exists():
            # SQLite makes the -wal and -shm files with the database file's mode
            _write_private(db, "", exclusive=True)
        store = Store.open(settings.database_url)
        try:
            store.create_all()
        finally:
            store.dispose()
    return signer


def load_signer(settings: Settings) -> Signer:
    check_key_file(settings.key_path)
    try:
        return Signer.from_text(settings.key_path.read_text().strip())
    except ValueError as e:
        raise ConfigError(f"signing key {settings.key_path} is not valid: {e}") from None


def pinned_verifier(settings: Settings) -> Verifier:
    """The public key pinned in install.json at init.

    An install made before keys were pinned gets ``verifier.key`` (written at its
    init) pinned the first time it is opened.
    """
    record = settings.install()
    text = record.get("verifier_key")
    if not isinstance(text, str):
        try:
            text = settings.verifier_path.read_text().strip()
        except FileNotFoundError:
            raise ConfigError(
                f"{settings.install_path} pins no public key and "
                f"{settings.verifier_path} is missing: restore it from your "
                "backup of the data directory"
            ) from None
        record["verifier_key"] = text
        with _private_files():
            _write_private(settings.install_path, json.dumps(record, indent=2) + "\n")
        log.warning("pinned the public key of %s in %s", settings.home, settings.install_path)
    try:
        return Verifier.from_text(text)
    except NoteError as e:
        raise ConfigError(
            f"the public key pinned in {settings.install_path} is not valid: {e}"
        ) from None


def load_pins(settings: Settings, store: Store) -> PinHasher:
    """The install's PIN hasher; an install from before peppers gets its pepper now."""
    path = settings.pepper_path
    try:
        text = path.read_text().strip()
    except FileNotFoundError:
        with store.read() as conn:
            keyed = any_keyed(conn)
        if keyed:
            raise ConfigError(
                f"the PIN pepper {path} is missing, but PINs were set with it: restore it "
                "from the backup you keep with signing.key (see docs/backups.md). If it is "
                "lost for good, make a new one (`openssl rand -hex 32 > "
                f"{path} && chmod 600 {path}`) and reset every person's PIN"
            ) from None
        with _private_files():
            _write_private(path, new_pepper().hex() + "\n", exclusive=True)
        log.warning("made the PIN pepper %s (back it up with signing.key)", path)
        return load_pins(settings, store)
    try:
        pepper = bytes.fromhex(text)
        if len(pepper) != PEPPER_BYTES:
            raise ValueError
    except ValueError:
        raise ConfigError(
            f"the PIN pepper {path} is not {PEPPER_BYTES} bytes of hex: restore it from your backup"
        ) from None
    return PinHasher(pepper)


def _check_signed_by(store: Store, ledger: Ledger, verifier: Verifier) -> None:
    """Every log's newest checkpoint is signed by the pinned key (the database agrees)."""
    with store.read() as conn:
        for info in ledger.logs(conn):
            try:
                note = ledger.latest_checkpoint(conn, info.origin).note
            except LedgerError:
                continue  # an empty log has no checkpoint yet
            try:
                open_note(note, [verifier])
            except NoteError:
                raise ConfigError(
                    f"log {info.origin} in the database is not signed by this install's key "
                    f"({verifier.name}+{verifier.key_id.hex()}): the database or install.json "
                    "was replaced; run `coldset verify` and restore from your backup"
                ) from None


def _key_id(signer: Signer) -> str:
    return Verifier.from_text(signer.verifier_text).key_id.hex()


def open_install(
    settings: Settings, *, background_checkpoints: bool = False, signing: bool = True
) -> Install:
    """Open an existing install for use (CLI commands, the server).

    ``background_checkpoints``: see :meth:`coldset.store.db.Store.open` (the server's
    writer process uses it). ``signing=False`` (commands that only read the record:
    verify, proof, entry, export) does not refuse a signing key other than the
    pinned one, so that ``verify`` can say which checkpoints it did not sign."""
    settings.install()  # a clear message when there is none
    check_home_modes(settings.home)
    signer = load_signer(settings)
    verifier = pinned_verifier(settings)
    if signing and (signer.name, signer.verifier_text) != (verifier.name, verifier.to_text()):
        raise ConfigError(
            f"signing key {settings.key_path} ({signer.name}+{_key_id(signer)}) is "
            f"not this install's key ({verifier.name}+{verifier.key_id.hex()}, pinned in "
            f"{settings.install_path} at init): the key file was replaced; restore the "
            "original from your backup (coldset will not sign with another key)"
        )
    with _private_files():
        store = Store.open(settings.database_url, background_checkpoints=background_checkpoints)
        try:
            store.create_all()
            ledger = Ledger(signer, verifier)
            if signing:
                _check_signed_by(store, ledger, verifier)
            pins = load_pins(settings, store)
        except BaseException:
            store.dispose()
            raise
    return Install(settings, store, ledger, verifier, pins)
