"""A pure, in-memory production for domain and rule tests: no database, fixed clock."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from coldset import canonical
from coldset.clock import FixedClock
from coldset.domain.commands import confirmers, parse_command
from coldset.domain.pipeline import Decision, PinResult, decide_entry
from coldset.domain.projection import apply_entry
from coldset.domain.sample import PEOPLE, PRODUCTION, western
from coldset.domain.state import State

DAY = date(2025, 3, 3)
PINS = {pid: f"{1000 + i}" for i, pid in enumerate(sorted(PEOPLE))}


def unbalanced_books(state: State) -> list[str]:
    """The lots whose books do not add up, with why (empty when every lot balances).

    For every lot: the rounds per place (``Lot.where``, all positive) add up to the
    expected stock, and the unfired rounds in chambers to the rounds counted in
    firearms; so sum(where) + rounds in chambers == expected stock + in firearms
    == received - fired - disposed + adjusted.
    """
    out = []
    for lid, lot in sorted(state.lots.items()):
        in_chambers = sum(
            1
            for f in state.firearms.values()
            for ch in f.chambers
            if ch is not None and ch.lot == lid and not ch.spent
        )
        c = lot.counts
        if any(n <= 0 for n in lot.where.values()):
            out.append(f"{lid}: a place with no rounds left: {lot.where}")
        if sum(lot.where.values()) != c.expected_stock:
            out.append(
                f"{lid}: where {lot.where} adds up to {sum(lot.where.values())}, "
                f"expected stock {c.expected_stock}"
            )
        if in_chambers != c.in_firearms:
            out.append(f"{lid}: {in_chambers} rounds in chambers, counts say {c.in_firearms}")
    return out


class Sim:
    """Runs command dicts through the real decision pipeline and projection."""

    def __init__(self, start: datetime | None = None) -> None:
        self.state = State()
        self.clock = FixedClock(start or datetime(2025, 3, 3, 15, 0, tzinfo=UTC))
        self.entries: list[dict[str, Any]] = []

    def run(self, cmd: dict[str, Any], pins: dict[str, PinResult] | None = None) -> Decision:
        parsed = parse_command({"production": PRODUCTION, **cmd})
        results: dict[str, PinResult] = {
            x.person: "ok" for x in confirmers(parsed) if x.person in self.state.people
        }
        results.update(pins or {})
        d = decide_entry(self.state, parsed, self.clock.now(), results, origin="test/western")
        if d.entry is not None:
            entry = canonical.loads(canonical.dumps(d.entry))  # exactly what the log keeps
            self.entries.append(entry)
            self.state = apply_entry(self.state, entry)
            bad = unbalanced_books(self.state)  # every scenario keeps the books straight
            assert not bad, (cmd["type"], bad)
        return d

    def ok(self, cmd: dict[str, Any]) -> Decision:
        d = self.run(cmd)
        assert d.status == "allowed", (cmd["type"], d.error, d.verdicts)
        return d


@pytest.fixture
def sim() -> Sim:
    return Sim()


@pytest.fixture
def western_sim() -> Sim:
    """The sample western, set up: firearms locked away, people trained, scenes signed."""
    s = Sim()
    for cmd in western(DAY, PINS):
        s.ok(cmd)
    return s
