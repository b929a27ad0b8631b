"""Reports as CSV: one table at a time, with a header row, for spreadsheets and scripts."""

from __future__ import annotations

import csv
import io
from dataclasses import astuple, fields

from coldset.reports.facts import (
    BOUND_BOOK_COLUMNS,
    DayReport,
    FirearmHistory,
    IncidentReport,
    LotLine,
    Row,
)

#: The tables of a day report, by the name ``--table`` takes.
DAY_TABLES = (
    "custody",
    "lots",
    "incidents",
    "stop-works",
    "alerts",
    "overrides",
    "refusals",
    "meetings",
    "training",
    "open-items",
)

_ROW_HEAD = ["log_index", "time", "by", "what", "details", "outcome", "rules"]


def _rows(rows: list[Row], firearm: str | None = None) -> list[list[str]]:
    pre = [firearm] if firearm is not None else []
    return [
        pre + [str(r.index), r.at, r.actor, r.action, r.detail, r.outcome, r.rules] for r in rows
    ]


def _csv(header: list[str], rows: list[list[str]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


def day_csv(r: DayReport, table: str = "custody") -> str:
    if table not in DAY_TABLES:
        raise ValueError(f"no table {table!r} in a day report (tables: {', '.join(DAY_TABLES)})")
    if table == "custody":
        rows = [row for label, rs in r.custody.items() for row in _rows(rs, label)]
        return _csv(["firearm", *_ROW_HEAD], rows)
    if table == "lots":
        head = [f.name for f in fields(LotLine)]
        return _csv(
            head,
            [
                ["; ".join(v) if isinstance(v, tuple) else str(v) for v in astuple(ln)]
                for ln in r.lots
            ],
        )
    if table == "open-items":
        return _csv(["item"], [[i] for i in r.open_items])
    source = {
        "incidents": r.incidents,
        "stop-works": r.stop_works,
        "alerts": r.alerts,
        "overrides": r.overrides,
        "refusals": r.refusals,
        "meetings": r.meetings,
        "training": r.training,
    }[table]
    return _csv(_ROW_HEAD, _rows(source))


def history_csv(h: FirearmHistory) -> str:
    return _csv(_ROW_HEAD, _rows(h.rows))


def incident_csv(r: IncidentReport) -> str:
    return _csv([*_ROW_HEAD[:-1], "what_the_rules_said"], _rows(r.rows))


def bound_book_csv(lines: list[tuple[str, ...]]) -> str:
    return _csv(list(BOUND_BOOK_COLUMNS), [list(line) for line in lines])
