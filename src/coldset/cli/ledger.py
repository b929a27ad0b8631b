"""Ledger commands: ``logs``, ``verify``, ``proof``, ``entry``, ``export``."""

from __future__ import annotations

import base64
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from coldset.cli.app import EXIT_REFUSED, JSON_OPTION, CliError, app, emit_json, err, handled, out
from coldset.install import open_install
from coldset.service.records import Records

LOG_ARG = typer.Argument(..., help="The log: its origin, or the production's short name.")


@contextmanager
def _records(ctx: typer.Context) -> Iterator[Records]:
    inst = open_install(ctx.obj.settings(), signing=False)  # reads; checks the pinned key
    try:
        yield Records(inst)
    finally:
        inst.close()


def _n(count: int, one: str, many: str | None = None) -> str:
    return f"{count:,} {one if count == 1 else (many or one + 's')}"


def _index(value: str, what: str = "index") -> int:
    try:
        n = int(value, 10)
    except ValueError:
        raise CliError(f"{what} {value!r} is not a number") from None
    if n < 0:
        raise CliError(f"{what} {n} is negative")
    return n


@contextmanager
def _progress(label: str, enabled: bool) -> Iterator[Callable[[int, int], None]]:
    """A progress bar that appears only once the work has taken more than a second."""
    started = time.perf_counter()
    bar: Progress | None = None
    task = None

    def update(done: int, total: int) -> None:
        nonlocal bar, task
        if not enabled:
            return
        if bar is None:
            if time.perf_counter() - started < 1.0:
                return
            bar = Progress(
                TextColumn(label),
                BarColumn(),
                TextColumn("{task.completed:,}/{task.total:,}"),
                TimeRemainingColumn(),
                console=err,
                transient=True,
            )
            bar.start()
            task = bar.add_task(label, total=total)
        assert task is not None
        bar.update(task, completed=done, total=total)

    try:
        yield update
    finally:
        if bar is not None:
            bar.stop()


@app.command()
@handled
def logs(ctx: typer.Context, as_json: bool = JSON_OPTION) -> None:
    """List the logs in this install with their sizes."""
    with _records(ctx) as rec:
        infos = rec.logs()
    if as_json:
        emit_json([{"origin": i.origin, "size": i.size} for i in infos])
        return
    if not infos:
        out.print("No logs yet.")
    for i in infos:
        out.print(f"{i.origin}  {i.size:,} entries")


@app.command()
@handled
def verify(
    ctx: typer.Context,
    log: str = typer.Argument(None, help="The log to verify (default: every log)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Re-hash every entry, rebuild the tree, check every node and every checkpoint.

    Exits 0 when all is sound and 2 naming the first bad entry, node or
    checkpoint otherwise.
    """
    with _records(ctx) as rec:
        origins = [rec.resolve(log)] if log else [i.origin for i in rec.logs()]
        reports = []
        for origin in origins:
            with _progress(f"verifying {origin}", not as_json) as progress:
                reports.append(rec.verify(origin, progress))
    ok = all(r.ok for r in reports)
    if as_json:
        emit_json({"ok": ok, "logs": [r.as_dict() for r in reports]})
    else:
        if not reports:
            out.print("No logs to verify.")
        for r in reports:
            if r.ok:
                out.print(
                    f"[green]OK[/] {r.origin}: {r.entries:,} entries, {r.node_rows:,} node "
                    f"rows, {r.checkpoints:,} checkpoints checked in {r.seconds:.2f} s"
                )
            else:
                first = r.problems[0]
                out.print(f"[bold red]FAILED[/] {r.origin}: {first.message}")
                for p in r.problems[1:]:
                    out.print(f"  also: {p.message}")
    if not ok:
        raise typer.Exit(EXIT_REFUSED)


@app.command()
@handled
def proof(
    ctx: typer.Context,
    log: str = LOG_ARG,
    index: str = typer.Argument(..., help="The entry's index (from 0)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Print a C2SP tlog-proof receipt for one entry against the latest checkpoint."""
    n = _index(index)
    with _records(ctx) as rec:
        receipt = rec.receipt(rec.resolve(log), n)
    if as_json:
        emit_json(receipt.as_dict())
    else:
        sys.stdout.write(receipt.text)


@app.command()
@handled
def entry(
    ctx: typer.Context,
    log: str = LOG_ARG,
    index: str = typer.Argument(..., help="The entry's index (from 0)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Print an entry's exact bytes (the bytes that were hashed)."""
    n = _index(index)
    with _records(ctx) as rec:
        origin = rec.resolve(log)
        data = rec.entry(origin, n)
    if as_json:
        emit_json(
            {
                "origin": origin,
                "index": n,
                "leaf_hash": base64.b64encode(Records.leaf_hash(data)).decode(),
                "entry_base64": base64.b64encode(data).decode(),
            }
        )
    else:
        sys.stdout.buffer.write(data)
        if sys.stdout.isatty():
            sys.stdout.buffer.write(b"\n")
        sys.stdout.flush()


@app.command()
@handled
def export(
    ctx: typer.Context,
    log: str = LOG_ARG,
    directory: Path = typer.Argument(..., help="A new or empty directory for the bundle."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Write an evidence bundle an investigator can verify without coldset.

    The bundle holds every entry, every checkpoint, the consistency proofs between
    them, the verifier key, a README and verify.py (see docs/evidence-bundle.md).
    """
    with _records(ctx) as rec, _progress("exporting", not as_json) as progress:
        origin = rec.resolve(log)
        res = rec.export(origin, directory, progress)
    if as_json:
        emit_json(
            {
                "ok": True,
                "directory": str(res.directory),
                "origin": res.origin,
                "entries": res.entries,
                "checkpoints": res.checkpoints,
            }
        )
    else:
        out.print(
            f"Exported {_n(res.entries, 'entry', 'entries')} and "
            f"{_n(res.checkpoints, 'checkpoint')} of {origin} to {res.directory}"
        )
        out.print(
            f"Check it with: python {res.directory / 'verify.py'} {res.directory} "
            f"--key {res.directory / 'verifier.key'}"
        )
