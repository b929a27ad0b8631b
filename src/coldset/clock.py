"""Injected clocks. Code never calls ``datetime.now()`` directly; it asks a Clock.

Times are timezone-aware UTC. On the wire and in ledger entries they are RFC 3339
strings with milliseconds (``2021-10-21T20:46:00.000Z``), see :func:`rfc3339`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    """The wall clock, in UTC, truncated to milliseconds."""

    def now(self) -> datetime:
        t = datetime.now(UTC)
        return t.replace(microsecond=t.microsecond // 1000 * 1000)


class FixedClock:
    """A clock for tests and replays: it says what it is told and moves when asked."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("FixedClock needs a timezone-aware datetime")
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def set(self, when: datetime) -> None:
        if when.tzinfo is None:
            raise ValueError("FixedClock needs a timezone-aware datetime")
        self._now = when.astimezone(UTC)

    def advance(self, **kwargs: float) -> datetime:
        self._now = self._now + timedelta(**kwargs)
        return self._now


def rfc3339(t: datetime) -> str:
    """``2021-10-21T20:46:00.000Z``: UTC, milliseconds, the only time format in entries."""
    if t.tzinfo is None:
        raise ValueError("naive datetime: times must be timezone-aware")
    t = t.astimezone(UTC)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def parse_rfc3339(s: str) -> datetime:
    """Parse an RFC 3339 time with an explicit offset or ``Z``; refuse naive times."""
    t = datetime.fromisoformat(s.replace("Z", "+00:00").replace("z", "+00:00"))
    if t.tzinfo is None:
        raise ValueError(f"time {s!r} has no time zone; add Z or an offset like +00:00")
    return t.astimezone(UTC)
