"""Creating and opening an install: data directory, signing key, database.

``init`` makes the Ed25519 signing key outside the database (mode 0600) and
the schema; ``open_install`` refuses to run with a key that is missing,
unreadable or readable by others.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

from coldset.config import ConfigError, Settings, check_install_name, check_key_file
from coldset.ledger.log import Ledger
from coldset.ledger.note import Signer
from coldset.store.db import Store


@dataclass
class Install:
    settings: Settings
    store: Store
    ledger: Ledger

    @property
    def signer(self) -> Signer:
        return self.ledger.signer

    def origin(self, slug: str) -> str:
        """The log origin of a production: ``<install name>/<slug>``."""
        return f"{self.signer.name}/{slug}"

    def close(self) -> None:
        self.store.dispose()


def init_install(settings: Settings, name: str) -> Signer:
    """Create the data directory, key pair and schema. Refuses to overwrite a key."""
    check_install_name(name)
    settings.home.mkdir(parents=True, exist_ok=True)
    if settings.key_path.exists():
        raise ConfigError(
            f"{settings.key_path} already exists: this directory is already an install "
            "(remove it yourself if you really mean to start again; its logs would no "
            "longer verify against a new key)"
        )
    signer = Signer.generate(name)
    fd = os.open(settings.key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(signer.to_text() + "\n")
    os.chmod(settings.key_path, 0o600)
    settings.verifier_path.write_text(signer.verifier_text + "\n")
    settings.install_path.write_text(json.dumps({"name": name}, indent=2) + "\n")
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


def open_install(settings: Settings, *, background_checkpoints: bool = False) -> Install:
    """Open an existing install for use (CLI commands, the server).

    ``background_checkpoints``: see :meth:`coldset.store.db.Store.open` (the server's
    writer process uses it)."""
    settings.install()  # a clear message when there is none
    signer = load_signer(settings)
    store = Store.open(settings.database_url, background_checkpoints=background_checkpoints)
    store.create_all()
    return Install(settings, store, Ledger(signer))
