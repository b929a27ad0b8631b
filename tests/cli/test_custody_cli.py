"""The custody CLI end to end on a real data directory: demo, board, commands, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from coldset.cli import app
from coldset.domain.commands import COMMAND_TYPES

runner = CliRunner()


@pytest.fixture
def home(tmp_path: Path) -> dict[str, str]:
    env = {"COLDSET_HOME": str(tmp_path / "data"), "COLDSET_PRODUCTION": ""}
    r = runner.invoke(app, ["demo", "--json"], env=env)
    assert r.exit_code == 0, r.output
    env["PINS"] = json.dumps(json.loads(r.stdout)["pins"])
    return env


def run(env: dict[str, str], *args: str) -> tuple[int, str]:
    r = runner.invoke(app, list(args), env={k: v for k, v in env.items() if k != "PINS"})
    return r.exit_code, r.output


def test_demo_then_board_shows_the_western(home: dict[str, str]) -> None:
    """`coldset demo` then `coldset board`: six firearms, colt-1 issued to alec."""
    code, out = run(home, "board", "--json")
    assert code == 0
    board = json.loads(out)
    assert len(board["firearms"]) == 6 and len(board["lots"]) == 3
    colt = next(f for f in board["firearms"] if f["id"] == "colt-1")
    assert colt["where"] == "with alec"
    code, text = run(home, "board")
    assert code == 0 and "colt-1" in text and "blank-45" in text


def test_demo_prints_every_pin_once_and_says_it_is_a_demo(tmp_path: Path) -> None:
    """The text demo announces itself and prints the eight people's PINs."""
    r = runner.invoke(app, ["demo"], env={"COLDSET_HOME": str(tmp_path / "d")})
    assert r.exit_code == 0 and "DEMO" in r.output
    assert all(p in r.output for p in ("maria", "hana", "alec", "frances"))
    again = runner.invoke(app, ["demo"], env={"COLDSET_HOME": str(tmp_path / "d")})
    assert again.exit_code == 1 and "already exists" in again.output


def test_refusal_prints_rule_reason_source_and_exits_2(home: dict[str, str]) -> None:
    """A live lot is refused: one line with the rule id, reason and source; exit 2."""
    code, out = run(
        home,
        "receive-lot",
        "--as",
        "hana",
        "--lot",
        "live-1",
        "--kind",
        "live",
        "--caliber",
        ".45 Colt",
        "--maker",
        "X",
        "--count",
        "10",
        "--receipt-date",
        "2025-03-01",
        "--receipt-source",
        "X",
        "--container",
        "safe-main",
    )
    assert code == 2
    assert "no-live-ammo:" in out and "source:" in out


def test_malformed_input_exits_1_and_names_the_fields(home: dict[str, str]) -> None:
    """A missing and a wrong field are each named with what to fix; exit 1."""
    code, out = run(home, "load", "--as", "hana", "--firearm", "colt 1", "--positions", "1")
    assert code == 1
    assert "--lot: required" in out and "--firearm:" in out


def test_unknown_id_exits_1_and_is_named(home: dict[str, str]) -> None:
    """An unknown firearm is named; exit 1."""
    code, out = run(home, "collect", "--as", "hana", "--firearm", "colt-99")
    assert code == 1 and "colt-99" in out


def test_command_json_output_and_timeline(home: dict[str, str]) -> None:
    """--json on a command gives the result; the timeline then lists the collect."""
    code, out = run(home, "collect", "--as", "hana", "--firearm", "colt-1", "--json")
    result = json.loads(out)
    assert code == 0 and result["ok"] and result["events"][0]["type"] == "firearm_collected"
    code, out = run(home, "timeline", "colt-1", "--json")
    assert code == 0 and json.loads(out)[-1]["command"] == "collect"


def test_wrong_pin_exits_2_and_is_recorded(home: dict[str, str]) -> None:
    """A wrong confirmation PIN is refused (exit 2) and says it was recorded."""
    code, out = run(
        {**home, "COLDSET_PIN_ALEC": "00000"},
        "record-consent",
        "--as",
        "hana",
        "--performer",
        "alec",
        "--weapon-type",
        "shotgun",
        "--confirm",
        "alec",
    )
    assert code == 2 and "wrong PIN" in out and "recorded as entry" in out


def test_rebuild_reports_the_entries(home: dict[str, str]) -> None:
    """`coldset rebuild` recomputes the tables from the log."""
    code, out = run(home, "rebuild", "--json")
    assert code == 0 and json.loads(out)["firearms"] == 6


def test_every_service_command_has_a_cli_command() -> None:
    """Each command type is a CLI command with a dashed name (docs cannot drift)."""
    names = {
        c.name or c.callback.__name__ for c in app.registered_commands if c.callback is not None
    }
    missing = [t for t in COMMAND_TYPES if t.replace("_", "-") not in names]
    assert not missing
    assert {"board", "timeline", "rebuild", "demo"} <= names


def test_take_one_firearm_out_of_the_safe_and_relock(home: dict[str, str]) -> None:
    """`unlock-container --leave-inside`, `take-from-container --firearms`, `lock-container`:
    the one firearm taken is with the armorer; the board shows the rest in the safe."""
    p = ("-p", "dusty-trail", "--as", "hana", "--json")
    code, out = run(home, "board", "--json")
    inside = [f["id"] for f in json.loads(out)["firearms"] if "safe-main" in f["where"]]
    assert len(inside) >= 2, out
    code, out = run(home, "unlock-container", "--container", "safe-main", "--leave-inside", *p)
    assert code == 0, out
    code, out = run(
        home, "take-from-container", "--container", "safe-main", "--firearms", inside[0], *p
    )
    assert code == 0, out
    code, out = run(home, "lock-container", "--container", "safe-main", *p)
    assert code == 0, out
    board = {f["id"]: f["where"] for f in json.loads(run(home, "board", "--json")[1])["firearms"]}
    assert board[inside[0]] == "with hana"
    assert all("safe-main" in board[f] for f in inside[1:])
