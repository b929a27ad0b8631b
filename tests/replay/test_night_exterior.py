"""The clean night exterior: a shoot day from 18:00 to 06:00 the next morning, three
units, done right — zero refusals and zero alerts after midnight (issue 11 point 7)."""

from __future__ import annotations

import importlib.util

import pytest

from coldset.replay import Replay, load, replay
from coldset.replay.report import summary
from tests.replay.conftest import SCENARIOS

FILE = SCENARIOS / "night-exterior.yaml"


@pytest.fixture(scope="module")
def night() -> Replay:
    return replay(load(FILE))


def test_zero_refusals_zero_alerts(night: Replay) -> None:
    """Every step is allowed, no alert and no stop-work is raised all night."""
    s = summary(night)
    assert s["ok"] and s["refused"] == 0 and s["rejected"] == 0
    assert s["alerts"] == 0 and s["stop_works"] == 0
    assert all(
        v["verdict"] not in ("alert", "stop_work")
        for r in night.results
        for v in r.outcome.verdicts
    )


def test_three_units_sixty_handoffs_across_midnight(night: Replay) -> None:
    """At least 60 handoffs on three units, with takes loaded, issued and fired after
    midnight, and the night wrapped on the next calendar date."""
    assert summary(night)["interactions"]["handoffs"] >= 60
    issues = [r for r in night.results if r.step.type == "issue"]
    assert {r.command["scene"] for r in issues} == {"sc-31", "sc-32", "sc-33"}
    assert {r.step.at.date().isoformat() for r in issues} == {"2025-09-12", "2025-09-13"}
    after = [r.step.type for r in night.results if r.step.at.date().isoformat() == "2025-09-13"]
    assert after.count("issue") >= 18 and after.count("load") >= 18
    assert "wrap_day" in after and "check_alerts" in after


def test_the_file_is_what_the_generator_writes() -> None:
    """scenarios/night-exterior.yaml is exactly scenarios/make_night_exterior.py's output
    (edit the script and run it, never the file)."""
    spec = importlib.util.spec_from_file_location(
        "make_night", SCENARIOS / "make_night_exterior.py"
    )
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert FILE.read_text(encoding="utf-8") == mod.render()
