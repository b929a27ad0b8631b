"""The Reports page: day reports and firearm histories, for the roles that may read them."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from coldset import reports
from coldset.reports import labels as label_sheets
from coldset.reports import pdf, tables
from coldset.web.context import HTTPProblem, app_state, member, render

router = APIRouter()


def _reader(request: Request, production: str) -> None:
    m = member(request, production)
    if not reports.may_read(app_state(request).custody, production, m.person):
        raise HTTPProblem(
            403,
            "Reports are for the people who run safety",
            "Day reports and firearm histories name everyone and every "
            "refusal: the armorer, the safety contact, the 1st AD and the "
            "producer can open them.",
        )


def _file(data: bytes, media: str, name: str) -> Response:
    return Response(
        data,
        media_type=media,
        headers={"content-disposition": f'inline; filename="{name}"', "cache-control": "no-store"},
    )


@router.get("/p/{production}/reports")
def reports_page(request: Request, production: str) -> Response:
    _reader(request, production)
    m = member(request, production)
    s = app_state(request).custody.state(production)
    days = sorted(s.shoot_days.values(), key=lambda d: (d.date, d.id), reverse=True)
    incidents = sorted(s.incidents.values(), key=lambda i: i.at, reverse=True)
    return render(
        request,
        "reports.html",
        production=production,
        m=m,
        s=s,
        days=days,
        tables=tables.DAY_TABLES,
        incidents=incidents,
    )


@router.get("/p/{production}/reports/day/{shoot_day}.{fmt}")
def day_report(
    request: Request,
    production: str,
    shoot_day: str,
    fmt: str,
    unit: str | None = None,
    table: str = "custody",
) -> Response:
    _reader(request, production)
    if fmt not in ("pdf", "csv"):
        raise HTTPProblem(404, "No such report", "Reports come as .pdf or .csv.")
    if fmt == "csv" and table not in tables.DAY_TABLES:
        raise HTTPProblem(
            404, "No such table", f"A day report has these tables: {', '.join(tables.DAY_TABLES)}."
        )
    try:
        r = reports.production_day(app_state(request).custody, production, shoot_day, unit or None)
    except reports.ReportError as e:
        raise HTTPProblem(404, "No such report", str(e)) from None
    name = f"{production}-{shoot_day}{'-' + unit if unit else ''}"
    if fmt == "pdf":
        return _file(pdf.day_pdf(r), "application/pdf", f"{name}.pdf")
    return _file(
        tables.day_csv(r, table).encode(), "text/csv; charset=utf-8", f"{name}-{table}.csv"
    )


@router.get("/p/{production}/reports/firearm/{firearm}.{fmt}")
def firearm_report(request: Request, production: str, firearm: str, fmt: str) -> Response:
    _reader(request, production)
    if fmt not in ("pdf", "csv"):
        raise HTTPProblem(404, "No such report", "Reports come as .pdf or .csv.")
    try:
        h = reports.production_firearm(app_state(request).custody, production, firearm)
    except reports.ReportError as e:
        raise HTTPProblem(404, "No such report", str(e)) from None
    if fmt == "pdf":
        return _file(pdf.history_pdf(h), "application/pdf", f"{production}-{firearm}.pdf")
    return _file(
        tables.history_csv(h).encode(), "text/csv; charset=utf-8", f"{production}-{firearm}.csv"
    )


@router.get("/p/{production}/reports/incident/{incident}.{fmt}")
def incident_report(request: Request, production: str, incident: str, fmt: str) -> Response:
    _reader(request, production)
    if fmt not in ("pdf", "csv"):
        raise HTTPProblem(404, "No such report", "Reports come as .pdf or .csv.")
    try:
        r = reports.production_incident(app_state(request).custody, production, incident)
    except reports.ReportError as e:
        raise HTTPProblem(404, "No such report", str(e)) from None
    if fmt == "pdf":
        return _file(pdf.incident_pdf(r), "application/pdf", f"{production}-{incident}.pdf")
    return _file(
        tables.incident_csv(r).encode(), "text/csv; charset=utf-8", f"{production}-{incident}.csv"
    )


@router.get("/p/{production}/reports/bound-book.csv")
def bound_book(request: Request, production: str) -> Response:
    _reader(request, production)
    lines = reports.production_book(app_state(request).custody, production)
    return _file(
        tables.bound_book_csv(lines).encode(),
        "text/csv; charset=utf-8",
        f"{production}-bound-book.csv",
    )


@router.get("/p/{production}/labels/{kind}.pdf")
def label_sheet(request: Request, production: str, kind: str, sheet: str = "letter-30") -> Response:
    member(request, production)  # the Labels page's own rule: any member
    if kind not in label_sheets.KINDS or sheet not in label_sheets.SHEETS:
        raise HTTPProblem(
            404,
            "No such label sheet",
            f"Labels are for {', '.join(label_sheets.KINDS)}, on the sheets "
            f"{', '.join(label_sheets.SHEETS)}.",
        )
    state = app_state(request).custody.state(production)
    return _file(
        label_sheets.sheet_pdf(label_sheets.items(state, kind), sheet),
        "application/pdf",
        f"{production}-{kind}-{sheet}.pdf",
    )
