"""A log holding an entry newer than this code is refused, never misread, and nothing
is changed: rebuild stops with a clear error and the projection rows stay as they were."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from coldset import canonical
from coldset.domain.events import EntryError
from coldset.domain.sample import PRODUCTION
from coldset.service import CustodyService
from coldset.store import custody_schema as t


def test_rebuild_refuses_a_future_entry_and_changes_nothing(
    western_service: CustodyService,
) -> None:
    """An envelope v2 entry with a firearm_inspected at version 2 (written by a newer
    coldset) makes rebuild fail with "upgrade coldset", and the firearm rows remain."""
    svc = western_service
    origin = svc.origin(PRODUCTION)
    with svc.store.read() as conn:
        last = canonical.loads(svc.ledger.entry(conn, origin, svc.state(PRODUCTION).size - 1))
        before = conn.execute(select(func.count()).select_from(t.custody_firearms)).scalar()
    future = {
        **last,
        "v": 2,
        "events": [
            {
                "type": "firearm_inspected",
                "v": 2,
                "inspection": "insp-99",
                "firearm": "colt-1",
                "by": "hana",
                "chambers": ["empty"] * 6,
                "barrel_clear": True,
                "bore_light": True,
            }
        ],
    }
    with svc.store.write() as conn:
        svc.ledger.append(conn, origin, [canonical.dumps(future)])
    with pytest.raises(EntryError, match=r"firearm_inspected event at version 2.*upgrade"):
        svc.rebuild(PRODUCTION)
    with svc.store.read() as conn:
        after = conn.execute(select(func.count()).select_from(t.custody_firearms)).scalar()
    assert before and after == before
