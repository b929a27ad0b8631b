"""Fixtures: a real install (key file + SQLite file) in a temporary directory."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from coldset.config import Settings
from coldset.install import Install, init_install, open_install


@pytest.fixture
def install(tmp_path: Path) -> Iterator[Install]:
    settings = Settings.load(tmp_path / "home")
    init_install(settings, "test.local")
    inst = open_install(settings)
    yield inst
    inst.close()


def make_log(inst: Install, slug: str, batches: list[list[bytes]]) -> str:
    """Create log ``slug`` and append ``batches``, one transaction (and checkpoint) each."""
    origin = inst.origin(slug)
    with inst.store.write() as conn:
        inst.ledger.create(conn, origin)
    for batch in batches:
        with inst.store.write() as conn:
            inst.ledger.append(conn, origin, batch)
    return origin


def entries(n: int, start: int = 0) -> list[bytes]:
    return [b'{"n":%d,"pad":"%s"}' % (i, b"x" * (i % 7)) for i in range(start, start + n)]
