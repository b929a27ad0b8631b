"""Productions replayed from the shipped scenarios, kept open for the reports to read."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from coldset.replay import engine
from coldset.replay.runners import ServiceRunner
from coldset.replay.scenario import load, parse
from coldset.service.records import Records

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "reports"


class Replayed:
    def __init__(self, runner: ServiceRunner, production: str) -> None:
        self.runner, self.production = runner, production
        self.records = Records(runner.install)
        self.origin = self.records.logs()[0].origin
        self.home = runner.home

    def entries(self) -> list[tuple[int, dict[str, Any]]]:
        from coldset.domain.events import parse_entry

        _cp, raw = self.records.signed_entries(self.origin)
        return [(i, parse_entry(d)) for i, d in raw]


def _replay(scenario: Any) -> Iterator[Replayed]:
    runner = ServiceRunner()
    try:
        engine._run(scenario, runner)
        yield Replayed(runner, scenario.production)
    finally:
        runner.close()


@pytest.fixture(scope="module")
def clean_day() -> Iterator[Replayed]:
    yield from _replay(load(SCENARIOS / "clean-shoot-day.yaml"))


@pytest.fixture(scope="module")
def rust() -> Iterator[Replayed]:
    yield from _replay(load(SCENARIOS / "rust-2021.yaml"))


@pytest.fixture(scope="module")
def short_count() -> Iterator[Replayed]:
    """The clean day, but the wrap count of blank-45 comes up two rounds short."""
    path = SCENARIOS / "clean-shoot-day.yaml"
    data = yaml.safe_load(path.read_text())
    for step in data["steps"]:
        rc = step.get("reconcile_counts")
        if rc and rc["lot"] == "blank-45":
            rc["counted"] = rc["counted"] - 2
    yield from _replay(parse(data, path))


def page_images(pdf: bytes, name: str, dpi: int = 110) -> list[Path]:
    """The PDF's pages as PNG files in test-artifacts/reports (pdftoppm)."""
    if shutil.which("pdftoppm") is None:
        pytest.fail("pdftoppm is missing: install poppler-utils (.ci/run does)")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    src = ARTIFACTS / f"{name}.pdf"
    src.write_bytes(pdf)
    for old in ARTIFACTS.glob(f"{name}-*.png"):
        old.unlink()
    subprocess.run(
        ["pdftoppm", "-r", str(dpi), "-png", str(src), str(ARTIFACTS / name)], check=True
    )
    return sorted(ARTIFACTS.glob(f"{name}-*.png"))
