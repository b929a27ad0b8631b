"""The Typer application and what every command shares.

Exit codes: 0 done; 1 malformed input or a setup problem (the message says what
to fix); 2 refused by a safety rule or a failed verification; 3 an internal
error (reported in one line; set COLDSET_DEBUG=1 for the traceback).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, NoReturn, ParamSpec, TypeVar

import typer
from rich.console import Console

from coldset.config import ConfigError, Settings

app = typer.Typer(
    name="coldset",
    help=(
        "coldset: every firearm and round on a production tracked, every unsafe step "
        "refused with its rule, and a record anyone can verify."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

EXIT_OK, EXIT_INPUT, EXIT_REFUSED, EXIT_INTERNAL = 0, 1, 2, 3


class CliError(Exception):
    """A one-line message for the user and an exit code."""

    def __init__(self, message: str, code: int = EXIT_INPUT, payload: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.payload = payload


@dataclass
class Context:
    home: str | None = None
    database_url: str | None = None
    json: bool = False

    def settings(self) -> Settings:
        return Settings.load(self.home, self.database_url)


@app.callback()
def _global(
    ctx: typer.Context,
    home: str = typer.Option(
        None,
        "--home",
        envvar="COLDSET_HOME",
        help="Data directory made by `coldset init` (default ./coldset-data).",
    ),
    database_url: str = typer.Option(
        None,
        "--database-url",
        envvar="COLDSET_DATABASE_URL",
        help="Database URL (default: the SQLite file in the data directory).",
    ),
) -> None:
    ctx.obj = Context(home=home, database_url=database_url)


def emit_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2, sort_keys=True, default=str) + "\n")


P = ParamSpec("P")
R = TypeVar("R")


def fail(message: str, code: int = EXIT_INPUT) -> NoReturn:
    raise CliError(message, code)


def handled(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn known errors into one clear line (or a JSON object with --json) and an exit code."""

    @wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        as_json = bool(kwargs.get("as_json"))
        try:
            return fn(*args, **kwargs)
        except typer.Exit:
            raise
        except CliError as e:
            _report(str(e), e.code, as_json, e.payload)
        except (ConfigError, ValueError, LookupError, PermissionError, OSError) as e:
            _report(str(e) or type(e).__name__, EXIT_INPUT, as_json, None)
        except Exception as e:  # never a traceback for the user
            if os.environ.get("COLDSET_DEBUG"):
                raise
            _report(
                f"internal error: {type(e).__name__}: {e} (set COLDSET_DEBUG=1 for details)",
                EXIT_INTERNAL,
                as_json,
                None,
            )
        raise AssertionError("unreachable")

    return wrapper


def _report(message: str, code: int, as_json: bool, payload: Any) -> NoReturn:
    if as_json:
        body = {"ok": False, "error": message, "exit_code": code}
        if payload is not None:
            body["details"] = payload
        emit_json(body)
    else:
        err.print(f"[bold red]error:[/] {message}", markup=True)
    raise typer.Exit(code)


JSON_OPTION = typer.Option(False, "--json", help="Print JSON for scripts instead of text.")
