"""``coldset import``: start a production from its manifest, cast list and schedule."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from coldset import imports
from coldset.cli.app import JSON_OPTION, CliError, app, emit_json, handled, out
from coldset.cli.custody import open_service, pick_production


@app.command("import")
@handled
def import_file(
    ctx: typer.Context,
    kind: str = typer.Argument(..., metavar="KIND", help="firearms, lots, people or schedule."),
    file: Path = typer.Argument(
        ..., help="The file: CSV (UTF-8, UTF-16 or Windows-1252; comma, semicolon or tab) or XLSX."
    ),
    production: str | None = typer.Option(None, "--production", help="The production."),
    actor: str = typer.Option(
        ...,
        "--as",
        help="Who imports (a handler for firearms and lots; an admin or producer for people).",
    ),
    container: str | None = typer.Option(
        None, "--container", help="Where firearms or lots go when the file has no container column."
    ),
    receipt_date: str | None = typer.Option(
        None, "--receipt-date", help="Date received (YYYY-MM-DD) when the file has none."
    ),
    source: str | None = typer.Option(
        None,
        "--source",
        help="Received from (name and address, or licence) when the file has none.",
    ),
    yes: bool = typer.Option(
        False, "--yes", help="Record it (without: show the preview only; nothing is written)."
    ),
    skip_bad: bool = typer.Option(
        False, "--skip-bad-lines", help="Record the good lines and list the bad ones."
    ),
    ignore_unknown: bool = typer.Option(
        False,
        "--ignore-unknown-columns",
        help="Go on although some columns match no field (they are listed).",
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Import a rental house manifest, a cast and crew list or a shooting schedule.

    First a preview: what each line will record, what is already recorded, and every
    error by file, line and column. Nothing is written unless --yes is given and every
    line is good (or --skip-bad-lines). The lines go through the rules as ordinary
    commands; importing the same file again records nothing new. Columns: docs/imports.md.
    """
    data = imports.read_file(file)
    with open_service(ctx) as svc:
        prod = pick_production(svc, production)
        plan = imports.plan(
            svc,
            prod,
            actor,
            kind,
            file.name,
            data,
            imports.Defaults(container, receipt_date, source),
            ignore_unknown,
        )
        recorded = None
        if yes and (plan.ok or skip_bad) and not (plan.unknown_columns and not ignore_unknown):
            recorded = imports.commit(svc, plan, skip_bad)
    if as_json:
        body = plan.as_dict()
        body["recorded"] = (
            None if recorded is None else sum(r.status == "allowed" for r in recorded)
        )
        emit_json(body)
    else:
        _show(plan)
    if recorded is not None:
        bad = [r for r in recorded if r.status != "allowed"]
        if not as_json:
            out.print(
                f"[bold]Recorded {len(recorded) - len(bad)} commands[/] from {file.name}"
                + (
                    f"; {len(bad)} were refused after the preview (the production "
                    "changed meanwhile)"
                    if bad
                    else ""
                )
                + "."
            )
        if bad:
            raise typer.Exit(2)
        return
    if not plan.ok and not skip_bad:
        raise CliError(
            f"{len(plan.problems)} problems: nothing was recorded. Fix the file, "
            "or record the good lines with --skip-bad-lines --yes."
        )
    if not as_json:
        out.print(
            f"Preview only: {len(plan.to_record)} lines to record. Nothing was "
            "written; run again with --yes to record them."
        )


def _show(plan: imports.Plan) -> None:
    t = Table(title=f"{plan.file}: {plan.kind} for {plan.production}", show_lines=False)
    t.add_column("line", justify="right")
    t.add_column("action")
    t.add_column("what")
    for ln in plan.lines:
        style = {"error": "bold red", "already recorded": "dim"}.get(ln.action, "")
        t.add_row(str(ln.line), ln.action, ln.summary or "", style=style)
    out.print(t)
    for p in plan.problems:
        out.print(f"[red]{p.where(plan.file)}[/]")
    if plan.unknown_columns and plan.ignore_unknown:
        out.print("ignored columns: " + ", ".join(plan.unknown_columns))
