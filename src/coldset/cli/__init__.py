"""Command line: ``coldset --help``. Each area's module registers its commands."""

from __future__ import annotations

import sys

import click

from coldset.cli import custody as _custody  # noqa: F401  (registers commands)
from coldset.cli import ledger as _ledger  # noqa: F401  (registers commands)
from coldset.cli import setup as _setup  # noqa: F401
from coldset.cli.app import EXIT_INPUT, app


def main() -> None:
    """Run the CLI; usage errors exit 1 (exit 2 is reserved for refusals)."""
    try:
        rv = app(standalone_mode=False)
    except click.exceptions.Abort:
        sys.stderr.write("aborted\n")
        sys.exit(EXIT_INPUT)
    except click.ClickException as e:
        e.show()
        sys.exit(EXIT_INPUT)
    except click.exceptions.Exit as e:
        sys.exit(e.exit_code)
    sys.exit(rv if isinstance(rv, int) else 0)
