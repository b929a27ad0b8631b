"""PINs and passwords never go on the command line: prompt, standard input or environment.

A command line is visible in ``ps`` to every user of the machine and stays in
shell history. Each test runs the real CLI on a real data directory.
"""

from __future__ import annotations

import json
import os
import pty
import sys
import termios
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from coldset.cli import app

runner = CliRunner()
CONSENT = ("record-consent", "--as", "hana", "--performer", "alec", "--weapon-type", "shotgun")


@pytest.fixture
def home(tmp_path: Path) -> tuple[dict[str, str], dict[str, str]]:
    """(environment, PINs) of a demo install."""
    env = {"COLDSET_HOME": str(tmp_path / "data"), "COLDSET_PRODUCTION": ""}
    r = runner.invoke(app, ["demo", "--json"], env=env)
    assert r.exit_code == 0, r.output
    return env, json.loads(r.stdout)["pins"]


def run(env: dict[str, str], *args: str, stdin: str | None = None) -> tuple[int, str]:
    r = runner.invoke(app, list(args), env=env, input=stdin)
    return r.exit_code, r.output


def log_size(env: dict[str, str]) -> int:
    code, out = run(env, "logs", "--json")
    assert code == 0, out
    return int(json.loads(out)[0]["size"])


@pytest.mark.parametrize(
    "args",
    [
        (*CONSENT, "--confirm", "alec:{alec}"),
        ("add-person", "--as", "maria", "--person", "zed", "--name", "Zed", "--pin", "{alec}"),
        ("set-pin", "--as", "alec", "--person", "alec", "--pin", "{alec}"),
        ("reset-pin", "--as", "hana", "--person", "alec", "--pin", "{alec}"),
        (*CONSENT, "--data", '{{"confirmations": [{{"person": "alec", "pin": "{alec}"}}]}}'),
        (*CONSENT, "--override-reason", "r", "--override-confirm", "alec:{alec}"),
    ],
)
def test_a_pin_on_the_command_line_is_refused_saying_how_to_give_it(
    home: tuple[dict[str, str], dict[str, str]], args: tuple[str, ...]
) -> None:
    """PERSON:PIN, --pin or a PIN inside --data: exit 1, nothing written, the message says
    how to give it now and never repeats the PIN."""
    env, pins = home
    before = log_size(env)
    code, out = run(env, *(a.format(alec=pins["alec"]) for a in args))
    assert code == 1, out
    assert "visible to every user" in out and "--pins-from-stdin" in out
    assert pins["alec"] not in out
    assert log_size(env) == before


def test_confirm_names_the_person_and_the_pin_comes_from_the_environment(
    home: tuple[dict[str, str], dict[str, str]],
) -> None:
    """--confirm alec with COLDSET_PIN_ALEC: allowed; a wrong one is a recorded wrong PIN."""
    env, pins = home
    code, out = run({**env, "COLDSET_PIN_ALEC": pins["alec"]}, *CONSENT, "--confirm", "alec")
    assert code == 0, out
    code, out = run({**env, "COLDSET_PIN_ALEC": "0000"}, *CONSENT, "--confirm", "alec")
    assert code == 2 and "wrong PIN" in out


def test_pins_from_stdin_one_person_a_line(home: tuple[dict[str, str], dict[str, str]]) -> None:
    """--pins-from-stdin reads PERSON:PIN lines, for confirmers and override confirmers."""
    env, pins = home
    code, out = run(
        env,
        *CONSENT,
        "--confirm",
        "alec",
        "--pins-from-stdin",
        stdin=f"dave:{pins['dave']}\nalec:{pins['alec']}\n",
    )
    assert code == 0, out
    code, out = run(env, *CONSENT, "--confirm", "alec", "--pins-from-stdin", stdin="alec\n")
    assert code == 1 and "line 1 of standard input" in out


def test_no_pin_anywhere_is_refused_before_anything_is_written(
    home: tuple[dict[str, str], dict[str, str]],
) -> None:
    """Standard input is no terminal, no variable, no --pins-from-stdin: exit 1 naming the
    three ways, nothing recorded (not even a wrong-PIN refusal)."""
    env, _ = home
    before = log_size(env)
    code, out = run(env, *CONSENT, "--confirm", "alec")
    assert code == 1 and "no PIN for alec" in out and "COLDSET_PIN_ALEC" in out
    assert log_size(env) == before


def test_a_new_pin_comes_from_stdin_or_the_environment(
    home: tuple[dict[str, str], dict[str, str]],
) -> None:
    """set-pin reads +new:PIN from standard input; add-person --with-pin reads
    COLDSET_NEW_PIN; each new PIN then confirms."""
    env, _ = home
    code, out = run(
        env, "set-pin", "--as", "alec", "--person", "alec", "--pins-from-stdin", stdin="+new:2468\n"
    )
    assert code == 0, out
    assert run({**env, "COLDSET_PIN_ALEC": "2468"}, *CONSENT, "--confirm", "alec")[0] == 0
    code, out = run(
        {**env, "COLDSET_NEW_PIN": "1357"},
        "add-person",
        "--as",
        "maria",
        "--person",
        "zed",
        "--name",
        "Zed Roe",
        "--roles",
        "performer",
        "--with-pin",
    )
    assert code == 0, out
    code, out = run(
        {**env, "COLDSET_PIN_ZED": "1357"},
        "record-consent",
        "--as",
        "hana",
        "--performer",
        "zed",
        "--weapon-type",
        "shotgun",
        "--confirm",
        "zed",
    )
    assert code == 0, out
    code, out = run(env, "set-pin", "--as", "alec", "--person", "alec")
    assert code == 1 and "no new PIN for alec" in out


def test_passwords_come_from_stdin_or_the_environment_never_the_command_line(
    home: tuple[dict[str, str], dict[str, str]],
) -> None:
    """account add/password: --password VALUE is refused without echoing it; the first
    line of standard input or COLDSET_PASSWORD sets it."""
    env, _ = home
    code, out = run(
        env, "account", "add", "bob", "--name", "Bob", "--password", "correct-horse-battery"
    )
    assert code == 1 and "visible to every user" in out and "correct-horse" not in out
    code, out = run(
        env,
        "account",
        "add",
        "bob",
        "--name",
        "Bob",
        "--password-from-stdin",
        stdin="correct-horse-battery\n",
    )
    assert code == 0, out
    code, out = run({**env, "COLDSET_PASSWORD": "staple-of-battery"}, "account", "password", "bob")
    assert code == 0, out
    code, out = run(env, "account", "password", "bob")
    assert code == 1 and "COLDSET_PASSWORD" in out


def _on_a_terminal(env: dict[str, str], args: list[str], answers: list[str]) -> tuple[int, str]:
    """Run the CLI with a pseudo-terminal as its terminal; answer each prompt in turn."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: the real entry point, the terminal as stdin/stdout/stderr
        os.environ.update(env)
        os.environ["PYTHONPATH"] = str(Path(__file__).parents[2] / "src")
        try:
            os.execv(sys.executable, [sys.executable, "-m", "coldset.cli", *args])
        finally:
            os._exit(127)
    seen = b""
    deadline = time.monotonic() + 60
    todo = list(answers)
    while time.monotonic() < deadline:
        try:
            chunk = os.read(fd, 1024)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
        if todo and seen.rstrip().endswith(b":"):
            # answer once the prompt has turned echo off (typed earlier, it is flushed)
            while termios.tcgetattr(fd)[3] & termios.ECHO and time.monotonic() < deadline:
                time.sleep(0.02)
            os.write(fd, (todo.pop(0) + "\n").encode())
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), seen.decode(errors="replace")


def test_on_a_terminal_the_pin_is_asked_for_and_not_shown(
    home: tuple[dict[str, str], dict[str, str]],
) -> None:
    """On a terminal, --confirm alec asks for alec's PIN with the input hidden."""
    env, pins = home
    code, seen = _on_a_terminal(env, [*CONSENT, "--confirm", "alec"], [pins["alec"]])
    assert code == 0, seen
    assert "PIN of alec" in seen and pins["alec"] not in seen and "allowed" in seen
