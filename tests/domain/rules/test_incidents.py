"""E. Incident rules: each one refuses the unsafe step and lets the right one through."""

from __future__ import annotations

from typing import Any

from ..conftest import Sim
from . import issue_cmd, ok, pin, reasons, run, show_clear, take_out, verdicts, western_with


def fired(w: Sim) -> None:
    """colt-2 issued to Frances for sc-20, loaded with two blanks, one fired."""
    take_out(w, "colt-2", keep={"blank-45": 6})
    show_clear(w, "colt-2", watchers=("frances", "dave"))
    ok(w, issue_cmd("colt-2", "frances", "sc-20"))
    ok(
        w,
        {
            "type": "load",
            "actor": "hana",
            "firearm": "colt-2",
            "lot": "blank-45",
            "positions": [1, 2],
            "scene": "sc-20",
            "shot": 1,
        },
    )
    ok(
        w,
        {
            "type": "discharge",
            "actor": "hana",
            "firearm": "colt-2",
            "positions": [1],
            "scene": "sc-20",
            "shot": 1,
        },
    )


def misfire(w: Sim) -> None:
    fired(w)
    ok(
        w,
        {
            "type": "report_incident",
            "actor": "frances",
            "kind": "misfire",
            "firearm": "colt-2",
            "description": "chamber 2 clicked, no report",
        },
    )
    ok(w, {"type": "collect", "actor": "hana", "firearm": "colt-2"})
    ok(w, {"type": "unload", "actor": "hana", "firearm": "colt-2"})


def inspect(w: Sim, firearm: str = "colt-2", **fields: Any) -> None:
    ok(
        w,
        {
            "type": "inspect",
            "actor": "hana",
            "firearm": firearm,
            "chambers": ["empty"] * 6,
            "barrel_clear": True,
            **fields,
        },
    )


RELEASE = {
    "type": "release_quarantine",
    "actor": "hana",
    "firearm": "colt-2",
    "note": "checked",
    "confirmations": [pin("lee")],
}


# ------------------------------------------------------------------ misfire-quarantine


def test_misfire_quarantines_the_firearm_and_stops_the_unit(western_sim: Sim) -> None:
    """misfire-quarantine: the report is recorded with a stop-work on the main unit and
    colt-2 quarantined at once; the next issue on main is refused."""
    w = western_sim
    fired(w)
    d = ok(
        w,
        {
            "type": "report_incident",
            "actor": "frances",
            "kind": "misfire",
            "firearm": "colt-2",
            "description": "chamber 2 clicked, no report",
        },
    )
    assert verdicts(d, "misfire-quarantine") == ["stop_work"]
    s = w.state
    assert s.firearms["colt-2"].quarantined
    assert [(sw.scope, sw.rule) for sw in s.open_stop_works()] == [("main", "misfire-quarantine")]
    take_out(w)
    show_clear(w)
    d = run(w, issue_cmd())
    assert d.status == "refused"
    assert verdicts(d, "misfire-quarantine") == ["block"]
    assert "misfire" in reasons(d, "misfire-quarantine")


def test_squib_with_its_lot_quarantines_both(western_sim: Sim) -> None:
    """misfire-quarantine: a squib reported with the lot quarantines firearm and lot; the
    stop-work takes the unit from the scene colt-2 is issued for."""
    w = western_sim
    fired(w)
    d = ok(
        w,
        {
            "type": "report_incident",
            "actor": "hana",
            "kind": "squib",
            "firearm": "colt-2",
            "lot": "blank-45",
            "description": "weak report, no smoke",
        },
    )
    assert verdicts(d, "misfire-quarantine") == ["stop_work"]
    assert "firearm colt-2 and lot blank-45 are quarantined" in reasons(d, "misfire-quarantine")
    s = w.state
    assert s.firearms["colt-2"].quarantined and s.lots["blank-45"].quarantined
    assert [sw.scope for sw in s.open_stop_works()] == ["main"]


def test_return_to_service_needs_barrel_inspection_and_function_check(western_sim: Sim) -> None:
    """misfire-quarantine: release is refused with no inspection, and with a barrel check
    but no function check; with both recorded it passes, and once the stop-work is cleared
    by the handler and safety contact the unit issues again."""
    w = western_sim
    misfire(w)
    d = run(w, RELEASE)
    assert verdicts(d, "misfire-quarantine") == ["block"]
    assert "barrel inspection" in reasons(d, "misfire-quarantine")
    inspect(w)
    d = run(w, RELEASE)
    assert verdicts(d, "misfire-quarantine") == ["block"]
    assert "function check" in reasons(d, "misfire-quarantine")
    inspect(w, function_check=True)
    d = ok(w, RELEASE)
    assert verdicts(d, "misfire-quarantine") == []
    assert not w.state.firearms["colt-2"].quarantined
    (sw,) = w.state.open_stop_works()
    ok(
        w,
        {
            "type": "clear_stop_work",
            "actor": "hana",
            "stop_work": sw.id,
            "note": "checked",
            "confirmations": [pin("lee")],
        },
    )
    show_clear(w, "colt-2", watchers=("frances", "dave"))
    d = ok(w, issue_cmd("colt-2", "frances", "sc-20"))
    assert verdicts(d, "misfire-quarantine") == []


def test_other_incidents_and_other_units_are_not_stopped(western_sim: Sim) -> None:
    """misfire-quarantine: a near miss is recorded without a stop-work; a misfire on main
    leaves the second unit working."""
    w = western_sim
    d = ok(
        w,
        {
            "type": "report_incident",
            "actor": "dave",
            "kind": "near_miss",
            "unit": "main",
            "description": "boom swung close to the cart",
        },
    )
    assert verdicts(d, "misfire-quarantine") == []
    misfire(w)
    take_out(w, "win-1", actor="sam", container="safe-second")
    show_clear(w, "win-1", actor="sam", watchers=("jensen",))
    d = ok(w, issue_cmd("win-1", "jensen", "sc-14", actor="sam"))
    assert verdicts(d, "misfire-quarantine") == []


# ------------------------------------------------------------------ barrel-check-before-blanks


def test_blanks_after_dummies_need_a_barrel_check(western_sim: Sim) -> None:
    """barrel-check-before-blanks: colt-1 held dummies for sc-12; blanks into it are refused
    until a barrel check is recorded (The Crow)."""
    w = western_sim
    take_out(w, keep={"dummy-45": 6, "blank-45": 6})
    ok(
        w,
        {
            "type": "load",
            "actor": "hana",
            "firearm": "colt-1",
            "lot": "dummy-45",
            "positions": [1, 2],
            "scene": "sc-12",
            "shot": 2,
        },
    )
    ok(w, {"type": "unload", "actor": "hana", "firearm": "colt-1"})
    blanks = {
        "type": "load",
        "actor": "hana",
        "firearm": "colt-1",
        "lot": "blank-45",
        "positions": [1],
    }
    d = run(w, blanks)
    assert d.status == "refused"
    assert verdicts(d, "barrel-check-before-blanks") == ["block"]
    assert "colt-1 has held dummy rounds" in reasons(d, "barrel-check-before-blanks")
    inspect(w, "colt-1")
    d = run(w, blanks)
    assert verdicts(d, "barrel-check-before-blanks") == []


def test_a_barrel_check_with_dummies_still_loaded_does_not_count(western_sim: Sim) -> None:
    """barrel-check-before-blanks: an inspection made while dummies are still in the cylinder
    leaves the mark; only a barrel check after they are out clears it (The Crow, 1993)."""
    w = western_sim
    take_out(w, keep={"dummy-45": 6, "blank-45": 6})
    ok(
        w,
        {
            "type": "load",
            "actor": "hana",
            "firearm": "colt-1",
            "lot": "dummy-45",
            "positions": [1, 2],
            "scene": "sc-12",
            "shot": 2,
        },
    )
    inspect(w, "colt-1", chambers=["dummy", "dummy", "empty", "empty", "empty", "empty"])
    ok(w, {"type": "unload", "actor": "hana", "firearm": "colt-1"})
    blanks = {
        "type": "load",
        "actor": "hana",
        "firearm": "colt-1",
        "lot": "blank-45",
        "positions": [1],
    }
    assert verdicts(run(w, blanks), "barrel-check-before-blanks") == ["block"]
    inspect(w, "colt-1")
    assert verdicts(run(w, blanks), "barrel-check-before-blanks") == []


def test_blanks_into_a_firearm_without_dummies_pass(western_sim: Sim) -> None:
    """barrel-check-before-blanks: colt-2 never held dummies: no verdict."""
    w = western_sim
    take_out(w, "colt-2", keep={"blank-45": 6})
    show_clear(w, "colt-2", watchers=("frances", "dave"))
    ok(w, issue_cmd("colt-2", "frances", "sc-20"))
    d = ok(
        w,
        {
            "type": "load",
            "actor": "hana",
            "firearm": "colt-2",
            "lot": "blank-45",
            "positions": [1, 2],
            "scene": "sc-20",
            "shot": 1,
        },
    )
    assert verdicts(d, "barrel-check-before-blanks") == []


# ------------------------------------------------------------------ concern-answered


def concern(w: Sim, actor: str = "anonymous") -> str:
    d = ok(
        w,
        {
            "type": "raise_concern",
            "actor": actor,
            "text": "guns were left on the cart outside the church",
        },
    )
    return str(d.events[0]["concern"])


def test_unanswered_concern_raises_an_alert_after_the_limit(western_sim: Sim) -> None:
    """concern-answered: within 4 hours no alert; after it an alert for the safety contact."""
    w = western_sim
    cid = concern(w)
    w.clock.advance(minutes=239)
    d = ok(w, {"type": "check_alerts", "actor": "lee"})
    assert verdicts(d, "concern-answered") == []
    w.clock.advance(minutes=2)
    d = ok(w, {"type": "check_alerts", "actor": "lee"})
    assert verdicts(d, "concern-answered") == ["alert"]
    (alert,) = w.state.open_alerts()
    assert alert.subject == f"concern:{cid}" and alert.roles == ("safety_contact",)
    assert "anonymously" in alert.reason


def test_concern_limit_comes_from_the_settings() -> None:
    """concern-answered: a 30-minute limit alerts after 31 minutes."""
    w = western_with(concern_limit_min=30)
    concern(w, "jensen")
    w.clock.advance(minutes=31)
    d = ok(w, {"type": "check_alerts", "actor": "lee"})
    assert verdicts(d, "concern-answered") == ["alert"]
    assert "Jensen Hale (jensen)" in reasons(d, "concern-answered")


def test_answered_concern_raises_nothing(western_sim: Sim) -> None:
    """concern-answered: acknowledged in time, nothing is raised."""
    w = western_sim
    cid = concern(w)
    ok(
        w,
        {
            "type": "acknowledge_concern",
            "actor": "lee",
            "concern": cid,
            "answer": "guns go back in the locked cart; briefed the crew",
        },
    )
    w.clock.advance(hours=5)
    d = ok(w, {"type": "check_alerts", "actor": "lee"})
    assert verdicts(d, "concern-answered") == []


def test_unanswered_concern_blocks_the_next_days_first_issue(western_sim: Sim) -> None:
    """concern-answered: the next shoot day (long past the limit), the first issue is
    refused until the concern is answered."""
    w = western_sim
    cid = concern(w)
    ok(w, {"type": "add_shoot_day", "actor": "dave", "shoot_day": "day-2", "date": "2025-03-04"})
    w.clock.advance(hours=24)
    take_out(w)
    show_clear(w)
    d = run(w, issue_cmd())
    assert d.status == "refused"
    assert verdicts(d, "concern-answered") == ["block"]
    assert cid in reasons(d, "concern-answered")
    ok(w, {"type": "acknowledge_concern", "actor": "lee", "concern": cid, "answer": "fixed"})
    d = run(w, issue_cmd())
    assert verdicts(d, "concern-answered") == []


def test_concern_within_the_limit_does_not_block_issue(western_sim: Sim) -> None:
    """concern-answered: within the limit a concern only alerts; issue goes on."""
    w = western_sim
    concern(w)
    take_out(w)
    show_clear(w)
    d = ok(w, issue_cmd())
    assert verdicts(d, "concern-answered") == []


def test_raising_a_concern_alerts_the_safety_contact_at_once(western_sim: Sim) -> None:
    """concern-answered: the moment a concern is raised the safety contact has an open
    alert about it (not four hours later); answering the concern resolves that alert, and
    the overdue check does not raise a second alert while the first is open."""
    w = western_sim
    d = ok(
        w,
        {"type": "raise_concern", "actor": "anonymous", "text": "the cart was left open at lunch"},
    )
    cid = str(d.events[0]["concern"])
    assert verdicts(d, "concern-answered") == ["alert"]
    (alert,) = w.state.open_alerts()
    assert alert.subject == f"concern:{cid}" and alert.roles == ("safety_contact",)
    assert "anonymously" in alert.reason and "4 hours" in alert.reason
    w.clock.advance(hours=5)
    d = ok(w, {"type": "check_alerts", "actor": "lee"})
    assert verdicts(d, "concern-answered") == ["alert"]
    assert not any(e["type"] == "alert_raised" for e in d.events)  # already open
    d = ok(
        w,
        {
            "type": "acknowledge_concern",
            "actor": "lee",
            "concern": cid,
            "answer": "the cart stays locked; briefed the crew",
        },
    )
    assert [e["type"] for e in d.events] == ["concern_acknowledged", "alert_resolved"]
    assert w.state.open_alerts() == []


def test_unanswered_concern_blocks_issue_the_same_morning(western_sim: Sim) -> None:
    """concern-answered: past the limit (4 hours) on the SAME day, every issue is refused
    until the concern is answered (crews walked off Rust the same morning)."""
    w = western_sim
    cid = concern(w)
    w.clock.advance(hours=4, minutes=1)
    take_out(w)
    show_clear(w)
    d = run(w, issue_cmd())
    assert d.status == "refused" and verdicts(d, "concern-answered") == ["block"]
    assert cid in reasons(d, "concern-answered") and "4 hours" in reasons(d, "concern-answered")
    ok(w, {"type": "acknowledge_concern", "actor": "lee", "concern": cid, "answer": "fixed"})
    d = ok(w, issue_cmd())
    assert verdicts(d, "concern-answered") == []


def test_concern_deadline_comes_from_the_settings() -> None:
    """concern-answered: with a 60-minute limit, an issue 61 minutes later is refused."""
    w = western_with(concern_limit_min=60)
    concern(w)
    w.clock.advance(minutes=61)
    take_out(w)
    show_clear(w)
    d = run(w, issue_cmd())
    assert verdicts(d, "concern-answered") == ["block"]
    assert "1 hour" in reasons(d, "concern-answered")


# ------------------------------------------------------------------ stop-work


def test_stop_work_blocks_issue_on_the_unit_until_cleared(western_sim: Sim) -> None:
    """stop-work: anyone (a performer) stops the main unit; no issue there until the handler
    and the safety contact clear it; the second unit is not stopped."""
    w = western_sim
    take_out(w)
    show_clear(w)
    d = ok(
        w,
        {
            "type": "call_stop_work",
            "actor": "jensen",
            "unit": "main",
            "reason": "someone is pointing a gun at the camera",
        },
    )
    (sw,) = w.state.open_stop_works()
    d = run(w, issue_cmd())
    assert d.status == "refused"
    assert verdicts(d, "stop-work") == ["block"]
    assert "Jensen Hale (jensen)" in reasons(d, "stop-work") and sw.id in reasons(d, "stop-work")
    take_out(w, "win-1", actor="sam", container="safe-second")
    show_clear(w, "win-1", actor="sam", watchers=("jensen",))
    d = ok(w, issue_cmd("win-1", "jensen", "sc-14", actor="sam"))
    assert verdicts(d, "stop-work") == []
    ok(
        w,
        {
            "type": "clear_stop_work",
            "actor": "hana",
            "stop_work": sw.id,
            "note": "checked",
            "confirmations": [pin("lee")],
        },
    )
    d = ok(w, issue_cmd())
    assert verdicts(d, "stop-work") == []


def test_production_wide_stop_work_blocks_every_unit(western_sim: Sim) -> None:
    """stop-work: a stop-work for the whole production refuses the second unit too."""
    w = western_sim
    ok(w, {"type": "call_stop_work", "actor": "lee", "reason": "wind: fire risk"})
    take_out(w, "win-1", actor="sam", container="safe-second")
    show_clear(w, "win-1", actor="sam", watchers=("jensen",))
    d = run(w, issue_cmd("win-1", "jensen", "sc-14", actor="sam"))
    assert verdicts(d, "stop-work") == ["block"]
    assert "the whole production" in reasons(d, "stop-work")


def test_rules_survive_nonsense(western_sim: Sim) -> None:
    """Every C/D/E rule copes with a command the state checks will refuse (a firearm still
    locked away, no scene, a release of something not quarantined): no crash."""
    w = western_sim
    for cmd in (
        {"type": "issue", "actor": "hana", "firearm": "win-1", "to": "alec"},
        {
            "type": "load",
            "actor": "alec",
            "firearm": "rubber-1",
            "lot": "blank-45",
            "positions": [1],
            "scene": "sc-14",
            "shot": 9,
        },
        {"type": "collect", "actor": "dave", "firearm": "colt-1"},
        {
            "type": "release_quarantine",
            "actor": "hana",
            "lot": "dummy-45",
            "note": "checked",
            "confirmations": [pin("lee")],
        },
        {
            "type": "report_incident",
            "actor": "alec",
            "kind": "squib",
            "description": "a pop and no smoke",
        },
    ):
        d = run(w, cmd)
        assert d.status in ("refused", "rejected", "allowed")
    assert [sw.scope for sw in w.state.open_stop_works()] == ["production"]
