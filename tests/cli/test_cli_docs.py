"""docs/cli.md is the CLI's own help, regenerated: it cannot drift from the code."""

from __future__ import annotations

from pathlib import Path

from coldset.cli.docgen import render

DOC = Path(__file__).resolve().parents[2] / "docs" / "cli.md"


def test_cli_reference_matches_the_code() -> None:
    """Every command and option in the code is in docs/cli.md exactly as --help says it.

    Fix with: .venv/bin/python -m coldset.cli.docgen > docs/cli.md
    """
    assert DOC.read_text() == render(), (
        "docs/cli.md is out of date: run `.venv/bin/python -m coldset.cli.docgen > docs/cli.md`"
    )
