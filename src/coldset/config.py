"""Where an install keeps its things, and the checks that refuse unsafe setups.

Built on demand (never at import time) from, in order: explicit arguments,
environment (``COLDSET_HOME``, ``COLDSET_DATABASE_URL``), defaults
(``./coldset-data`` with a SQLite file in it).
"""

from __future__ import annotations

import json
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

DEFAULT_HOME = "coldset-data"
INSTALL_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.\-_]*[A-Za-z0-9]$")


class ConfigError(Exception):
    """The install is missing or unsafe; the message says what to do."""


@dataclass(frozen=True)
class Settings:
    home: Path
    database_url: str

    @property
    def key_path(self) -> Path:
        return self.home / "signing.key"

    @property
    def verifier_path(self) -> Path:
        return self.home / "verifier.key"

    @property
    def install_path(self) -> Path:
        return self.home / "install.json"

    @property
    def pepper_path(self) -> Path:
        """The PIN pepper: 32 random bytes (hex) mixed into every PIN hash, never in the DB."""
        return self.home / "pin.pepper"

    @classmethod
    def load(cls, home: str | Path | None = None, database_url: str | None = None) -> Settings:
        h = Path(home or os.environ.get("COLDSET_HOME") or DEFAULT_HOME).absolute()
        url = (
            database_url
            or os.environ.get("COLDSET_DATABASE_URL")
            or (f"sqlite:///{h / 'coldset.sqlite'}")
        )
        return cls(home=h, database_url=url)

    def install(self) -> dict[str, object]:
        """The install record written by ``coldset init``."""
        try:
            return dict(json.loads(self.install_path.read_text()))
        except FileNotFoundError:
            raise ConfigError(
                f"no coldset install in {self.home}: run `coldset init` first "
                "(or pass --home / set COLDSET_HOME)"
            ) from None

    @property
    def install_name(self) -> str:
        return str(self.install()["name"])


def check_install_name(name: str) -> str:
    if not INSTALL_NAME_RE.match(name) or len(name) > 100:
        raise ConfigError(
            f"install name {name!r} must be letters, digits, '.', '-' or '_' "
            "(like studio.example or coldset.local), 2 to 100 characters"
        )
    return name


def check_key_file(path: Path) -> None:
    """Refuse a signing key that is missing, unreadable, or readable by others."""
    try:
        st = path.stat()
    except FileNotFoundError:
        raise ConfigError(f"signing key {path} does not exist: run `coldset init`") from None
    except PermissionError:
        raise ConfigError(f"signing key {path} is unreadable (permission denied)") from None
    if not stat.S_ISREG(st.st_mode):
        raise ConfigError(f"signing key {path} is not a regular file")
    if st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(
            f"signing key {path} is readable by other users (mode "
            f"{stat.S_IMODE(st.st_mode):04o}); run `chmod 600 {path}`"
        )
    if not os.access(path, os.R_OK):
        raise ConfigError(f"signing key {path} is unreadable by this user")


def _exposed(mode: int) -> bool:
    return bool(mode & (stat.S_IRWXG | stat.S_IRWXO))


def check_home_modes(home: Path) -> None:
    """Refuse a data directory other users can enter, or with a file they can read.

    The directory must be 0700 and every file in it 0600 or stricter (the database
    holds PIN hashes; its -wal and -shm files hold the same pages). One line says
    the exact ``chmod`` that fixes it.
    """
    try:
        st = home.stat()
    except FileNotFoundError:
        raise ConfigError(
            f"no coldset install in {home}: run `coldset init` first "
            "(or pass --home / set COLDSET_HOME)"
        ) from None
    fixes: list[str] = []
    if _exposed(st.st_mode):
        fixes.append(f"chmod 700 {home}")
    loose = sorted(
        str(f)
        for f in home.iterdir()
        if f.is_file() and not f.is_symlink() and _exposed(f.stat().st_mode)
    )
    if loose:
        fixes.append("chmod 600 " + " ".join(loose))
    if fixes:
        what = (
            "data directory " + str(home) + " is open to other users"
            if _exposed(st.st_mode)
            else f"{len(loose)} file(s) in {home} are readable by other users"
        )
        raise ConfigError(
            f"{what} (it holds the database with the PIN hashes and the "
            f"keys); run `{' && '.join(fixes)}`"
        )
