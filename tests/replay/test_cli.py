"""`coldset replay`: the report, --json, exit 2 for a wrong expectation, exit 1 for bad files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from coldset.cli import app
from tests.replay.conftest import SCENARIOS, write

runner = CliRunner()


def replay_cli(*args: str) -> tuple[int, str]:
    r = runner.invoke(app, ["replay", *args])
    return r.exit_code, r.output


def test_report_step_by_step_and_summary(tmp_path: Path, small: dict[str, Any]) -> None:
    """The text report lists time, who, what, outcome and rules, then the summary; exit 0."""
    code, out = replay_cli(str(write(tmp_path, small)))
    assert code == 0, out
    for text in (
        "08:03",
        "dave",
        "issue colt",
        "refused",
        "armorer-only-handoff",
        "Fatal handoff",
        "never reached",
        "OK",
    ):
        assert text in out


def test_json_output(tmp_path: Path, small: dict[str, Any]) -> None:
    """--json gives every step and the summary, with the interactions per handoff."""
    code, out = replay_cli(str(write(tmp_path, small)), "--json")
    assert code == 0, out
    data = json.loads(out)
    assert data["summary"]["ok"] and len(data["steps"]) == len(small["steps"])
    assert data["steps"][3]["rules"] == ["armorer-only-handoff", "show-clear-before-issue"]
    assert data["summary"]["interactions"]["handoffs"] == 2


def test_allowed_when_refusal_expected_exits_2_naming_the_step(
    tmp_path: Path, small: dict[str, Any]
) -> None:
    """A step the file says is refused but that is allowed: exit 2, the step named."""
    small["steps"][5].update(expect="refused", rules=["muzzle-plan"])
    code, out = replay_cli(str(write(tmp_path, small)))
    assert code == 2
    assert "step 6" in out and "expected refused by muzzle-plan, but it was allowed" in out


def test_refused_by_other_rules_exits_2(tmp_path: Path, small: dict[str, Any]) -> None:
    """Refused, but not by the rules the file names: exit 2 with what is missing and extra."""
    small["steps"][3]["rules"] = ["armorer-only-handoff", "scene-bound"]
    code, out = replay_cli(str(write(tmp_path, small)), "--json")
    assert code == 2
    data = json.loads(out)
    [m] = data["summary"]["mismatches"]
    assert m["step"] == 4 and "missing scene-bound" in m["problems"][0]
    assert "also show-clear-before-issue" in m["problems"][0]


def test_wrong_expectation_in_a_real_scenario_exits_2(tmp_path: Path) -> None:
    """Rust with one refusal expected as allowed: exit 2 and the step is named."""
    text = (SCENARIOS / "rust-2021.yaml").read_text()
    text = text.replace("    rules: [single-custody]\n", "    rules: [stop-work]\n", 1)
    path = tmp_path / "rust-wrong.yaml"
    path.write_text(text)
    code, out = replay_cli(str(path), "--json")
    assert code == 2
    [m] = json.loads(out)["summary"]["mismatches"]
    assert "single-custody" in m["problems"][0] and m["label"].startswith("step ")


def test_gap_that_closes_fails(tmp_path: Path, small: dict[str, Any]) -> None:
    """A step marked as a known gap that now goes as expected must lose its mark: exit 2."""
    small["steps"][5]["gap"] = "pretend this was a gap"
    code, out = replay_cli(str(write(tmp_path, small)))
    assert code == 2 and "remove its gap mark" in out


def test_known_gap_does_not_fail(tmp_path: Path, small: dict[str, Any]) -> None:
    """A mismatch on a step marked as a known gap is reported, not failed."""
    small["steps"][5].update(expect="refused", rules=["muzzle-plan"], gap="not caught yet")
    code, out = replay_cli(str(write(tmp_path, small)))
    assert code == 0 and "Known gap" in out and "not caught yet" in out


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda s: s["steps"][2].update(colour="red"), "step 3, field 'colour'"),
        (lambda s: s["steps"][3].update(rules=["no-such-rule"]), "step 4, field 'rules'"),
        (lambda s: s["steps"][1].pop("by"), "step 2, field 'by'"),
        (
            lambda s: s["steps"][4]["inspect"].pop("barrel_clear"),
            "step 5, field 'inspect.barrel_clear'",
        ),
        (lambda s: s["steps"][4].update(at="07:00"), "step 5, field 'at'"),
        (lambda s: s["steps"][4].update(at="25:99"), "step 5, field 'at'"),
        (lambda s: s["steps"][3].update(confirm=["nobody"]), "step 4, field 'confirm.0'"),
        (lambda s: s["steps"][3].update(expect="maybe"), "step 4, field 'expect'"),
        (lambda s: s["steps"][6].update(load={"firearm": "colt"}), "step 7"),
        (lambda s: s["people"]["alec"].pop("name"), "field 'people.alec'"),
        (lambda s: s["production"].pop("setup_at"), "field 'production.setup_at'"),
        (lambda s: s["steps"][2]["unlock_container"].update(container="nowhere"), "step 3"),
        (lambda s: s["steps"][5]["issue"].update(scene="$stop_work"), "step 6"),
    ],
)
def test_malformed_scenario_exits_1_naming_file_step_field(
    tmp_path: Path, small: dict[str, Any], change: Any, where: str
) -> None:
    """A malformed scenario: exit 1, and the message names the file, the step and the field."""
    change(small)
    path = write(tmp_path, small)
    code, out = replay_cli(str(path))
    assert code == 1, out
    flat = " ".join(out.split())
    assert str(path.name) in flat and where in flat


def test_not_yaml_and_missing_file_exit_1(tmp_path: Path) -> None:
    """A file that is not YAML, or not there: exit 1 naming it."""
    bad = tmp_path / "bad.yaml"
    bad.write_text("steps: [\n  - {at: ")
    code, out = replay_cli(str(bad))
    assert code == 1 and "bad.yaml" in out and "not valid YAML" in " ".join(out.split())
    code, out = replay_cli(str(tmp_path / "missing.yaml"), "--json")
    assert code == 1 and json.loads(out)["exit_code"] == 1


def test_unknown_via_exits_1(tmp_path: Path, small: dict[str, Any]) -> None:
    """--via accepts service or api only."""
    code, out = replay_cli(str(write(tmp_path, small)), "--via", "carrier-pigeon")
    assert code == 1 and "--via" in out
