"""Times for people: in the production's own time zone, always with the zone's name.

Entry times are UTC (RFC 3339) in the log; a crew reads them on the wall clock of the
location ("14:05 MST"). The zone is the production's ``time_zone`` setting (an IANA name,
set when the production is created; UTC when it has none).
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from coldset.clock import parse_rfc3339


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local(at: str | datetime | None, tz: str | None, day: bool = False) -> str:
    """``08:00 MST`` (``2025-03-03 08:00 MST`` with ``day``); ``—`` for no time."""
    if not at:
        return "—"
    try:
        t = parse_rfc3339(at) if isinstance(at, str) else at
    except ValueError:
        return str(at)
    lt = t.astimezone(zone(tz))
    return lt.strftime("%Y-%m-%d %H:%M %Z" if day else "%H:%M %Z")


def local_seconds(at: str | None, tz: str | None) -> str:
    """``2025-03-03 08:00:05 MST`` (the timeline, where seconds matter)."""
    if not at:
        return "—"
    try:
        t = parse_rfc3339(at)
    except ValueError:
        return str(at)
    return t.astimezone(zone(tz)).strftime("%Y-%m-%d %H:%M:%S %Z")
