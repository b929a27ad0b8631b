"""Night shoots: a shoot day runs from its call to its wrap and may cross midnight, and
every rule that reasons about "the day" uses the shoot day, not the calendar date
(issue 11 point 7; SAFETY_RULES.md, the definition of a shoot day)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from coldset.domain.commands import CommandError
from coldset.domain.sample import western
from coldset.domain.shootday import shoot_day_at, within_shoot_day

from ..conftest import DAY, PINS, Sim
from . import issue_cmd, ok, ready, reasons, run, take_out, verdicts

# The western's day-1 as a night exterior: call 18:00 on 3 March, wrap 06:00 on 4 March
# (America/Denver, UTC-7 then). The setup runs at the call.
CALL_UTC = datetime(2025, 3, 4, 1, 0, tzinfo=UTC)


def local(day: int, hh: int, mm: int = 0) -> datetime:
    """A moment in March 2025, Denver local time (UTC-7 then), as UTC."""
    return datetime(2025, 3, day, tzinfo=UTC) + timedelta(hours=hh + 7, minutes=mm)


def at(w: Sim, day: int, hh: int, mm: int = 0) -> None:
    """Set the sim's clock to a Denver local time on ``day`` March 2025."""
    w.clock.set(local(day, hh, mm))


@pytest.fixture
def night() -> Sim:
    """The sample western with day-1 a night shoot (18:00 to 06:00), set up at the call."""
    s = Sim(start=CALL_UTC)
    for cmd in western(DAY, PINS):
        if cmd["type"] == "add_shoot_day":
            cmd = {**cmd, "call": "18:00", "wrap": "06:00"}
        s.ok(cmd)
    return s


def test_a_moment_maps_to_its_shoot_day_across_midnight(night: Sim) -> None:
    """shoot_day_at / within_shoot_day: 18:00 to 06:00 is one shoot day; 00:10 on the next
    date is still in it; before the call is in none."""
    s = night.state
    assert shoot_day_at(s, local(3, 17, 59)) is None
    assert shoot_day_at(s, local(3, 18, 0)) == "day-1"
    assert shoot_day_at(s, local(3, 23, 50)) == "day-1"
    assert shoot_day_at(s, local(4, 0, 10)) == "day-1"
    assert within_shoot_day(s, "day-1", local(4, 5, 59))
    assert not within_shoot_day(s, "day-1", local(3, 12, 0))
    assert not within_shoot_day(s, "no-such-day", local(3, 20, 0))


def test_overtime_runs_until_the_next_call_and_a_wrap_ends_the_day(night: Sim) -> None:
    """A night that runs over its planned wrap is still that shoot day (overtime) until the
    next shoot day's call; a recorded wrap ends it."""
    ok(
        night,
        {
            "type": "add_shoot_day",
            "actor": "dave",
            "shoot_day": "day-2",
            "date": "2025-03-04",
            "call": "18:00",
            "wrap": "06:00",
        },
    )
    s = night.state
    assert shoot_day_at(s, local(4, 7, 30)) == "day-1"  # overtime
    assert shoot_day_at(s, local(4, 18, 0)) == "day-2"  # the next night's call
    at(night, 4, 5, 30)
    ok(night, {"type": "wrap_day", "actor": "dave", "shoot_day": "day-1"})
    assert shoot_day_at(night.state, local(4, 5, 45)) is None


def test_overlapping_shoot_days_are_refused(night: Sim) -> None:
    """add_shoot_day: a day whose hours overlap another's is refused (stale state), one that
    starts after the other's planned wrap is allowed."""
    d = run(
        night,
        {
            "type": "add_shoot_day",
            "actor": "dave",
            "shoot_day": "day-x",
            "date": "2025-03-04",
            "call": "05:00",
            "wrap": "12:00",
        },
    )
    assert d.status == "rejected" and "do not overlap" in (d.error or "")
    ok(
        night,
        {
            "type": "add_shoot_day",
            "actor": "dave",
            "shoot_day": "day-2",
            "date": "2025-03-04",
            "call": "06:00",
            "wrap": "12:00",
        },
    )


def test_bad_call_time_is_malformed(night: Sim) -> None:
    """add_shoot_day: a call time that is not HH:MM is rejected and nothing is written."""
    before = night.state
    with pytest.raises(CommandError, match="call"):
        run(
            night,
            {
                "type": "add_shoot_day",
                "actor": "dave",
                "shoot_day": "day-2",
                "date": "2025-03-04",
                "call": "25:00",
            },
        )
    assert night.state is before


def test_night_scene_is_issued_after_midnight(night: Sim) -> None:
    """scene-bound: at 00:30 the night's own scene (shoot day of 3 March) is the current
    shoot day's; the issue passes."""
    at(night, 4, 0, 30)
    d = ok(night, ready(night))
    assert verdicts(d, "scene-bound") == []


def test_scene_of_the_next_night_is_refused_before_its_call() -> None:
    """scene-bound: a scene of the next night is refused before that night's call (the
    current shoot day is still the first one, in overtime), allowed after it."""
    w = Sim(start=CALL_UTC)
    for cmd in western(DAY, PINS):
        if cmd["type"] == "add_shoot_day":
            cmd = {**cmd, "call": "18:00", "wrap": "06:00"}
        if (
            cmd.get("shoot_day") == "day-1"
            and cmd["type"] == "schedule_scene"
            and cmd["scene"] == "sc-12"
        ):
            w.ok(
                {
                    "type": "add_shoot_day",
                    "production": cmd["production"],
                    "actor": "dave",
                    "shoot_day": "day-2",
                    "date": "2025-03-04",
                    "call": "18:00",
                    "wrap": "06:00",
                }
            )
            cmd = {**cmd, "shoot_day": "day-2"}
        w.ok(cmd)
    at(w, 4, 17, 0)
    d = run(w, ready(w))
    assert verdicts(d, "scene-bound") == ["block_overridable"]
    assert "day-2 (2025-03-04 18:00 to 2025-03-05 06:00), not the current one" in reasons(
        d, "scene-bound"
    )
    at(w, 4, 18, 5)
    d = run(w, issue_cmd())
    assert verdicts(d, "scene-bound") == []


def test_issue_after_the_wrap_is_refused(night: Sim) -> None:
    """scene-bound: once the shoot day is wrapped, its scenes are no longer issued."""
    at(night, 4, 5, 0)
    ok(night, {"type": "wrap_day", "actor": "dave", "shoot_day": "day-1"})
    d = run(night, ready(night))
    assert verdicts(d, "scene-bound") == ["block_overridable"]
    assert "shoot day day-1 has wrapped" in reasons(d, "scene-bound")


def _blanks_out(w: Sim) -> dict[str, object]:
    take_out(w, "colt-2", keep={"blank-45": 6})
    return {
        "type": "load",
        "actor": "hana",
        "firearm": "colt-2",
        "lot": "blank-45",
        "positions": [1, 2],
        "scene": "sc-20",
        "shot": 1,
    }


def test_blanks_load_for_the_nights_take_after_midnight(night: Sim) -> None:
    """load-at-take: blanks for the night's take load at 00:40 (the same shoot day)."""
    at(night, 4, 0, 40)
    d = ok(night, _blanks_out(night))
    assert verdicts(d, "load-at-take") == []


def test_blanks_refused_for_a_scene_of_another_shoot_day(night: Sim) -> None:
    """load-at-take: the take of a shoot day that is not the current one gets no blanks."""
    ok(
        night,
        {
            "type": "add_shoot_day",
            "actor": "dave",
            "shoot_day": "day-2",
            "date": "2025-03-04",
            "call": "18:00",
            "wrap": "06:00",
        },
    )
    at(night, 4, 18, 30)  # day-2 has called: day-1's scenes are over
    d = run(night, _blanks_out(night))
    assert verdicts(d, "load-at-take") == ["block"]
    assert "not now (2025-03-04 18:" in reasons(d, "load-at-take")


def test_wrap_after_midnight_counts_the_nights_movements(night: Sim) -> None:
    """round-accounting: the night wraps at 05:30 once the lots moved after midnight are
    counted; before that count the wrap is refused naming the lot."""
    at(night, 4, 0, 40)
    ok(night, _blanks_out(night))  # blank-45 moves after midnight
    ok(night, {"type": "unload", "actor": "hana", "firearm": "colt-2"})
    ok(night, {"type": "unlock_container", "actor": "hana", "container": "safe-main"})
    ok(night, {"type": "lock_container", "actor": "hana", "container": "safe-main"})
    at(night, 4, 5, 30)
    d = run(night, {"type": "wrap_day", "actor": "dave", "shoot_day": "day-1"})
    assert verdicts(d, "round-accounting") == ["block_overridable"]
    assert "blank-45" in reasons(d, "round-accounting")
    for lot in ("blank-45", "dummy-45"):
        lot_state = night.state.lots[lot]
        ok(
            night,
            {
                "type": "reconcile_counts",
                "actor": "hana",
                "lot": lot,
                "counted": lot_state.counts.expected_stock,
            },
        )
    d = ok(night, {"type": "wrap_day", "actor": "dave", "shoot_day": "day-1"})
    assert verdicts(d, "round-accounting") == []


def test_concern_at_2350_does_not_block_the_nights_work_at_0010(night: Sim) -> None:
    """concern-answered: a concern raised at 23:50 alerts the safety contact at once but
    does not block an issue at 00:10 as if a day had passed; at 03:51 (past 4 hours) it
    does."""
    at(night, 3, 23, 50)
    d = ok(
        night,
        {
            "type": "raise_concern",
            "actor": "anonymous",
            "text": "the blanks box was open on the truck",
        },
    )
    assert verdicts(d, "concern-answered") == ["alert"]
    at(night, 4, 0, 10)
    d = ok(night, ready(night))
    assert verdicts(d, "concern-answered") == []
    ok(night, {"type": "collect", "actor": "hana", "firearm": "colt-1"})
    at(night, 4, 3, 51)
    d = run(night, issue_cmd())
    assert verdicts(d, "concern-answered") == ["block"]
