"""The board's rows are kept while the log does not grow (so a render does not read
every firearm again); what the board says must still be true at every moment."""

from __future__ import annotations

from coldset.clock import FixedClock
from coldset.domain.sample import PRODUCTION
from coldset.service import CustodyService
from coldset.service.pins import PinHasher
from tests.service.conftest import PEPPER, cmd


def colt(board: dict[str, object]) -> dict[str, object]:
    return next(f for f in board["firearms"] if f["id"] == "colt-1")  # type: ignore[attr-defined, index]


def test_ages_move_with_the_clock_while_the_log_stays(western_service: CustodyService) -> None:
    """Two reads with no entry between: the same rows, the ages and "at" of each read's
    own time (the kept rows are not changed by the second read)."""
    svc = western_service
    assert svc.execute(cmd("unlock_container", "hana", container="safe-main")).ok
    assert svc.execute(
        cmd("inspect", "hana", firearm="colt-1", chambers=["empty"] * 6, barrel_clear=True)
    ).ok
    first = svc.board(PRODUCTION)
    clock = svc.clock
    assert isinstance(clock, FixedClock)
    clock.advance(minutes=7)
    second = svc.board(PRODUCTION)
    assert colt(second)["inspection_age_s"] == colt(first)["inspection_age_s"] + 420  # type: ignore[operator]
    assert second["at"] != first["at"]
    assert "_inspected" not in second
    assert colt(first)["inspection_age_s"] == 0


def test_a_new_entry_shows_at_once_also_from_another_process(
    western_service: CustodyService,
) -> None:
    """An entry this service recorded, and one another service on the same database
    recorded (the server's writer process), both show on the next read."""
    svc = western_service
    assert next(
        c
        for c in svc.board(PRODUCTION)["containers"]  # type: ignore[attr-defined]
        if c["id"] == "safe-main"
    )["locked"]
    assert svc.execute(cmd("unlock_container", "hana", container="safe-main")).ok
    assert not next(
        c
        for c in svc.board(PRODUCTION)["containers"]  # type: ignore[attr-defined]
        if c["id"] == "safe-main"
    )["locked"]
    other = CustodyService(svc.store, svc.ledger, svc.clock, pins=PinHasher(PEPPER))
    assert other.execute(cmd("lock_container", "hana", container="safe-main")).ok
    assert next(
        c
        for c in svc.board(PRODUCTION)["containers"]  # type: ignore[attr-defined]
        if c["id"] == "safe-main"
    )["locked"]
