"""What a shoot day is, in one place: "is time t within shoot day d".

SAFETY_RULES.md: a shoot day runs from its call time to its wrap and may cross
midnight. Every rule that asks whether something happened "on that shoot day"
(a safety meeting, ...) asks :func:`within_shoot_day`, so the definition of a
shoot day changes here and nowhere else.

Today's definition (the model has no call or wrap time yet): the day's calendar
date in the production's time zone.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from coldset.clock import parse_rfc3339
from coldset.domain.model import ShootDay
from coldset.domain.state import State


def within_shoot_day(state: State, day: ShootDay, t: datetime | str) -> bool:
    """Is the time ``t`` (an aware datetime or an RFC 3339 entry time) within ``day``?

    An unreadable time is within no day."""
    if isinstance(t, str):
        try:
            t = parse_rfc3339(t)
        except ValueError:
            return False
    tz = ZoneInfo(state.production.time_zone if state.production else "UTC")
    return t.astimezone(tz).date().isoformat() == day.date
