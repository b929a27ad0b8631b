"""The server's timer raises time-based alerts when due, and writes nothing when none is."""

from __future__ import annotations

from coldset.clock import FixedClock
from coldset.domain import commands as c
from coldset.domain.sample import PRODUCTION
from coldset.service import CustodyService

from .conftest import cmd


def _size(svc: CustodyService) -> int:
    return svc.state(PRODUCTION).size


def test_no_entry_when_no_alert_is_due(western_service: CustodyService) -> None:
    """With nothing overdue the timer records nothing at all."""
    before = _size(western_service)
    assert western_service.check_due_alerts() == []
    assert _size(western_service) == before


def test_an_unanswered_concern_raises_its_alert_once(western_service: CustodyService) -> None:
    """concern-answered: the alert is raised the moment the concern is; past the limit,
    with that alert still open, the timer records nothing. Resolved without an answer,
    the next tick raises it again, once, as a check by the system actor."""
    svc = western_service
    r = svc.execute(cmd("raise_concern", "anonymous", text="the cart was left unlocked"))
    assert r.ok and any(e["type"] == "alert_raised" for e in r.events)
    clock = svc.clock
    assert isinstance(clock, FixedClock)
    clock.advance(hours=5)
    before = _size(svc)
    assert svc.check_due_alerts() == []
    assert _size(svc) == before
    (alert,) = svc.state(PRODUCTION).open_alerts()
    r = svc.execute(cmd("resolve_alert", "lee", alert=alert.id, resolution="seen"))
    assert r.ok
    (res,) = svc.check_due_alerts()
    assert res.ok and "concern-answered" in res.rules
    assert any(e["type"] == "alert_raised" for e in res.events)
    before = _size(svc)
    assert svc.check_due_alerts() == []
    assert _size(svc) == before


def test_the_system_actor_is_only_for_checks(western_service: CustodyService) -> None:
    """Nobody can act as the system actor for anything else, or take its id as a person."""
    r = western_service.execute(cmd("call_stop_work", c.SYSTEM, reason="x"))
    assert r.status == "rejected" and r.error_kind == "unknown-id"
    r = western_service.execute(cmd("add_person", "maria", person=c.SYSTEM, name="Impostor"))
    assert r.status == "rejected" and "reserved" in (r.error or "")
