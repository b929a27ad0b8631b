"""Where the CLI gets PINs and passwords: never from its own arguments.

A command line is visible to every user of the machine (``ps``) and stays in
shell history, so a PIN or password is read, in this order, from:

1. standard input, with ``--pins-from-stdin`` (``--password-from-stdin``): one
   ``PERSON:PIN`` a line (``+new:PIN`` for a new PIN; the password is the first
   line);
2. the environment: ``COLDSET_PIN_<PERSON>`` (the id in capitals, other
   characters as ``_``: ``COLDSET_PIN_ALEC``), ``COLDSET_NEW_PIN``,
   ``COLDSET_PASSWORD``;
3. a hidden prompt, when standard input is a terminal.

A PIN or password given on the command line is refused, with how to give it
instead; the refusal never repeats the value.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping
from typing import Any, TextIO

import typer

from coldset.cli.app import CliError

NEW_PIN = "+new"
NEW_PIN_ENV = "COLDSET_NEW_PIN"
PASSWORD_ENV = "COLDSET_PASSWORD"


def pin_env(person: str) -> str:
    """The environment variable that holds ``person``'s PIN."""
    return "COLDSET_PIN_" + re.sub(r"[^A-Z0-9]", "_", person.upper())


def _ways(person: str) -> str:
    return (
        f"at the prompt (on a terminal), in {pin_env(person)}, or as a line {person}:PIN "
        "on standard input with --pins-from-stdin"
    )


def confirmer(value: str, option: str) -> str:
    """The person an ``--confirm``/``--override-confirm`` names; ``PERSON:PIN`` is refused."""
    person, sep, _ = value.partition(":")
    if sep:
        raise CliError(
            f"{option} {person}:…: a PIN on the command line is visible to every user of "
            f"this machine and stays in shell history. Name the person only "
            f"(`{option} {person}`) and give the PIN {_ways(person)}"
        )
    if not person:
        raise CliError(f"{option}: name the person confirming, e.g. {option} alec")
    return person


def refuse_pin_option(option: str, instead: str) -> None:
    raise CliError(
        f"{option}: a PIN on the command line is visible to every user of this machine and "
        f"stays in shell history. {instead} Give the new PIN at the prompt (on a terminal), "
        f"in {NEW_PIN_ENV}, or as a line {NEW_PIN}:PIN on standard input with "
        "--pins-from-stdin"
    )


def has_pin(value: Any) -> bool:
    """Whether a ``--data`` object carries a PIN anywhere."""
    if isinstance(value, dict):
        return "pin" in value or any(has_pin(v) for v in value.values())
    if isinstance(value, list):
        return any(has_pin(v) for v in value)
    return False


class PinSource:
    """The PINs of one command: standard input, then the environment, then a prompt."""

    def __init__(
        self,
        from_stdin: bool,
        *,
        stdin: TextIO | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        stream = stdin if stdin is not None else sys.stdin
        self.environ = os.environ if environ is None else environ
        self.lines: dict[str, str] = {}
        self.interactive = False
        if from_stdin:
            for number, line in enumerate(stream.read().splitlines(), start=1):
                if not line.strip():
                    continue
                key, sep, pin = line.strip().partition(":")
                if not sep or not key or not pin:
                    raise CliError(
                        f"--pins-from-stdin: line {number} of standard input is not "
                        "PERSON:PIN (or +new:PIN)"
                    )
                self.lines[key] = pin
        else:
            self.interactive = stream.isatty()

    def pin(self, person: str) -> str:
        """The PIN ``person`` confirms with."""
        found = self.lines.get(person) or self.environ.get(pin_env(person))
        if found:
            return found
        if self.interactive:
            return str(typer.prompt(f"PIN of {person}", hide_input=True, err=True))
        raise CliError(f"no PIN for {person}: give it {_ways(person)}")

    def new_pin(self, person: str) -> str:
        """The new PIN being set for ``person`` (asked twice on a terminal)."""
        found = self.lines.get(NEW_PIN) or self.environ.get(NEW_PIN_ENV)
        if found:
            return found
        if self.interactive:
            return str(
                typer.prompt(
                    f"New PIN for {person}", hide_input=True, confirmation_prompt=True, err=True
                )
            )
        raise CliError(
            f"no new PIN for {person}: give it at the prompt (on a terminal), in "
            f"{NEW_PIN_ENV}, or as a line {NEW_PIN}:PIN on standard input with "
            "--pins-from-stdin"
        )


def password(
    from_stdin: bool,
    on_command_line: str | None,
    *,
    stdin: TextIO | None = None,
    environ: Mapping[str, str] | None = None,
) -> str:
    """A login's new password: the first line of standard input, COLDSET_PASSWORD, a prompt."""
    how = (
        f"Give it at the prompt (on a terminal), in {PASSWORD_ENV}, or as the first line "
        "of standard input with --password-from-stdin"
    )
    if on_command_line is not None:
        raise CliError(
            "--password: a password on the command line is visible to every user "
            f"of this machine and stays in shell history. {how}"
        )
    stream = stdin if stdin is not None else sys.stdin
    env = os.environ if environ is None else environ
    if from_stdin:
        first = (stream.readline() or "").rstrip("\r\n")
        if not first:
            raise CliError("--password-from-stdin: the first line of standard input is empty")
        return first
    if env.get(PASSWORD_ENV):
        return env[PASSWORD_ENV]
    if stream.isatty():
        return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True, err=True))
    raise CliError(f"no password given. {how}")
