"""Command line: ``coldset --help``. Each area's module registers its commands."""

from __future__ import annotations

import sys

import click
import typer

from coldset.cli import custody as _custody  # noqa: F401  (registers commands)
from coldset.cli import custody_views as _views  # noqa: F401  (board, timeline, demo)
from coldset.cli import imports as _imports  # noqa: F401  (import)
from coldset.cli import ledger as _ledger  # noqa: F401  (registers commands)
from coldset.cli import replay as _replay  # noqa: F401  (registers commands)
from coldset.cli import reports as _reports  # noqa: F401  (report day, report firearm)
from coldset.cli import serve as _serve  # noqa: F401
from coldset.cli import setup as _setup  # noqa: F401
from coldset.cli.app import EXIT_INPUT, app

# Typer 0.29 runs on its own copy of click; catch both so either way a usage
# error is one line and exit 1.
_vendored = getattr(typer, "_click", None)
_ABORT = (click.exceptions.Abort, typer.Abort)
_USAGE = (click.ClickException,) + ((_vendored.ClickException,) if _vendored else ())
_EXIT = (click.exceptions.Exit, typer.Exit)


def main() -> None:
    """Run the CLI; usage errors exit 1 (exit 2 is reserved for refusals)."""
    try:
        rv = app(standalone_mode=False)
    except _ABORT:
        sys.stderr.write("aborted\n")
        sys.exit(EXIT_INPUT)
    except _USAGE as e:
        e.show()
        sys.exit(EXIT_INPUT)
    except _EXIT as e:
        sys.exit(e.exit_code)
    sys.exit(rv if isinstance(rv, int) else 0)
