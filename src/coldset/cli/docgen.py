"""Generate docs/cli.md from the CLI itself, so the reference cannot drift.

    .venv/bin/python -m coldset.cli.docgen > docs/cli.md
    .venv/bin/python -m coldset.cli.docgen --events    # rewrites docs/domain.md's event table

``tests/cli/test_cli_docs.py`` fails when docs/cli.md differs from this output, and
``tests/domain/test_events.py`` when docs/domain.md's event table differs from the models.
"""

from __future__ import annotations

import inspect
import re
import sys
from pathlib import Path
from typing import Any

import typer

from coldset.cli.app import app


def _params(cmd: Any) -> list[str]:
    lines = []
    for p in cmd.params:
        if getattr(p, "hidden", False) or p.name == "help":
            continue
        if p.param_type_name == "argument":
            name = f"`{(p.metavar or p.name or '').upper()}`"
        else:
            name = ", ".join(f"`{o}`" for o in [*p.opts, *p.secondary_opts])
        help_ = " ".join((getattr(p, "help", None) or "").split())
        req = " (required)" if p.required else ""
        lines.append(f"| {name}{req} | {help_} |")
    return lines


def _commands(group: Any, ctx: Any, prefix: str) -> list[str]:
    out: list[str] = []
    for name in sorted(group.list_commands(ctx)):
        cmd = group.get_command(ctx, name)
        if cmd is None or getattr(cmd, "hidden", False):
            continue
        out.append(f"## `{prefix} {name}`")
        out.append("")
        out.append(inspect.cleandoc(cmd.help or cmd.short_help or "").replace("\b\n", ""))
        rows = _params(cmd)
        if rows:
            out += ["", "| argument / option | meaning |", "|---|---|", *rows]
        out.append("")
        if hasattr(cmd, "list_commands"):
            out += _commands(
                cmd, typer.Context(cmd, info_name=name, parent=ctx), f"{prefix} {name}"
            )
    return out


def render() -> str:
    group = typer.main.get_command(app)
    ctx = typer.Context(group, info_name="coldset")
    out = [
        "# Command line reference",
        "",
        "Generated from the code by `python -m coldset.cli.docgen`; do not edit by hand.",
        "Every command takes `--json` where it prints results; `coldset COMMAND --help`",
        "shows the same text. Exit codes: 0 done, 1 malformed input or unknown id,",
        "2 refused by a safety rule or a failed verification, 3 internal error.",
        "",
        "Global options (before the command):",
        "",
        "| option | meaning |",
        "|---|---|",
        *_params(group),
        "",
    ]
    out += _commands(group, ctx, "coldset")
    return "\n".join(out).rstrip() + "\n"


DOMAIN_MD = Path(__file__).resolve().parents[3] / "docs" / "domain.md"
_EVENTS_BLOCK = re.compile(r"(<!-- events:begin -->\n)(.*?)(<!-- events:end -->)", re.S)


def update_events_table(path: Path = DOMAIN_MD) -> None:
    """Rewrite the event table in docs/domain.md from the event models."""
    from coldset.domain.events import events_markdown

    text = path.read_text()
    if not _EVENTS_BLOCK.search(text):
        raise SystemExit(f"{path} has no <!-- events:begin --> ... <!-- events:end --> block")
    path.write_text(_EVENTS_BLOCK.sub(lambda m: m.group(1) + events_markdown() + m.group(3), text))


if __name__ == "__main__":
    if sys.argv[1:] == ["--events"]:
        update_events_table()
    else:
        print(render(), end="")
