"""When a shoot day runs: from its call time to its wrap, possibly across midnight.

SAFETY_RULES.md: "A shoot day runs from its call time to its wrap and may cross
midnight: every rule that speaks of 'the day' means the shoot day, not the
calendar date." Every rule that reasons about "the day" asks this module, never
``datetime.date()``:

- :func:`within_shoot_day` — is this moment inside that shoot day?
- :func:`shoot_day_at` — which shoot day (if any) is this moment in?

A shoot day has a date (the day of its call, in the production's time zone), a
call time and a planned wrap time (``HH:MM``, local). A wrap at or before the call
is on the next calendar day (call 18:00, wrap 06:00: a night shoot). A shoot day
added without times runs from 00:00 to 00:00 the next day (the calendar day), as
every shoot day did before call and wrap times existed.

It ends at its recorded wrap (``wrap_day``). Until one is recorded it may run
over its planned wrap (overtime), up to the next shoot day's call and never more
than 24 hours after its own call.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from coldset.clock import parse_rfc3339
from coldset.domain.model import ShootDay
from coldset.domain.state import State

#: A shoot day never lasts longer than this after its call, overtime included.
MAX_LENGTH = timedelta(hours=24)

__all__ = [
    "MAX_LENGTH",
    "call_at",
    "describe",
    "now_words",
    "planned_wrap_at",
    "shoot_day_at",
    "shoot_day_end",
    "within_shoot_day",
]


def _zone(state: State) -> ZoneInfo:
    return ZoneInfo(state.production.time_zone if state.production else "UTC")


def _clock(hhmm: str) -> time:
    h, _, m = hhmm.partition(":")
    return time(int(h), int(m or 0))


def call_at(state: State, day: ShootDay) -> datetime:
    """The call: the shoot day's date at its call time, local, as an aware datetime."""
    return datetime.combine(date.fromisoformat(day.date), _clock(day.call), _zone(state))


def planned_wrap_at(state: State, day: ShootDay) -> datetime:
    """The planned wrap: on the call's date, or the next day when it is not after the call."""
    end_date = date.fromisoformat(day.date)
    if _clock(day.wrap) <= _clock(day.call):
        end_date += timedelta(days=1)
    return datetime.combine(end_date, _clock(day.wrap), _zone(state))


def shoot_day_end(state: State, day: ShootDay) -> datetime:
    """When the shoot day ends: its recorded wrap; else the planned wrap, extended by
    overtime up to the next shoot day's call and at most :data:`MAX_LENGTH` after the call."""
    start = call_at(state, day)
    if day.wrapped_at:
        try:
            return max(start, parse_rfc3339(day.wrapped_at))
        except ValueError:
            pass
    end = start + MAX_LENGTH
    for d in state.shoot_days.values():
        other = call_at(state, d)
        if d.id != day.id and start < other < end:
            end = other
    return end


def within_shoot_day(state: State, shoot_day: str | ShootDay, at: datetime | str) -> bool:
    """Is ``at`` (timezone-aware, or an RFC 3339 entry time) inside the shoot day (its id,
    or the day itself): at or after its call and before its end (:func:`shoot_day_end`)?
    False for a shoot day that does not exist, or a time that cannot be read."""
    day = state.shoot_days.get(shoot_day) if isinstance(shoot_day, str) else shoot_day
    if day is None:
        return False
    if isinstance(at, str):
        try:
            at = parse_rfc3339(at)
        except ValueError:
            return False
    return call_at(state, day) <= at < shoot_day_end(state, day)


def shoot_day_at(state: State, at: datetime) -> str | None:
    """The id of the shoot day ``at`` falls in, or None (before the first call, between
    shoot days, after a wrap). Shoot days do not overlap (``add_shoot_day`` refuses it)."""
    for did in sorted(state.shoot_days.keys()):
        if within_shoot_day(state, did, at):
            return did
    return None


def describe(state: State, shoot_day: str) -> str:
    """``day-2 (2025-03-04 18:00 to 2025-03-05 06:00)``: a shoot day and when it runs."""
    day = state.shoot_days.get(shoot_day)
    if day is None:
        return shoot_day
    start, end = call_at(state, day), planned_wrap_at(state, day)
    return f"{day.id} ({start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M})"


def now_words(state: State, at: datetime) -> str:
    """``2025-03-05 00:10, shoot day day-1`` (or ``..., no shoot day``): a moment in words."""
    local = at.astimezone(_zone(state))
    did = shoot_day_at(state, at)
    return f"{local:%Y-%m-%d %H:%M}, " + (f"shoot day {did}" if did else "in no shoot day")
