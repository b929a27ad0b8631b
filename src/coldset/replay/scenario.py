"""Scenario files: load a YAML scenario, check every field, turn it into timed commands.

The format is described in docs/scenarios.md. Every problem is a
:class:`ScenarioError` whose message names the file, the section or step
number, and the field, so a person can fix the file without reading code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from coldset.domain.commands import ANONYMOUS, COMMAND_TYPES, CommandError, parse_command
from coldset.domain.rules import RULE_IDS
from coldset.replay.interactions import Interactions, parse_interactions
from coldset.replay.setup import setup_commands

OUTCOMES = ("allowed", "refused", "rejected")
STEP_KEYS = frozenset(
    {
        "at",
        "by",
        "expect",
        "rules",
        "raises",
        "overridden",
        "error",
        "story",
        "chain",
        "fatal",
        "gap",
        "confirm",
        "override",
        "interactions",
    }
)
TOP_KEYS = frozenset(
    {
        "scenario",
        "summary",
        "sources",
        "production",
        "people",
        "units",
        "sets",
        "shoot_days",
        "containers",
        "firearms",
        "lots",
        "scenes",
        "setup",
        "steps",
    }
)
#: ``$kind`` placeholders: the id of the latest thing of that kind a step created.
PLACEHOLDERS = ("stop_work", "concern", "alert", "incident", "inspection", "override")
_TIME = re.compile(r"^(?:(\d{4}-\d{2}-\d{2})[ T])?(\d{1,2}):(\d{2})(?::(\d{2}))?$")


class ScenarioError(ValueError):
    """A scenario file that cannot be run; the message names file, step and field."""


@dataclass
class Step:
    number: int  # 1-based; 0 for setup commands
    label: str  # "step 7" or "setup: firearms.colt-45"
    at: datetime  # as written, aware
    by: str
    type: str
    command: dict[str, Any]  # with PINs and placeholders
    expect: str = "allowed"
    rules: tuple[str, ...] = ()  # blocking rules expected (refused)
    raises: tuple[str, ...] = ()  # alert / stop-work verdicts expected (allowed)
    overridden: tuple[str, ...] = ()  # blocks an override lets through (allowed)
    error: str | None = None  # error kind expected (rejected)
    story: str = ""
    chain: str = ""
    fatal: bool = False
    gap: str = ""
    interactions: Interactions | None = None  # None: derived from the command


@dataclass
class Scenario:
    path: Path
    name: str
    summary: str
    sources: list[str]
    production: str
    time_zone: str
    people: dict[str, dict[str, Any]]
    admin: str
    setup: list[Step]
    steps: list[Step] = field(default_factory=list)


def load(path: str | Path) -> Scenario:
    """Read and check a scenario file (:class:`ScenarioError` on any problem)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as e:
        raise ScenarioError(f"{p}: cannot read the scenario file ({e.strerror or e})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise ScenarioError(
            f"{p}: not valid YAML{where}: {getattr(e, 'problem', None) or e}"
        ) from None
    return parse(data, p)


def parse(data: Any, path: Path) -> Scenario:
    def fail(where: str, msg: str) -> ScenarioError:
        return ScenarioError(f"{path}: {where}: {msg}")

    if not isinstance(data, dict):
        raise fail("file", "a scenario is a mapping with production, people, ... and steps")
    unknown = sorted(set(map(str, data)) - TOP_KEYS)
    if unknown:
        raise fail(
            f"field '{unknown[0]}'", "unknown section (one of: " + ", ".join(sorted(TOP_KEYS)) + ")"
        )
    for key in ("scenario", "production", "people", "steps"):
        if key not in data:
            raise fail(f"field '{key}'", "required")
    prod = data["production"]
    if not isinstance(prod, dict):
        raise fail(
            "field 'production'", "must be a mapping (id, title, time_zone, admin, setup_at)"
        )
    for key in ("id", "title", "admin", "setup_at"):
        if key not in prod:
            raise fail(f"field 'production.{key}'", "required")
    tz = str(prod.get("time_zone", "UTC"))
    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise fail("field 'production.time_zone'", f"unknown time zone {tz!r}") from None
    people = data["people"]
    if not isinstance(people, dict) or not people:
        raise fail("field 'people'", "a mapping of person id -> {name, roles, pin}")
    for pid, info in people.items():
        if not isinstance(info, dict) or "name" not in info:
            raise fail(f"field 'people.{pid}'", "needs at least a name")
    if prod["admin"] not in people:
        raise fail("field 'production.admin'", f"{prod['admin']!r} is not in people")

    setup_at = _time(prod["setup_at"], None, zone, "field 'production.setup_at'", fail)
    try:
        raw_setup = setup_commands(data)
    except ValueError as e:
        raise fail("setup", str(e)) from None
    extra = data.get("setup") or []
    if not isinstance(extra, list):
        raise fail("field 'setup'", "a list of steps")
    sc = Scenario(
        path=path,
        name=str(data["scenario"]),
        summary=str(data.get("summary", "")),
        sources=[str(s) for s in data.get("sources") or []],
        production=str(prod["id"]),
        time_zone=tz,
        people=people,
        admin=str(prod["admin"]),
        setup=[],
    )
    for label, by, cmd in raw_setup:
        sc.setup.append(_command_step(sc, 0, f"setup: {label}", setup_at, by, cmd, fail))
    for i, raw in enumerate(extra, 1):
        st = _step(sc, raw, 0, f"setup step {i}", setup_at.date(), zone, fail)
        st.at = max(st.at, setup_at)
        sc.setup.append(st)

    steps = data["steps"]
    if not isinstance(steps, list) or not steps:
        raise fail("field 'steps'", "a non-empty list of steps")
    day = setup_at.date()
    last: datetime | None = None
    for n, raw in enumerate(steps, 1):
        st = _step(sc, raw, n, f"step {n}", day, zone, fail)
        if last is not None and st.at < last:
            raise fail(
                f"step {n}, field 'at'",
                f"{_local(st.at)} is before the previous "
                f"step ({_local(last)}); steps are in time order",
            )
        last, day = st.at, st.at.date()
        sc.steps.append(st)
    return sc


def _local(t: datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M:%S")


def _time(value: Any, day: date | None, zone: ZoneInfo, where: str, fail: Any) -> datetime:
    """A local time: "HH:MM[:SS]" (on ``day``) or "YYYY-MM-DD HH:MM[:SS]"."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=zone) if value.tzinfo is None else value
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        value = f"{value // 60}:{value % 60:02d}"  # YAML 1.1 reads 12:55 as 775
    m = _TIME.match(str(value).strip()) if isinstance(value, str | int) else None
    if m is None:
        raise fail(
            where,
            f'{value!r} is not a time: write "HH:MM" or "YYYY-MM-DD HH:MM" '
            "(local time of the production)",
        )
    d_text, hh, mm, ss = m.groups()
    try:
        d = date.fromisoformat(d_text) if d_text else day
        if d is None:
            raise ValueError("no date")
        return datetime(d.year, d.month, d.day, int(hh), int(mm), int(ss or 0), tzinfo=zone)
    except ValueError as e:
        raise fail(
            where, f"{value!r} is not a valid time ({e}); the first one needs a date"
        ) from None


def _ids(value: Any, where: str, fail: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise fail(where, "a list of rule ids")
    bad = [v for v in value if v not in RULE_IDS]
    if bad:
        raise fail(where, f"unknown rule id {bad[0]!r} (see docs/rules.md)")
    return tuple(value)


def _confirmations(sc: Scenario, value: Any, where: str, fail: Any) -> list[dict[str, str]]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise fail(where, "a list of people (their PINs come from people), or {person, pin}")
    out = []
    for i, item in enumerate(value):
        if isinstance(item, dict) and "person" in item:
            out.append({"person": str(item["person"]), "pin": str(item.get("pin", ""))})
            continue
        at = where[:-1] + f".{i}'" if where.endswith("'") else f"{where}.{i}"
        if not isinstance(item, str) or item not in sc.people:
            raise fail(at, f"{item!r} is not a person of the scenario")
        pin = sc.people[item].get("pin")
        if pin is None:
            raise fail(at, f"{item} has no pin in people")
        out.append({"person": item, "pin": str(pin)})
    return out


def _step(sc: Scenario, raw: Any, n: int, label: str, day: date, zone: ZoneInfo, fail: Any) -> Step:
    if not isinstance(raw, dict):
        raise fail(label, "a step is a mapping: at, by, one command, expect, ...")
    keys = [str(k) for k in raw]
    commands = [k for k in keys if k in COMMAND_TYPES]
    unknown = [k for k in keys if k not in STEP_KEYS and k not in COMMAND_TYPES]
    if unknown:
        raise fail(
            f"{label}, field '{unknown[0]}'",
            "unknown field: a step has at, by, ONE "
            "command (e.g. issue: {...}), expect, rules, raises, story, chain, fatal, "
            "gap, confirm, override, interactions",
        )
    if len(commands) != 1:
        raise fail(
            label,
            "name exactly one command (e.g. issue: {firearm: ..., to: ...}); "
            f"found {', '.join(commands) or 'none'}",
        )
    type_ = commands[0]
    for key in ("at", "by"):
        if key not in raw:
            raise fail(f"{label}, field '{key}'", "required")
    at = _time(raw["at"], day, zone, f"{label}, field 'at'", fail)
    by = str(raw["by"])
    if by == ANONYMOUS and type_ != "raise_concern":
        raise fail(
            f"{label}, field 'by'",
            "anonymous may only raise a concern "
            "(raise_concern); every other step names a person of the scenario",
        )
    if by not in sc.people and by != ANONYMOUS:
        raise fail(
            f"{label}, field 'by'",
            f"{by!r} is not a person of the scenario (or anonymous, for raise_concern)",
        )
    fields = raw[type_] if raw[type_] is not None else {}
    if not isinstance(fields, dict):
        raise fail(f"{label}, field '{type_}'", "the command's fields, as a mapping")
    clash = [k for k in ("type", "production", "actor", "confirmations") if k in fields]
    if clash:
        raise fail(
            f"{label}, field '{type_}.{clash[0]}'", "set by the step (by, confirm); leave it out"
        )
    cmd = dict(fields)
    conf = _confirmations(sc, raw.get("confirm"), f"{label}, field 'confirm'", fail)
    if conf:
        cmd["confirmations"] = conf
    if "override" in raw:
        ov = raw["override"]
        if not isinstance(ov, dict) or "reason" not in ov:
            raise fail(f"{label}, field 'override'", "needs a reason and confirm: [people]")
        cmd["override"] = {
            "reason": str(ov["reason"]),
            "confirmers": _confirmations(
                sc, ov.get("confirm"), f"{label}, field 'override.confirm'", fail
            ),
        }
    st = _command_step(sc, n, label, at, by, {"type": type_, **cmd}, fail)
    expect = raw.get("expect", "allowed")
    if expect not in OUTCOMES:
        raise fail(f"{label}, field 'expect'", f"{expect!r}: one of {', '.join(OUTCOMES)}")
    st.expect = expect
    st.rules = _ids(raw.get("rules"), f"{label}, field 'rules'", fail)
    st.raises = _ids(raw.get("raises"), f"{label}, field 'raises'", fail)
    st.overridden = _ids(raw.get("overridden"), f"{label}, field 'overridden'", fail)
    if expect == "refused" and not st.rules:
        raise fail(f"{label}, field 'rules'", "a refused step names the rule ids that refuse it")
    if expect != "refused" and st.rules:
        raise fail(
            f"{label}, field 'rules'",
            "only a refused step has rules (alerts and "
            "stop-works an allowed step raises go in raises)",
        )
    st.error = str(raw["error"]) if raw.get("error") is not None else None
    if st.error and expect != "rejected":
        raise fail(f"{label}, field 'error'", "only a rejected step names an error kind")
    st.story = str(raw.get("story") or "").strip()
    st.chain = str(raw.get("chain") or "").strip()
    st.gap = str(raw.get("gap") or "").strip()
    st.fatal = bool(raw.get("fatal", False))
    if "interactions" in raw:
        try:
            st.interactions = parse_interactions(raw["interactions"])
        except ValueError as e:
            raise fail(f"{label}, field 'interactions'", str(e)) from None
    return st


def _command_step(
    sc: Scenario, n: int, label: str, at: datetime, by: str, cmd: dict[str, Any], fail: Any
) -> Step:
    full = _plain({**cmd, "production": sc.production, "actor": by})
    placeholders = _find_placeholders(full)
    bad = [p for p in placeholders if p not in PLACEHOLDERS]
    if bad:
        raise fail(
            f"{label}, field '{cmd['type']}'",
            f"unknown placeholder ${bad[0]} (one "
            "of " + ", ".join("$" + p for p in PLACEHOLDERS) + ")",
        )
    probe = _fill(full, {p: ["x"] * 99 for p in PLACEHOLDERS})
    try:
        parse_command(probe)
    except CommandError as e:
        f, msg = e.errors[0]
        where = f"{cmd['type']}.{f}" if f else cmd["type"]
        raise fail(
            f"{label}, field '{where}'",
            msg
            + (
                ""
                if len(e.errors) == 1
                else f" (and {len(e.errors) - 1} more: " + "; ".join(e.lines()[1:]) + ")"
            ),
        ) from None
    return Step(number=n, label=label, at=at, by=by, type=cmd["type"], command=full)


def _plain(value: Any) -> Any:
    """JSON types only: YAML dates become ISO strings (the API sends JSON)."""
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _find_placeholders(value: Any) -> list[str]:
    if isinstance(value, str) and value.startswith("$"):
        return [value[1:].split("#")[0]]
    if isinstance(value, dict):
        return [p for v in value.values() for p in _find_placeholders(v)]
    if isinstance(value, list):
        return [p for v in value for p in _find_placeholders(v)]
    return []


def _fill(value: Any, ids: dict[str, list[str]]) -> Any:
    """Replace ``$kind`` by the latest id of that kind, ``$kind#N`` by the N-th (from 1)."""
    if isinstance(value, str) and value.startswith("$"):
        kind, _, nth = value[1:].partition("#")
        made = ids.get(kind) or []
        n = int(nth) if nth.isdigit() else len(made)
        return made[n - 1] if 1 <= n <= len(made) else value
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, ids) for v in value]
    return value


def fill(command: dict[str, Any], ids: dict[str, list[str]], where: str) -> dict[str, Any]:
    """The command with its placeholders filled; ScenarioError when one has no id yet."""
    out: dict[str, Any] = _fill(command, ids)
    left = _find_placeholders(out)
    if left:
        raise ScenarioError(
            f"{where}: ${left[0]} is used before a step created that {left[0].replace('_', ' ')}"
        )
    return out


def spaced(times: list[datetime]) -> list[datetime]:
    """Run times: as written, but each at least one second after the one before."""
    out: list[datetime] = []
    for t in times:
        out.append(t if not out or t > out[-1] else out[-1] + timedelta(seconds=1))
    return out
