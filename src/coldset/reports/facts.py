"""What a report says, gathered from the log alone (no second store of facts).

Each builder folds the production's log entries from the first with the same
projection the service uses (:func:`coldset.domain.projection.apply_entry`), so a
report states what the log states: the state *before* an entry names the people
and places it refers to, and the entries themselves give the times, the
outcomes, the verdicts and the events. The output is plain data
(:class:`DayReport`, :class:`FirearmHistory`) that :mod:`coldset.reports.pdf`
and :mod:`coldset.reports.tables` render; nothing here knows about pages.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from coldset.clock import parse_rfc3339
from coldset.domain.model import NON_FIRING_TYPES, LotCounts
from coldset.domain.projection import apply_entry
from coldset.domain.shootday import call_at, shoot_day_end
from coldset.domain.state import State


class ReportError(LookupError):
    """The report cannot be made as asked (an unknown day, unit or firearm)."""


@dataclass(frozen=True)
class Source:
    """The log and the signed checkpoint a report was made from."""

    origin: str
    size: int
    root_b64: str
    checkpoint: str  # the signed note, as text (what the QR code carries)


@dataclass(frozen=True)
class Row:
    """One log entry as a line of a report."""

    index: int
    at: str  # local time, with its zone
    actor: str  # a name
    action: str  # in words
    detail: str
    outcome: str  # allowed / refused / rejected
    rules: str = ""


@dataclass(frozen=True)
class LotLine:
    lot: str
    kind: str
    caliber: str
    start_stock: int
    received: int
    loaded: int
    fired: int
    returned: int
    disposed: int
    adjusted: int
    end_stock: int
    in_firearms: int
    counts: tuple[str, ...]  # the day's reconciliations, in words
    discrepancy: int  # counted - expected at the last count (0 = agrees)


@dataclass
class DayReport:
    production: str
    title: str
    shoot_day: str
    day: str
    unit: str  # a unit's name, or "all units"
    zone: str
    source: Source
    custody: dict[str, list[Row]] = field(default_factory=dict)  # firearm label -> rows
    lots: list[LotLine] = field(default_factory=list)
    incidents: list[Row] = field(default_factory=list)
    stop_works: list[Row] = field(default_factory=list)
    alerts: list[Row] = field(default_factory=list)
    refusals: list[Row] = field(default_factory=list)
    overrides: list[Row] = field(default_factory=list)
    meetings: list[Row] = field(default_factory=list)
    training: list[Row] = field(default_factory=list)
    open_items: list[str] = field(default_factory=list)
    entries: int = 0


@dataclass
class FirearmHistory:
    production: str
    title: str
    firearm: str
    description: str
    zone: str
    source: Source
    rows: list[Row] = field(default_factory=list)
    now: list[str] = field(default_factory=list)  # where it is and what it holds at the end


# ---------------------------------------------------------------------- words

_ACTIONS = {
    "inspect": "inspected",
    "issue": "issued",
    "collect": "collected back",
    "transfer": "handed on",
    "load": "loaded",
    "unload": "unloaded",
    "discharge": "fired",
    "receive_firearm": "received from supplier",
    "return_firearm": "returned to supplier",
    "lock_container": "locked away",
    "unlock_container": "container opened",
    "release_quarantine": "quarantine released",
    "report_incident": "incident reported",
}


def _name(state: State, person: str | None) -> str:
    if not person:
        return "anonymous"
    p = state.people.get(person)
    return p.name if p is not None else person


def _local(at: str, zone: ZoneInfo) -> str:
    t = parse_rfc3339(at).astimezone(zone)
    return t.strftime("%Y-%m-%d %H:%M ") + (t.tzname() or "")


def _words(command_type: str) -> str:
    return _ACTIONS.get(command_type, command_type.replace("_", " "))


def _chambers(chambers: Iterable[str]) -> str:
    """An inspection's findings, position by position where it matters."""
    cs = list(chambers)
    if not cs:
        return "nothing recorded"
    if all(c == "empty" for c in cs):
        return f"all {len(cs)} positions empty"
    parts = [f"{i}: {c.upper() if c == 'live' else c}" for i, c in enumerate(cs, 1) if c != "empty"]
    return "; ".join(parts) + f" (others of {len(cs)} empty)"


def _detail(state: State, entry: dict[str, Any]) -> str:
    cmd = entry["command"]
    bits: list[str] = []
    if cmd.get("to"):
        bits.append(f"to {_name(state, cmd['to'])}")
    for ev in entry["events"]:
        if ev["type"] == "firearm_inspected":
            bits.append(_chambers(ev.get("chambers") or ()))
            bits.append("barrel clear" if ev.get("barrel_clear") else "barrel NOT checked clear")
            if ev.get("function_check"):
                bits.append("function check done")
        elif ev["type"] == "firearm_collected" and ev.get("holder"):
            bits.append(f"from {_name(state, ev['holder'])}")
        elif ev["type"] == "firearm_loaded":
            bits.append(f"lot {ev['lot']}, positions {', '.join(map(str, ev['positions']))}")
        elif ev["type"] == "rounds_fired":
            rounds = ", ".join(f"{n} of lot {lot}" for lot, n in sorted(ev["rounds"].items()))
            bits.append(f"fired {rounds or 'nothing'}")
        elif ev["type"] == "firearm_unloaded":
            took = [f"{n} rounds of lot {lot}" for lot, n in sorted(ev["rounds"].items())]
            took += [
                f"{n} spent cases of lot {lot}"
                for lot, n in sorted((ev.get("cases") or {}).items())
            ]
            bits.append("took out " + ", ".join(took) if took else "nothing was left in it")
    if cmd.get("scene"):
        bits.append(f"scene {cmd['scene']}")
    if cmd.get("shot") is not None:
        bits.append(f"shot {cmd['shot']}")
    if entry["outcome"] != "allowed":
        reasons = [v["reason"] for v in entry["verdicts"] if v["verdict"] != "pass"]
        if entry.get("error"):
            reasons.append(str(entry["error"].get("message", "")))
        bits.append("REFUSED: " + " ".join(reasons))
    return "; ".join(b for b in bits if b)


def _row(
    state: State, index: int, entry: dict[str, Any], zone: ZoneInfo, detail: str | None = None
) -> Row:
    cmd = entry["command"]
    rules = ", ".join(v["rule"] for v in entry["verdicts"] if v["verdict"] != "pass")
    return Row(
        index,
        _local(entry["at"], zone),
        _name(state, entry.get("actor")),
        _words(cmd.get("type", "?")),
        _detail(state, entry) if detail is None else detail,
        entry["outcome"],
        rules,
    )


def _firearm_label(state: State, fid: str) -> str:
    f = state.firearms.get(fid)
    if f is None:
        return fid
    return f"{fid} · {f.manufacturer} {f.model} · serial {f.serial}"


def _touched(before: State, entry: dict[str, Any]) -> list[str]:
    from coldset.service.timeline import firearms_touched

    return firearms_touched(before, entry)


# ---------------------------------------------------------------------- the day


def _day_window(state: State, shoot_day: str, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """From the day's call to its end (its recorded wrap, or as :mod:`coldset.domain.shootday`
    says): a night shoot's report runs past midnight."""
    sd = state.shoot_days[shoot_day]
    start = call_at(state, sd).astimezone(UTC)
    return start, max(shoot_day_end(state, sd).astimezone(UTC), start)


def _units_of(state: State, entry: dict[str, Any], firearms: list[str]) -> set[str]:
    """The units an entry concerns (empty: the whole production)."""
    cmd = entry["command"]
    units: set[str] = set()
    for key in ("unit", "scope"):
        if isinstance(cmd.get(key), str) and cmd[key] in state.units:
            units.add(cmd[key])
    scene = state.scenes.get(cmd.get("scene") or "")
    if scene is not None:
        units.add(scene.unit)
    for fid in firearms:
        f = state.firearms.get(fid)
        if f is not None and f.issued_for:
            s = state.scenes.get(f.issued_for)
            if s is not None:
                units.add(s.unit)
    actor = entry.get("actor")
    if not units and isinstance(actor, str) and actor in state.checked_in:
        units.add(state.checked_in[actor][0])
    return units


def _counts_line(before: LotCounts, after: LotCounts) -> dict[str, int]:
    return {
        k: getattr(after, k) - getattr(before, k)
        for k in ("received", "loaded", "fired", "returned", "disposed", "adjusted")
    }


def day_report(
    entries: Iterable[tuple[int, dict[str, Any]]],
    source: Source,
    shoot_day: str,
    unit: str | None = None,
) -> DayReport:
    """The day report of ``shoot_day`` (and ``unit``, or every unit) from the log's entries."""
    state = State()
    report: DayReport | None = None
    window: tuple[datetime, datetime] | None = None
    zone = ZoneInfo("UTC")
    lots_at_start: dict[str, LotCounts] = {}
    day_counts: dict[str, list[str]] = {}
    seen_lots: set[str] = set()
    for index, entry in entries:
        at = parse_rfc3339(entry["at"])
        if window is None and shoot_day in state.shoot_days and state.production is not None:
            zone = ZoneInfo(state.production.time_zone)
            window = _day_window(state, shoot_day, zone)
        cmd = entry["command"]
        scene = state.scenes.get(cmd.get("scene") or "")
        on_day = (window is not None and window[0] <= at < window[1]) or (
            scene is not None and scene.shoot_day == shoot_day
        )
        if window is not None and at >= window[1] and not on_day:
            break
        if on_day and report is None:
            report = _new_report(state, source, shoot_day, unit, zone)
            lots_at_start = {lid: lot.counts for lid, lot in state.lots.items()}
        if not on_day or report is None:
            state = apply_entry(state, entry)
            continue
        firearms = _touched(state, entry)
        units = _units_of(state, entry, firearms)
        if unit is not None and units and unit not in units:
            state = apply_entry(state, entry)
            continue
        report.entries += 1
        _add_entry(report, state, index, entry, firearms, zone, day_counts, seen_lots)
        state = apply_entry(state, entry)
        if any(ev["type"] in ("day_wrapped", "shoot_day_added") for ev in entry["events"]):
            window = _day_window(state, shoot_day, zone)  # a wrap ends the day
    if window is None:
        known = ", ".join(sorted(state.shoot_days)) or "none"
        raise ReportError(f"no shoot day {shoot_day!r} in this log (shoot days: {known})")
    if unit is not None and unit not in state.units:
        known = ", ".join(sorted(state.units)) or "none"
        raise ReportError(f"no unit {unit!r} in this production (units: {known})")
    if report is None:  # a day on which nothing was recorded yet
        report = _new_report(state, source, shoot_day, unit, zone)
    _add_lots(report, state, lots_at_start, day_counts, seen_lots)
    report.open_items = _open_items(state, unit, zone)
    return report


def _new_report(
    state: State, source: Source, shoot_day: str, unit: str | None, zone: ZoneInfo
) -> DayReport:
    assert state.production is not None
    unit_name = "all units"
    if unit is not None:
        u = state.units.get(unit)
        unit_name = u.name if u is not None else unit
    return DayReport(
        state.production.id,
        state.production.title,
        shoot_day,
        state.shoot_days[shoot_day].date,
        unit_name,
        zone.key,
        source,
    )


def _add_entry(
    report: DayReport,
    state: State,
    index: int,
    entry: dict[str, Any],
    firearms: list[str],
    zone: ZoneInfo,
    day_counts: dict[str, list[str]],
    seen_lots: set[str],
) -> None:
    cmd = entry["command"]
    kind = cmd.get("type", "")
    if entry["outcome"] != "allowed":
        report.refusals.append(_row(state, index, entry, zone))
    for fid in firearms:
        if kind in _ACTIONS or entry["outcome"] != "allowed":
            report.custody.setdefault(_firearm_label(state, fid), []).append(
                _row(state, index, entry, zone)
            )
    for lot in (cmd.get("lot"),):
        if isinstance(lot, str):
            seen_lots.add(lot)
    for ev in entry["events"]:
        t = ev["type"]
        if t == "incident_reported":
            what = f"{ev['kind']}: {ev['description']}"
            if ev.get("firearm"):
                what += f" (firearm {ev['firearm']})"
            report.incidents.append(_row(state, index, entry, zone, what))
        elif t == "stop_work_called":
            report.stop_works.append(
                _row(state, index, entry, zone, f"called on {ev['scope']}: {ev['reason']}")
            )
        elif t == "stop_work_cleared":
            report.stop_works.append(
                _row(
                    state,
                    index,
                    entry,
                    zone,
                    f"cleared {ev['stop_work']}: {cmd.get('note') or 'no reason given'}",
                )
            )
        elif t == "alert_raised":
            report.alerts.append(
                _row(state, index, entry, zone, f"raised {ev['rule']}: {ev['reason']}")
            )
        elif t == "alert_resolved":
            report.alerts.append(
                _row(
                    state,
                    index,
                    entry,
                    zone,
                    f"resolved {ev['alert']} by {_name(state, ev['by'])}: {ev['resolution']}",
                )
            )
        elif t == "override_recorded":
            names = ", ".join(_name(state, p) for p in ev["confirmers"])
            report.overrides.append(
                _row(
                    state,
                    index,
                    entry,
                    zone,
                    f"{', '.join(ev['rules'])} overridden for {ev['command']} by "
                    f"{_name(state, ev['by'])}, confirmed by {names or 'nobody'}: {ev['reason']}",
                )
            )
        elif t == "safety_meeting_held":
            present = ", ".join(_name(state, p) for p in ev["attendees"])
            absent = ", ".join(_name(state, p) for p in ev.get("absent") or ())
            what = f"held by {_name(state, ev['held_by'])}; present: {present or 'nobody'}"
            if absent:
                what += f"; absent: {absent}"
            if ev.get("scene"):
                what += f"; scene {ev['scene']}"
            if ev.get("topics"):
                what += f"; topics: {ev['topics']}"
            report.meetings.append(_row(state, index, entry, zone, what))
        elif t in ("training_recorded", "consent_recorded", "consent_withdrawn"):
            who = _name(state, ev.get("performer") or ev.get("person"))
            what = f"{t.replace('_', ' ')}: {who}"
            if ev.get("weapon_type"):
                what += f" ({ev['weapon_type'].replace('_', ' ')})"
            report.training.append(_row(state, index, entry, zone, what))
        elif t == "counts_reconciled":
            seen_lots.add(ev["lot"])
            line = (
                f"{_local(entry['at'], zone)}: counted {ev['counted']}, expected {ev['expected']}"
            )
            if ev["counted"] != ev["expected"]:
                line += (
                    f" — DIFFERENCE {ev['counted'] - ev['expected']:+d}"
                    + (f", explained: {ev['explanation']}" if ev.get("explanation") else "")
                    + (" (resolved)" if ev.get("resolved") else " (OPEN)")
                )
            day_counts.setdefault(ev["lot"], []).append(line)
        elif t in (
            "lot_received",
            "rounds_fired",
            "firearm_unloaded",
            "firearm_loaded",
            "lot_returned",
        ):
            if "lot" in ev:
                seen_lots.add(ev["lot"])
            seen_lots.update(ev.get("rounds") or {})


def _add_lots(
    report: DayReport,
    state: State,
    at_start: dict[str, LotCounts],
    day_counts: dict[str, list[str]],
    seen: set[str],
) -> None:
    for lid in sorted(seen):
        lot = state.lots.get(lid)
        if lot is None:
            continue
        before = at_start.get(lid, LotCounts())
        d = _counts_line(before, lot.counts)
        report.lots.append(
            LotLine(
                lid,
                lot.kind,
                lot.caliber,
                before.expected_stock if lid in at_start else 0,
                d["received"],
                d["loaded"],
                d["fired"],
                d["returned"],
                d["disposed"],
                d["adjusted"],
                lot.counts.expected_stock,
                lot.counts.in_firearms,
                tuple(day_counts.get(lid, ())),
                lot.discrepancy,
            )
        )


def _open_items(state: State, unit: str | None, zone: ZoneInfo) -> list[str]:
    """What the next day inherits: firearms out, quarantines, open alerts and stop-works,
    unanswered concerns, lots with an open difference."""
    items: list[str] = []
    for fid, f in sorted(state.firearms.items()):
        if f.disposed:
            continue
        if f.custody.kind == "person":
            items.append(
                f"{_firearm_label(state, fid)} is with {_name(state, f.custody.ref)}, "
                "not locked away"
            )
        if f.quarantined:
            items.append(f"{_firearm_label(state, fid)} is quarantined")
    for sw in state.stop_works.values():
        if sw.open and (unit is None or sw.scope in (unit, "production")):
            items.append(
                f"stop-work {sw.id} on {sw.scope} since {_local(sw.at, zone)}: {sw.reason}"
            )
    for a in state.alerts.values():
        if a.resolved_at is None:
            items.append(f"alert {a.id} ({a.rule}) open since {_local(a.at, zone)}: {a.reason}")
    for c in state.concerns.values():
        if c.answered_at is None:
            items.append(f"concern {c.id} raised {_local(c.at, zone)} not answered yet")
    for lid, lot in sorted(state.lots.items()):
        if lot.discrepancy:
            items.append(f"lot {lid}: count differs from the record by {lot.discrepancy:+d}")
    return items


# ---------------------------------------------------------------------- a firearm


def firearm_history(
    entries: Iterable[tuple[int, dict[str, Any]]], source: Source, firearm: str
) -> FirearmHistory:
    """Everything the log records about one firearm, with each entry's log index."""
    state = State()
    hist: FirearmHistory | None = None
    zone = ZoneInfo("UTC")
    for index, entry in entries:
        if state.production is not None:
            zone = ZoneInfo(state.production.time_zone)
        touched = _touched(state, entry)
        if firearm in touched:
            if hist is None:
                assert state.production is not None
                hist = FirearmHistory(
                    state.production.id, state.production.title, firearm, "", zone.key, source
                )
            hist.rows.append(_row(state, index, entry, zone))
        state = apply_entry(state, entry)
    f = state.firearms.get(firearm)
    if f is None or hist is None:
        known = ", ".join(sorted(state.firearms)) or "none"
        raise ReportError(f"no firearm {firearm!r} in this log (firearms: {known})")
    hist.description = (
        f"{f.manufacturer} {f.model} {f.type.replace('_', ' ')}, {f.caliber}, serial {f.serial}"
    )
    where = (
        "locked in " + f.custody.ref
        if f.custody.kind == "container"
        else "with " + _name(state, f.custody.ref)
    )
    hist.now.append(f"now {where}")
    if f.quarantined:
        hist.now.append("quarantined")
    return hist


# ---------------------------------------------------------------------- an incident


@dataclass
class IncidentReport:
    production: str
    title: str
    incident: str
    summary: str  # kind, what was reported, by whom, when
    unit: str
    zone: str
    source: Source
    rows: list[Row] = field(default_factory=list)  # the entries around it, in log order
    at_index: int = 0  # the incident's own entry


def _said(entry: dict[str, Any]) -> str:
    """What the rules said at a step: every verdict that was not a pass, with its reason."""
    said = [
        f"{v['rule']} ({v['verdict']}): {v['reason']}"
        for v in entry["verdicts"]
        if v["verdict"] != "pass"
    ]
    return " | ".join(said) or "no rule objected"


def incident_report(
    entries: Iterable[tuple[int, dict[str, Any]]], source: Source, incident: str, around: int = 20
) -> IncidentReport:
    """The ``around`` entries before and after an incident on its unit (or with its
    firearm), each with what the rules said, in log order."""
    state = State()
    history: list[tuple[int, dict[str, Any], State, set[str], list[str]]] = []
    found: int | None = None
    unit: str | None = None
    firearm: str | None = None
    for index, entry in entries:
        touched = _touched(state, entry)
        history.append((index, entry, state, _units_of(state, entry, touched), touched))
        for ev in entry["events"]:
            if ev["type"] == "incident_reported" and ev["incident"] == incident:
                found, unit, firearm = len(history) - 1, ev.get("unit"), ev.get("firearm")
                if unit is None and firearm:
                    unit = next(iter(_units_of(state, entry, [firearm])), None)
        state = apply_entry(state, entry)
        if found is not None and len(history) - found > 50 * around:
            break  # far enough past it: the rest of the log is not read
    if found is None or state.production is None:
        known = ", ".join(sorted(state.incidents)) or "none"
        raise ReportError(f"no incident {incident!r} in this log (incidents: {known})")
    zone = ZoneInfo(state.production.time_zone)

    def near(item: tuple[int, dict[str, Any], State, set[str], list[str]]) -> bool:
        _i, _e, _s, units, touched = item
        return (
            (firearm is not None and firearm in touched)
            or (unit is not None and unit in units)
            or not units
        )

    before = [h for h in history[:found] if near(h)][-around:]
    after = [h for h in history[found + 1 :] if near(h)][:around]
    inc = state.incidents[incident]
    u = state.units.get(unit or "")
    unit_name = u.name if u is not None else "the whole production"
    summary = (
        f"{inc.kind} reported by {_name(state, inc.reported_by)} at "
        f"{_local(inc.at, zone)}: {inc.description}"
        + (f" (firearm {inc.firearm})" if inc.firearm else "")
    )
    rep = IncidentReport(
        state.production.id,
        state.production.title,
        incident,
        summary,
        unit_name,
        zone.key,
        source,
        at_index=history[found][0],
    )
    for index, entry, st, _u, _t in [*before, history[found], *after]:
        row = _row(st, index, entry, zone)
        rep.rows.append(replace(row, rules=_said(entry)))
    return rep


# ---------------------------------------------------------------------- the bound book

#: The columns of the acquisition and disposition export, in this order (27 CFR
#: 478.125(e); docs/reports.md).
BOUND_BOOK_COLUMNS = (
    "date_of_receipt",
    "source_name_address_or_licence",
    "manufacturer",
    "importer",
    "model",
    "serial",
    "type",
    "caliber_or_gauge",
    "date_of_disposition",
    "recipient_name_address_or_licence",
    "tag",
)


def bound_book(entries: Iterable[tuple[int, dict[str, Any]]]) -> list[tuple[str, ...]]:
    """One line per real firearm the log received (replicas are not firearms), in order of
    receipt: the fields of an acquisition and disposition record."""
    state = State()
    for _index, entry in entries:
        state = apply_entry(state, entry)
    lines: list[tuple[str, ...]] = []
    for f in sorted(state.firearms.values(), key=lambda f: (f.receipt_date, f.id)):
        if f.type in NON_FIRING_TYPES:
            continue
        lines.append(
            (
                f.receipt_date,
                f.receipt_source,
                f.manufacturer,
                f.importer,
                f.model,
                f.serial,
                f.type.replace("_", " "),
                f.caliber,
                f.disposition_date or "",
                f.disposition_recipient or "",
                f.id,
            )
        )
    return lines
