"""What an inspection found, in words for the board and the timeline.

The board's "Loaded" column is the log's record of what was loaded; an inspection is
what a person saw. When they differ (a live round found in a gun the record says is
empty) the finding is what matters, so it is shown position by position and a live
round first.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

_REVOLVERS = ("single_action_revolver", "double_action_revolver")
#: what a position may hold, worst first (the order a finding is told in)
_DANGER = ("live", "obstructed", "blank", "dummy", "spent", "empty")


def position_names(ftype: str, count: int) -> list[str]:
    """``chamber 1`` … for a revolver; ``chamber``, ``magazine round 1`` … otherwise."""
    if ftype in _REVOLVERS:
        return [f"chamber {i}" for i in range(1, count + 1)]
    return ["chamber"] + [f"magazine round {i}" for i in range(1, count)]


def finding(ftype: str, chambers: Sequence[str], barrel_clear: bool | None) -> dict[str, Any]:
    """Position by position what was seen, the live and obstructed positions named, and
    one line for people: ``chamber 1 LIVE · chamber 3 blank · 4 empty · barrel clear``."""
    names = position_names(ftype, len(chambers))
    positions = [{"name": n, "state": str(s)} for n, s in zip(names, chambers, strict=True)]
    live = [p["name"] for p in positions if p["state"] == "live"]
    obstructed = [p["name"] for p in positions if p["state"] == "obstructed"]
    parts: list[str] = []
    empties = [p for p in positions if p["state"] == "empty"]
    for state in _DANGER[:-1]:
        names_in = [p["name"] for p in positions if p["state"] == state]
        if names_in:
            parts.append(f"{_group(names_in)} {'LIVE' if state == 'live' else state}")
    if empties and len(empties) == len(positions):
        parts.append(f"all {len(empties)} empty" if len(empties) > 1 else "empty")
    elif empties:
        parts.append(f"{_group([p['name'] for p in empties])} empty")
    if barrel_clear is not None:
        parts.append("barrel clear" if barrel_clear else "barrel NOT clear")
    return {
        "positions": positions,
        "live": live,
        "obstructed": obstructed,
        "barrel_clear": barrel_clear,
        "text": " · ".join(parts) or "nothing recorded",
        "alarm": bool(live or obstructed) or barrel_clear is False,
    }


def _group(names: list[str]) -> str:
    """``chamber 1`` / ``chambers 1-4, 6`` / ``chamber, magazine rounds 2-3``."""
    out: list[str] = []
    for word in ("chamber", "magazine round"):
        nums = [
            int(n.rsplit(" ", 1)[1])
            for n in names
            if n.startswith(word + " ") and n.rsplit(" ", 1)[1].isdigit()
        ]
        if word == "chamber" and "chamber" in names:
            out.append("chamber")
        if not nums:
            continue
        runs: list[str] = []
        start = prev = nums[0]
        for n in [*nums[1:], None]:
            if n is not None and n == prev + 1:
                prev = n
                continue
            runs.append(str(start) if start == prev else f"{start}-{prev}")
            if n is not None:
                start = prev = n
        plural = len(nums) > 1
        out.append(f"{word}{'s' if plural else ''} {', '.join(runs)}")
    return ", ".join(out)
