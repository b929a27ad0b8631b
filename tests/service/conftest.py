"""A real service on a real SQLite file, with a fixed clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from coldset.clock import FixedClock
from coldset.domain.sample import PEOPLE, PRODUCTION, western
from coldset.ledger.log import Ledger
from coldset.ledger.note import Signer
from coldset.service import CustodyService
from coldset.service.pins import PinHasher
from coldset.store.db import Store
from tests.domain.conftest import DAY, PINS

START = datetime(2025, 3, 3, 15, 0, tzinfo=UTC)
#: the tests' install pepper (an install makes a random one at init)
PEPPER = bytes(range(32))


def make_service(path: Path, clock: FixedClock | None = None) -> CustodyService:
    store = Store.open(f"sqlite:///{path}")
    store.create_all()
    return CustodyService(
        store,
        Ledger(Signer.generate("test.local")),
        clock or FixedClock(START),
        pins=PinHasher(PEPPER),
    )


@pytest.fixture
def service(tmp_path: Path) -> Iterator[CustodyService]:
    svc = make_service(tmp_path / "coldset.sqlite")
    yield svc
    svc.store.dispose()


@pytest.fixture
def western_service(service: CustodyService) -> CustodyService:
    """The sample western set up through the service (one batch)."""
    results = service.execute_batch(western(DAY, PINS))
    bad = [(r.command, r.error) for r in results if not r.ok]
    assert not bad, bad
    return service


def cmd(type_: str, actor: str, **fields: object) -> dict[str, object]:
    return {"type": type_, "production": PRODUCTION, "actor": actor, **fields}


def pin(person: str) -> dict[str, str]:
    return {"person": person, "pin": PINS[person]}


__all__ = ["PEOPLE", "PINS", "cmd", "pin"]
