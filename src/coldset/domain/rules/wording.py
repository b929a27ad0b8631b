"""Wording shared by the rules: how people, firearms and times are named in a reason.

No rules are registered here; the rule modules import these so every reason
names things the same way.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from coldset.clock import parse_rfc3339
from coldset.domain.state import State


def person_name(state: State, pid: str | None) -> str:
    """``Hana Reyes (hana)``, or the bare id when the person is unknown."""
    p = state.people.get(pid or "")
    return f"{p.name} ({p.id})" if p is not None else str(pid)


def gun_name(state: State, fid: str) -> str:
    """``colt-1 (Colt Single Action Army, serial SA10598)``, or the bare id."""
    f = state.firearms.get(fid)
    return f"{fid} ({f.manufacturer} {f.model}, serial {f.serial})" if f else fid


def minutes_since(now: datetime, at: str | None) -> float | None:
    """Minutes from an entry time to ``now``; None when there is no (valid) time."""
    if not at:
        return None
    try:
        return (now - parse_rfc3339(at)).total_seconds() / 60
    except ValueError:
        return None


def local_time(state: State, at: str | None) -> str:
    """An entry time as the production's local ``YYYY-MM-DD HH:MM MST`` (the zone said:
    a reason read on set or in a report is never ambiguous about which clock)."""
    if not at:
        return "never"
    try:
        t = parse_rfc3339(at)
    except ValueError:
        return at
    tz = state.production.time_zone if state.production else "UTC"
    return t.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M %Z")
