"""Which firearms an entry concerns, and a one-line summary of it (the timeline rows)."""

from __future__ import annotations

import json
from typing import Any

from coldset.domain.state import State
from coldset.service.findings import finding


def firearms_touched(before: State, entry: dict[str, Any]) -> list[str]:
    """Every firearm the command named or its events moved (computed on the state before)."""
    cmd = entry["command"]
    out: set[str] = set()
    if isinstance(cmd.get("firearm"), str):
        out.add(cmd["firearm"])
    out.update(x for x in cmd.get("firearms") or () if isinstance(x, str))
    for pf in cmd.get("firearms") or ():
        if isinstance(pf, dict) and "firearm" in pf:
            out.add(pf["firearm"])
    if cmd.get("type") == "unlock_container" and not cmd.get("leave_inside"):
        box = before.containers.get(cmd.get("container", ""))
        if box is not None:
            out.update(box.firearms)
    if cmd.get("type") == "start_meal_break":
        out.update(before.firearms_out())
    for e in entry["events"]:
        if isinstance(e.get("firearm"), str):
            out.add(e["firearm"])
        for x in e.get("firearms") or ():
            out.add(x if isinstance(x, str) else x["firearm"])
        subject = e.get("subject", "")
        if isinstance(subject, str) and subject.startswith("firearm:"):
            out.add(subject.split(":", 1)[1])
    received = {e["firearm"] for e in entry["events"] if e["type"] == "firearm_received"}
    return sorted(f for f in out if f in before.firearms or f in received)


def summary(entry: dict[str, Any], before: State | None = None) -> str:
    cmd = entry["command"]
    parts = [cmd.get("type", "?").replace("_", " ")]
    for k in ("to", "scene", "lot", "container", "kind"):
        if isinstance(cmd.get(k), str):
            parts.append(f"{k} {cmd[k]}")
    if cmd.get("positions"):
        parts.append("positions " + ",".join(map(str, cmd["positions"])))
    if cmd.get("type") == "inspect" and isinstance(cmd.get("chambers"), list):
        f = None if before is None else before.firearms.get(str(cmd.get("firearm", "")))
        chambers = [str(x) for x in cmd["chambers"]]
        if f is not None and chambers:
            found = finding(f.type.value, chambers, bool(cmd.get("barrel_clear")))
            parts.append("found " + found["text"])
    if entry.get("error"):
        parts.append(f"({entry['error']['message']})")
    return " ".join(parts)


def rows(production: str, index: int, before: State, entry: dict[str, Any]) -> list[dict[str, Any]]:
    rules = json.dumps([v["rule"] for v in entry["verdicts"]])
    return [
        {
            "production": production,
            "firearm": fid,
            "idx": index,
            "at": entry["at"],
            "actor": entry["actor"],
            "command": entry["command"].get("type", ""),
            "outcome": entry["outcome"],
            "rules": rules,
            "summary": summary(entry, before),
        }
        for fid in firearms_touched(before, entry)
    ]
