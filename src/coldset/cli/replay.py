"""``coldset replay FILE``: run an incident scenario on a fresh temporary database."""

from __future__ import annotations

import typer
from rich.console import Console

from coldset.cli.app import EXIT_REFUSED, JSON_OPTION, CliError, app, emit_json, handled, out


@app.command("replay")
@handled
def replay_command(
    file: str = typer.Argument(..., help="Scenario file (YAML), e.g. scenarios/rust-2021.yaml."),
    via: str = typer.Option(
        "service", "--via", help="Run through the custody service, or the HTTP API (api)."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Replay a scenario step by step; exit 2 when a step does not go as the file expects.

    The scenario runs on a fresh temporary install that is removed afterwards. Exit
    codes: 0 every step as expected; 1 a malformed scenario (the message names the
    file, step and field); 2 a step allowed that should be refused, or refused by
    other rules.
    """
    from coldset.replay import ScenarioError, load, replay
    from coldset.replay.report import render, summary, to_json
    from coldset.replay.runners import VIA

    if via not in VIA:
        raise CliError(f"--via must be one of {', '.join(VIA)}, not {via!r}")
    try:
        rep = replay(load(file), via)
    except ScenarioError as e:
        raise CliError(str(e)) from None
    except RuntimeError as e:  # the API is not available
        raise CliError(str(e)) from None
    ok = summary(rep)["ok"]
    if as_json:
        emit_json(to_json(rep))
    else:  # a readable width when the output is a file or a pipe
        render(rep, out if out.is_terminal else Console(highlight=False, width=140))
    if not ok:
        raise typer.Exit(EXIT_REFUSED)
