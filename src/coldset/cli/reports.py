"""``coldset report day|firearm``: the paperwork, as PDF or CSV, to a file or stdout."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path

import typer

from coldset import reports
from coldset.cli.app import JSON_OPTION, CliError, app, emit_json, handled, out
from coldset.cli.ledger import LOG_ARG, _records
from coldset.reports import labels as label_sheets
from coldset.reports import pdf, tables

report_app = typer.Typer(
    help="Reports made from the log: a shoot day, a firearm's history.", no_args_is_help=True
)
app.add_typer(report_app, name="report")


class Format(StrEnum):
    pdf = "pdf"
    csv = "csv"


FORMAT_OPTION = typer.Option(
    Format.pdf, "--format", "-f", help="pdf (pages to file or print) or csv (one table)."
)
OUTPUT_OPTION = typer.Option(
    None,
    "--output",
    "-o",
    help="Write to this file; '-' or nothing for stdout (a PDF is not written to a terminal).",
)


def _write(data: bytes, output: Path | None, as_json: bool, what: str) -> None:
    if output is None or str(output) == "-":
        if sys.stdout.isatty() and data.startswith(b"%PDF"):
            raise CliError(
                "a PDF is not printed to a terminal: give --output FILE "
                "(or pipe it, e.g. '> day.pdf')"
            )
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    tmp = output.with_name(output.name + ".part")
    tmp.write_bytes(data)
    tmp.replace(output)  # never a half-written report under the real name
    if as_json:
        emit_json({"ok": True, "report": what, "path": str(output), "bytes": len(data)})
    else:
        out.print(f"{what} written to {output} ({len(data):,} bytes)")


@report_app.command("day")
@handled
def day(
    ctx: typer.Context,
    log: str = LOG_ARG,
    shoot_day: str = typer.Argument(..., help="The shoot day's id, e.g. d21."),
    unit: str | None = typer.Option(None, "--unit", help="One unit's id (default: all)."),
    fmt: Format = FORMAT_OPTION,
    table: str = typer.Option(
        "custody",
        "--table",
        help="With --format csv, which table: " + ", ".join(tables.DAY_TABLES) + ".",
    ),
    output: Path | None = OUTPUT_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Write the day report of a shoot day (PDF, or one table as CSV).

    It holds the custody of every firearm, rounds per lot with the reconciliation,
    incidents, stop-works, alerts, overrides, refusals, the safety meeting's attendance,
    training and consent, open items and signature lines."""
    if fmt is Format.csv and table not in tables.DAY_TABLES:
        raise CliError(
            f"no table {table!r} in a day report (tables: {', '.join(tables.DAY_TABLES)})"
        )
    with _records(ctx) as rec:
        r = reports.day(rec, log, shoot_day, unit)
    data = pdf.day_pdf(r) if fmt is Format.pdf else tables.day_csv(r, table).encode()
    _write(data, output, as_json, f"day report of {r.shoot_day} ({r.unit})")


@report_app.command("firearm")
@handled
def firearm(
    ctx: typer.Context,
    log: str = LOG_ARG,
    firearm_id: str = typer.Argument(..., metavar="FIREARM", help="The firearm's tag id."),
    fmt: Format = FORMAT_OPTION,
    output: Path | None = OUTPUT_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Write a firearm's history (PDF or CSV), for an investigator.

    Every log entry that concerns the firearm over the whole production, with its log
    index, so each line can be checked against the log."""
    with _records(ctx) as rec:
        h = reports.firearm(rec, log, firearm_id)
    data = pdf.history_pdf(h) if fmt is Format.pdf else tables.history_csv(h).encode()
    _write(data, output, as_json, f"history of {h.firearm}")


@report_app.command("incident")
@handled
def incident(
    ctx: typer.Context,
    log: str = LOG_ARG,
    incident_id: str = typer.Argument(..., metavar="INCIDENT", help="The incident's id."),
    around: int = typer.Option(
        20, "--around", min=1, max=500, help="Entries before and after it on its unit."
    ),
    fmt: Format = FORMAT_OPTION,
    output: Path | None = OUTPUT_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Write an incident report (PDF or CSV).

    The entries before and after the incident on its unit (and with its firearm), each
    with what the rules said at that step."""
    with _records(ctx) as rec:
        r = reports.incident(rec, log, incident_id, around)
    data = pdf.incident_pdf(r) if fmt is Format.pdf else tables.incident_csv(r).encode()
    _write(data, output, as_json, f"report of incident {r.incident}")


@report_app.command("bound-book")
@handled
def bound_book(
    ctx: typer.Context,
    log: str = LOG_ARG,
    output: Path | None = OUTPUT_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Write the acquisition and disposition record of the real firearms (CSV).

    The fields of 27 CFR 478.125(e), one line per firearm in order of receipt; the
    column order is in docs/reports.md. Replicas are not listed."""
    with _records(ctx) as rec:
        lines = reports.book(rec, log)
    _write(
        tables.bound_book_csv(lines).encode(),
        output,
        as_json,
        f"bound book ({len(lines)} firearms)",
    )


@report_app.command("labels")
@handled
def labels(
    ctx: typer.Context,
    log: str = LOG_ARG,
    kind: str = typer.Option("firearms", "--kind", help="firearms, lots, containers or badges."),
    sheet: str = typer.Option(
        "letter-30", "--sheet", help="Sheet layout: " + ", ".join(label_sheets.SHEETS) + "."
    ),
    output: Path | None = OUTPUT_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Write a sheet of QR labels (PDF; print at 100 %, never "fit to page")."""
    if kind not in label_sheets.KINDS:
        raise CliError(f"no label kind {kind!r} (kinds: {', '.join(label_sheets.KINDS)})")
    if sheet not in label_sheets.SHEETS:
        raise CliError(f"no sheet {sheet!r} (sheets: {', '.join(label_sheets.SHEETS)})")
    with _records(ctx) as rec:
        state = reports.state_of(rec, log)
    items = label_sheets.items(state, kind)
    _write(
        label_sheets.sheet_pdf(items, sheet),
        output,
        as_json,
        f"{len(items)} {kind} labels ({sheet})",
    )
