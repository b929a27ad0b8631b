"""Start a production from its real files: a rental house manifest, a cast and crew list,
a shooting schedule (CSV or XLSX).

An import is two steps, and nothing is written by the first:

1. :func:`plan` reads the file, maps each line to an ordinary command (the same one the
   CLI, the forms and the API send), and tries every command against the production's
   current state *in memory* with the domain's own decision and fold — so the rules
   apply exactly as they will. The :class:`Plan` lists, line by line, what will be
   recorded, what is already recorded (importing a file twice records nothing new),
   and every error by file, line and column.
2. :func:`commit` records the planned commands through the service in one transaction
   (one group-commit batch), each with an idempotency key made from its line, only when
   no line has an error — or, when asked, without the bad lines, which the plan lists.

Columns are matched by name (case, spaces and hyphens do not matter; a few common
names are accepted for each field, see docs/imports.md); a column that matches no
field is named in the plan and stops the import unless the user chooses to ignore it.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from coldset import canonical
from coldset.domain import commands as c
from coldset.domain.pipeline import decide_entry
from coldset.domain.projection import apply_entry
from coldset.domain.state import State
from coldset.service.core import CustodyService
from coldset.service.result import Result

KINDS = ("firearms", "lots", "people", "schedule")
MAX_ROWS = 20_000
MAX_BYTES = 10 * 1024 * 1024


class ImportError_(ValueError):
    """The file cannot be imported at all (unreadable, no header, wrong kind)."""


@dataclass(frozen=True)
class Problem:
    line: int  # the file's line (the header is line 1)
    column: str  # "C (serial)", or "" for the whole line
    message: str

    def where(self, file: str) -> str:
        col = f", column {self.column}" if self.column else ""
        return f"{file}: line {self.line}{col}: {self.message}"


@dataclass
class Line:
    line: int
    action: str  # "record" / "already recorded" / "error"
    summary: str  # what it will record, in words
    command: dict[str, Any] | None = None
    problems: list[Problem] = field(default_factory=list)


@dataclass
class Plan:
    file: str
    kind: str
    production: str
    columns: list[str]
    lines: list[Line] = field(default_factory=list)
    unknown_columns: list[str] = field(default_factory=list)
    ignore_unknown: bool = False

    @property
    def problems(self) -> list[Problem]:
        out = (
            [
                Problem(1, col, "unknown column: it matches no field (see docs/imports.md)")
                for col in self.unknown_columns
            ]
            if not self.ignore_unknown
            else []
        )
        return out + [p for ln in self.lines for p in ln.problems]

    @property
    def to_record(self) -> list[Line]:
        return [ln for ln in self.lines if ln.action == "record"]

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "kind": self.kind,
            "production": self.production,
            "columns": self.columns,
            "unknown_columns": self.unknown_columns,
            "ok": self.ok,
            "to_record": len(self.to_record),
            "already_recorded": sum(ln.action == "already recorded" for ln in self.lines),
            "errors": [
                {
                    "line": p.line,
                    "column": p.column,
                    "message": p.message,
                    "where": p.where(self.file),
                }
                for p in self.problems
            ],
            "lines": [
                {"line": ln.line, "action": ln.action, "summary": ln.summary} for ln in self.lines
            ],
        }


# ---------------------------------------------------------------------- reading


def _decode(data: bytes) -> str:
    """Text from the file's bytes: UTF-8 (with or without a BOM), UTF-16 with a BOM, or
    Windows-1252 (what spreadsheet programs write as "CSV" on many machines)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="strict")


def read_table(name: str, data: bytes) -> list[list[str]]:
    """The file's rows as text cells: CSV (any of the encodings above, comma, semicolon or
    tab separated) or XLSX (the first sheet)."""
    if len(data) > MAX_BYTES:
        raise ImportError_(
            f"{name} is {len(data):,} bytes; an import takes at most {MAX_BYTES // 1024 // 1024} MB"
        )
    if data.startswith(b"PK\x03\x04"):  # a zip: XLSX
        return _read_xlsx(name, data)
    try:
        text = _decode(data)
    except UnicodeDecodeError:
        raise ImportError_(
            f"{name} is not text in UTF-8, UTF-16 or Windows-1252, nor an XLSX workbook"
        ) from None
    try:
        dialect: Any = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    return [[cell.strip() for cell in row] for row in csv.reader(io.StringIO(text), dialect)]


def _read_xlsx(name: str, data: bytes) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as e:  # a broken zip, not a workbook: one line, not a traceback
        raise ImportError_(f"{name} is not a readable XLSX workbook ({e})") from None
    ws = wb.worksheets[0]
    rows = []
    for row in ws.iter_rows(values_only=True):
        rows.append([_cell_text(v) for v in row])
    wb.close()
    return rows


def _cell_text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, datetime):
        return v.date().isoformat() if v.time() == datetime.min.time() else v.isoformat()
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


# ---------------------------------------------------------------------- kinds


def _norm(header: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", header.strip().lower()).strip("_")


#: kind -> field -> the column names accepted for it (normalised)
COLUMNS: dict[str, dict[str, tuple[str, ...]]] = {
    "firearms": {
        "firearm": ("tag", "firearm", "id", "tag_id"),
        "manufacturer": ("make", "manufacturer", "maker"),
        "model": ("model",),
        "serial": ("serial", "serial_number", "serial_no"),
        "firearm_type": ("type", "firearm_type"),
        "caliber": ("caliber", "calibre", "gauge", "caliber_or_gauge"),
        "capacity": ("capacity", "chambers", "positions"),
        "importer": ("importer",),
        "owner": ("owner",),
        "receipt_date": ("receipt_date", "date_received", "received"),
        "receipt_source": ("source", "receipt_source", "received_from", "supplier"),
        "container": ("container", "safe", "stored_in"),
    },
    "lots": {
        "lot": ("lot", "lot_number", "lot_no", "tag"),
        "kind": ("kind", "type"),
        "caliber": ("caliber", "calibre", "gauge"),
        "count": ("count", "rounds", "quantity", "qty"),
        "maker": ("maker", "make", "manufacturer"),
        "load": ("load", "blank_load"),
        "dummy_source": ("dummy_source",),
        "receipt_date": ("receipt_date", "date_received", "received"),
        "receipt_source": ("source", "receipt_source", "received_from", "supplier"),
        "container": ("container", "safe", "stored_in"),
    },
    "people": {
        "person": ("badge", "person", "id"),
        "name": ("name", "full_name"),
        "roles": ("roles", "role"),
        "unit": ("unit",),
    },
    "schedule": {
        "shoot_day": ("shoot_day", "day"),
        "date": ("date",),
        "call": ("call", "call_time"),
        "wrap": ("wrap", "wrap_time", "planned_wrap"),
        "scene": ("scene", "scene_number", "scene_id"),
        "set": ("set",),
        "unit": ("unit",),
        "title": ("title", "description", "synopsis"),
        "cast_crew": ("cast", "cast_crew", "cast_and_crew"),
        "firearms": ("firearms", "weapons"),
    },
}
REQUIRED = {
    "firearms": ("firearm", "manufacturer", "model", "serial", "firearm_type", "caliber"),
    "lots": ("lot", "kind", "caliber", "count", "maker"),
    "people": ("name",),
    "schedule": ("shoot_day", "date"),
}
_COMMAND = {"firearms": "receive_firearm", "lots": "receive_lot", "people": "add_person"}


@dataclass(frozen=True)
class Defaults:
    """Values for fields a file leaves out (e.g. where the shipment goes)."""

    container: str | None = None
    receipt_date: str | None = None
    receipt_source: str | None = None


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:64] or "person"


def _split(value: str) -> list[str]:
    return [v.strip() for v in re.split(r"[;,|]", value) if v.strip()]


def _choice(value: str) -> str:
    return _norm(value)


def _commands(
    kind: str,
    row: dict[str, str],
    d: Defaults,
    actor: str,
    production: str,
) -> list[dict[str, Any]]:
    """The command(s) one line stands for (not yet validated)."""
    base = {"production": production, "actor": actor}
    if kind in ("firearms", "lots"):
        cmd: dict[str, Any] = {**base, "type": _COMMAND[kind]}
        for k, v in row.items():
            if v != "":
                cmd[k] = v
        for k in ("container", "receipt_date", "receipt_source"):
            if k not in cmd and getattr(d, k) is not None:
                cmd[k] = getattr(d, k)
        if kind == "firearms":
            cmd["firearm_type"] = _choice(cmd.get("firearm_type", ""))
            cmd["capacity"] = _int(
                cmd.get(
                    "capacity",
                    "0" if cmd["firearm_type"] in ("non_firing_replica", "rubber_resin") else "",
                )
            )
        else:
            cmd["kind"] = _choice(cmd.get("kind", ""))
            cmd["count"] = _int(cmd.get("count", ""))
            if cmd["kind"] == "dummy" and "dummy_source" not in cmd:
                cmd["dummy_source"] = "commercial"
        return [cmd]
    if kind == "people":
        return [
            {
                **base,
                "type": "add_person",
                "person": row.get("person") or _slug(row["name"]),
                "name": row["name"],
                "roles": [_choice(r) for r in _split(row.get("roles", ""))],
            }
        ]
    out: list[dict[str, Any]] = [
        {**base, "type": "add_shoot_day", "shoot_day": row["shoot_day"], "date": row["date"]}
    ]
    for k in ("call", "wrap"):
        if row.get(k):
            out[0][k] = row[k]
    if row.get("scene"):
        firearms = []
        for item in _split(row.get("firearms", "")):
            fid, _, rounds = item.partition(":")
            pf: dict[str, Any] = {"firearm": fid.strip()}
            if rounds.strip():
                pf["rounds"] = rounds.strip().lower()
            firearms.append(pf)
        out.append(
            {
                **base,
                "type": "schedule_scene",
                "scene": row["scene"],
                "shoot_day": row["shoot_day"],
                "unit": row.get("unit", ""),
                "set": row.get("set", ""),
                "title": row.get("title") or row["scene"],
                "firearms": firearms,
                "cast_crew": _split(row.get("cast_crew", "")),
            }
        )
    return out


def _int(value: Any) -> Any:
    try:
        return int(str(value).strip())
    except ValueError:
        return value  # the model says what is wrong with it


def _exists(state: State, cmd: dict[str, Any]) -> Callable[[], bool] | None:
    """Is the thing this command makes already on the production?"""
    t = cmd["type"]
    ids = {
        "receive_firearm": (state.firearms, "firearm"),
        "receive_lot": (state.lots, "lot"),
        "add_person": (state.people, "person"),
        "add_shoot_day": (state.shoot_days, "shoot_day"),
        "schedule_scene": (state.scenes, "scene"),
    }
    table, key = ids[t]
    return (lambda: True) if cmd.get(key) in table else None


def _same_shoot_day(state: State, cmd: dict[str, Any]) -> bool:
    sd = state.shoot_days.get(cmd.get("shoot_day", ""))
    return sd is not None and sd.date == cmd.get("date")


def _summary(cmd: dict[str, Any]) -> str:
    t = cmd["type"]
    if t == "receive_firearm":
        return (
            f"receive firearm {cmd.get('firearm')}: {cmd.get('manufacturer', '')} "
            f"{cmd.get('model', '')}, serial {cmd.get('serial', '')}, into "
            f"{cmd.get('container', '?')}"
        )
    if t == "receive_lot":
        return (
            f"receive lot {cmd.get('lot')}: {cmd.get('count')} {cmd.get('kind')} rounds "
            f"{cmd.get('caliber', '')} from {cmd.get('maker', '')}, into "
            f"{cmd.get('container', '?')}"
        )
    if t == "add_person":
        roles = ", ".join(cmd["roles"]) or "no role"
        return f"add {cmd.get('name')} as {cmd.get('person')} ({roles})"
    if t == "add_shoot_day":
        return f"add shoot day {cmd.get('shoot_day')} on {cmd.get('date')}"
    return (
        f"schedule scene {cmd.get('scene')} on {cmd.get('shoot_day')} ({cmd.get('unit')}, "
        f"{cmd.get('set')}): {len(cmd['firearms'])} firearms, {len(cmd['cast_crew'])} people"
    )


def _key(kind: str, cmd: dict[str, Any]) -> str:
    """The idempotency key of a planned command: the same line imported again is the same
    command, which the service records once."""
    body = {k: v for k, v in cmd.items() if k != "actor"}
    return f"import-{kind}-" + hashlib.sha256(canonical.dumps(body)).hexdigest()[:40]


def plan(
    custody: CustodyService,
    production: str,
    actor: str,
    kind: str,
    file: str,
    data: bytes,
    defaults: Defaults = Defaults(),
    ignore_unknown: bool = False,
) -> Plan:
    """What importing ``data`` would record, line by line; nothing is written."""
    if kind not in KINDS:
        raise ImportError_(f"no import of {kind!r} (imports: {', '.join(KINDS)})")
    rows = read_table(file, data)
    while rows and not any(rows[-1]):
        rows.pop()
    if not rows:
        raise ImportError_(f"{file} is empty: the first line must name the columns")
    if len(rows) - 1 > MAX_ROWS:
        raise ImportError_(
            f"{file} has {len(rows) - 1:,} lines; an import takes at most {MAX_ROWS:,}"
        )
    header = rows[0]
    fields_of = COLUMNS[kind]
    by_name = {alias: f for f, aliases in fields_of.items() for alias in aliases}
    mapping: dict[int, str] = {}
    p = Plan(file, kind, production, header, ignore_unknown=ignore_unknown)
    for i, col in enumerate(header):
        f = by_name.get(_norm(col))
        label = f"{_letter(i)} ({col})" if col else _letter(i)
        if f is None:
            if col:
                p.unknown_columns.append(label)
        elif f in mapping.values():
            p.lines.append(
                Line(1, "error", "header", problems=[Problem(1, label, f"a second column for {f}")])
            )
        else:
            mapping[i] = f
    missing = [f for f in REQUIRED[kind] if f not in mapping.values()]
    if missing:
        p.lines.append(
            Line(
                1,
                "error",
                "header",
                problems=[
                    Problem(
                        1,
                        "",
                        f"no column for {', '.join(missing)} (accepted names: "
                        + "; ".join(f"{f}: {', '.join(fields_of[f])}" for f in missing)
                        + ")",
                    )
                ],
            )
        )
        return p
    state = custody.state(production)
    if state.production is None:
        raise ImportError_(f"no production {production!r}")
    now = custody.clock.now()
    letters = {f: f"{_letter(i)} ({header[i]})" for i, f in mapping.items()}
    seen: dict[str, int] = {}
    for n, raw in enumerate(rows[1:], start=2):
        if not any(raw):
            continue
        row = {f: (raw[i] if i < len(raw) else "") for i, f in mapping.items()}
        blank = [f for f in REQUIRED[kind] if not row.get(f)]
        if blank:
            p.lines.append(
                Line(
                    n,
                    "error",
                    "",
                    problems=[Problem(n, letters[f], "empty: required") for f in blank],
                )
            )
            continue
        for cmd in _commands(kind, row, defaults, actor, production):
            ln, entry = _plan_one(state, cmd, n, letters, kind, seen, now)
            p.lines.append(ln)
            if entry is not None:  # the next lines are tried against the state after it
                state = apply_entry(state, entry)
    return p


_ID_FIELDS = ("firearm", "lot", "person", "scene", "shoot_day")


def _plan_one(
    state: State,
    cmd: dict[str, Any],
    n: int,
    letters: dict[str, str],
    kind: str,
    seen: dict[str, int],
    now: datetime,
) -> tuple[Line, dict[str, Any] | None]:
    """One command of a line: its plan line, and the entry it would write (to fold)."""
    summary = _summary(cmd)
    ident = cmd["type"] + ":" + str(next((cmd[k] for k in _ID_FIELDS if cmd.get(k)), ""))
    if cmd["type"] == "add_shoot_day" and (ident in seen or _same_shoot_day(state, cmd)):
        return Line(n, "already recorded", summary), None  # a schedule names a day often
    if ident in seen:
        what = ident.split(":")[0].replace("_", " ")
        return Line(
            n, "error", summary, problems=[Problem(n, "", f"the same {what} as line {seen[ident]}")]
        ), None
    seen[ident] = n
    if _exists(state, cmd) is not None:
        return Line(n, "already recorded", summary), None
    try:
        parsed = c.parse_command(cmd)
    except c.CommandError as e:
        return Line(
            n,
            "error",
            summary,
            problems=[
                Problem(
                    n,
                    letters.get(f.split(".")[0], ""),
                    m if f.split(".")[0] in letters else f"{f}: {m}" if f else m,
                )
                for f, m in e.errors
            ],
        ), None
    decision = decide_entry(state, parsed, now, pins={})
    if decision.status != "allowed" or decision.entry is None:
        why = [f"{v.rule}: {v.reason}" for v in decision.verdicts]
        return Line(
            n,
            "error",
            summary,
            problems=[
                Problem(
                    n, "", "would be refused: " + (" ".join(why) or decision.error or "refused")
                )
            ],
        ), None
    return Line(n, "record", summary, {**cmd, "idempotency_key": _key(kind, cmd)}), decision.entry


def _letter(i: int) -> str:
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s


def commit(custody: CustodyService, p: Plan, skip_bad: bool = False) -> list[Result]:
    """Record the planned lines (all of them, or without the bad ones when ``skip_bad``);
    nothing when the plan has an error and ``skip_bad`` is not set."""
    if not p.ok and not skip_bad:
        raise ImportError_(
            f"{len(p.problems)} problems in {p.file}: nothing was recorded "
            "(fix them, or skip the bad lines)"
        )
    if p.unknown_columns and not p.ignore_unknown:
        raise ImportError_(
            "unknown columns: " + ", ".join(p.unknown_columns) + ": nothing was recorded"
        )
    cmds = [ln.command for ln in p.to_record if ln.command is not None]
    return custody.execute_batch(cmds) if cmds else []


def read_file(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as e:
        raise ImportError_(f"cannot read {path}: {e.strerror or e}") from None
