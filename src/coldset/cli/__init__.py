"""Command line: ``coldset --help``. Each area's module registers its commands."""

from __future__ import annotations

from coldset.cli.app import app

# Importing registers the commands on ``app``.
from coldset.cli import setup as _setup  # noqa: E402,F401
from coldset.cli import ledger as _ledger  # noqa: E402,F401


def main() -> None:
    app()
