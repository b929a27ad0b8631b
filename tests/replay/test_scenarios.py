"""Every scenario in scenarios/ replayed through the custody service and the HTTP API."""

from __future__ import annotations

from pathlib import Path

import pytest

from coldset.replay import load, replay
from coldset.replay.report import summary
from coldset.replay.runners import api_unavailable
from tests.replay.conftest import SCENARIOS

FILES = sorted(SCENARIOS.glob("*.yaml"))


def _problems(path: Path, via: str) -> list[str]:
    s = summary(replay(load(path), via))
    return [f"{m['label']}: {'; '.join(m['problems'])}" for m in s["mismatches"]] + [
        f"step {g['step']}: gap closed, remove its gap mark" for g in s["gaps_closed"]
    ]


def test_the_three_scenarios_exist() -> None:
    """scenarios/ holds Rust 2021, The Crow 1993 and the clean shoot day."""
    assert {p.name for p in FILES} >= {
        "rust-2021.yaml",
        "the-crow-1993.yaml",
        "clean-shoot-day.yaml",
    }


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_scenario_through_the_service(path: Path) -> None:
    """Every step of the scenario goes as the file expects through the custody service."""
    assert _problems(path, "service") == []


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_scenario_through_the_api(path: Path) -> None:
    """Every step of the scenario goes as the file expects through the HTTP API (409s)."""
    why = api_unavailable()
    if why:
        pytest.skip(why)
    assert _problems(path, "api") == []


def test_rust_fatal_handoff_never_reached_and_each_failure_stopped() -> None:
    """Rust: every attempt at the fatal handoff is refused; each failure has a stopping rule."""
    s = summary(replay(load(SCENARIOS / "rust-2021.yaml")))
    assert s["fatal_handoff"]["attempts"] >= 5
    assert not s["fatal_handoff"]["reached"]
    assert s["fatal_handoff"]["refused"] == s["fatal_handoff"]["attempts"]
    stopped = {
        rule
        for tries in s["failure_chain"].values()
        for t in tries
        for rule in t["rules"] + t["raised"]
    }
    assert {
        "no-live-ammo",
        "dummy-verified",
        "ammo-secured",
        "armorer-dedicated",
        "single-custody",
        "armorer-only-handoff",
        "show-clear-before-issue",
        "recheck-after-break",
        "muzzle-plan",
        "misfire-quarantine",
        "concern-answered",
    } <= stopped
    assert len(s["failure_chain"]) >= 9


def test_crow_fatal_handoff_never_reached() -> None:
    """The Crow: home-made dummies refused, the specialist's absence and the squib stop it."""
    s = summary(replay(load(SCENARIOS / "the-crow-1993.yaml")))
    assert s["fatal_handoff"]["attempts"] >= 2 and not s["fatal_handoff"]["reached"]
    rules = {r for tries in s["failure_chain"].values() for t in tries for r in t["rules"]}
    assert {
        "dummy-verified",
        "no-live-ammo",
        "single-custody",
        "armorer-only-handoff",
        "handler-present",
        "misfire-quarantine",
    } <= rules


def test_replays_hand_over_through_the_handoff_operation() -> None:
    """A replay runs each inspect + issue of the clean shoot day as the service's ONE
    handoff operation (as the tablet does), and every step still goes as the file says."""
    from coldset.replay.engine import _run
    from coldset.replay.runners import ServiceRunner

    calls: list[str] = []

    class Counting(ServiceRunner):
        def handoff(self, h, at):  # type: ignore[no-untyped-def]
            calls.append(h.firearm)
            return super().handoff(h, at)

    sc = load(SCENARIOS / "clean-shoot-day.yaml")
    runner = Counting()
    try:
        done = _run(sc, runner)
    finally:
        runner.close()
    assert len(calls) == sum(1 for s in sc.steps if s.type == "issue") >= 30
    assert [r for r in done.results if r.failed] == []
    assert len(done.results) == len(sc.steps)
