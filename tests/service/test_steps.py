"""One operation of several commands (``CustodyService.execute_steps``, the handoff's
path): in order, in one transaction, stopping at the first step that is not allowed,
each step its own log entry."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from coldset.domain.sample import western
from coldset.service import CustodyService
from coldset.service.command_queue import CommandQueue
from coldset.service.core import Step
from coldset.service.handoff import Handoff, run_handoff_sync
from tests.domain.conftest import DAY
from tests.service.conftest import PINS, cmd, make_service, pin

SAFE = cmd("unlock_container", "hana", container="safe-main")


def _inspect(**kw: Any) -> dict[str, Any]:
    return cmd(
        "inspect",
        "hana",
        **{"firearm": "colt-1", "chambers": ["empty"] * 6, "barrel_clear": True, **kw},
    )


def _issue(performer_pin: str | None = None) -> dict[str, Any]:
    return cmd(
        "issue",
        "hana",
        firearm="colt-1",
        to="alec",
        scene="sc-12",
        confirmations=[{"person": "alec", "pin": performer_pin or PINS["alec"]}, pin("dave")],
    )


def _handoff(**kw: Any) -> Handoff:
    return Handoff(
        production="dusty-trail",
        actor="hana",
        firearm="colt-1",
        chambers=["empty"] * 6,
        barrel_clear=True,
        to="alec",
        pin=PINS["alec"],
        scene="sc-12",
        confirmations=[pin("dave")],
        **kw,
    )


@pytest.fixture
def ready(western_service: CustodyService) -> CustodyService:
    assert western_service.execute(SAFE).ok
    return western_service


def test_steps_run_in_order_each_its_own_entry(ready: CustodyService) -> None:
    """Inspect then issue as one operation: two results, two consecutive entries."""
    size = ready.state("dusty-trail").size
    found = ready.execute_steps([_inspect(), _issue()])
    assert [r.command for r in found] == ["inspect", "issue"] and all(r.ok for r in found)
    assert [r.index for r in found] == [size, size + 1]
    assert ready.state("dusty-trail").firearms["colt-1"].custody.ref == "alec"


def test_a_refused_issue_keeps_the_inspection(ready: CustodyService) -> None:
    """The inspection happened at the cart: a wrong performer PIN stops the issue, and
    the inspection's entry stays; the firearm is not handed over."""
    size = ready.state("dusty-trail").size
    found = ready.execute_steps([_inspect(), _issue("0000")])
    assert [r.command for r in found] == ["inspect", "issue"]
    assert found[0].ok and not found[1].ok
    st = ready.state("dusty-trail")
    assert st.size >= size + 1 and st.firearms["colt-1"].custody.ref != "alec"


def test_a_step_not_allowed_ends_the_operation(ready: CustodyService) -> None:
    """A malformed inspection: its result only; the issue is never tried, nothing is
    written."""
    size = ready.state("dusty-trail").size
    found = ready.execute_steps([_inspect(chambers=["bogus"] * 6), _issue()])
    assert len(found) == 1 and found[0].error_kind == "malformed"
    assert ready.state("dusty-trail").size == size


class _Crash(CustodyService):
    """A service that fails while deciding the issue (a crash between the two steps)."""

    def _one(self, conn: Any, command: Any, *args: Any, **kw: Any) -> Any:
        if command.command_type == "issue":
            raise RuntimeError("the writer failed between the two steps")
        return super()._one(conn, command, *args, **kw)


def test_the_handoff_commits_as_one(tmp_path: Path) -> None:
    """A failure while the issue is decided leaves nothing of the handoff, not even the
    inspection: both steps are in one transaction (before, the inspection was committed
    on its own first)."""
    base = make_service(tmp_path / "c.sqlite")
    svc = _Crash(base.store, base.ledger, base.clock, pins=base.pins)
    assert all(r.ok for r in svc.execute_batch(western(DAY, PINS)))
    assert svc.execute(SAFE).ok
    size = svc.state("dusty-trail").size
    with pytest.raises(RuntimeError, match="between the two steps"):
        run_handoff_sync(svc, _handoff())
    assert svc.state("dusty-trail").size == size
    fresh = CustodyService(base.store, base.ledger, base.clock, pins=base.pins)
    assert fresh.state("dusty-trail").size == size
    base.store.dispose()


def test_a_double_submit_writes_one_handoff(ready: CustodyService) -> None:
    """The same idempotency key twice (a double tap): the second answers the first two
    results (replayed) and writes nothing."""
    first = run_handoff_sync(ready, _handoff(idempotency_key="tap-1"))
    size = ready.state("dusty-trail").size
    again = run_handoff_sync(ready, _handoff(idempotency_key="tap-1"))
    assert first.ok and again.ok
    assert again.inspection.replayed and again.issue is not None and again.issue.replayed
    assert (again.inspection.index, again.issue.index) == (
        first.inspection.index,
        first.issue.index,
    )
    assert ready.state("dusty-trail").size == size


def test_the_queue_runs_steps_in_one_batch_with_other_commands(ready: CustodyService) -> None:
    """The group-commit queue takes an operation's steps as one item: it can share a
    batch with other commands and still gets its own results, in order."""
    q = CommandQueue(ready)
    try:
        steps = q.submit_steps([Step(_inspect()), Step(_issue())])
        other = q.submit(cmd("check_alerts", "lee"))
        found = steps.result(timeout=30)
        assert [r.command for r in found] == ["inspect", "issue"] and all(r.ok for r in found)
        assert other.result(timeout=30).command == "check_alerts"
        assert q.commands == 3
    finally:
        q.stop()
