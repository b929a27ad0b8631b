"""Incident replays: scenario files run step by step on a fresh temporary install.

``load(path)`` reads and checks a scenario (docs/scenarios.md), ``replay(scenario,
via)`` runs it through the custody service or the HTTP API, and
:mod:`coldset.replay.report` renders or summarises the result.
"""

from coldset.replay.engine import Replay, StepResult, replay
from coldset.replay.scenario import Scenario, ScenarioError, Step, load

__all__ = ["Replay", "Scenario", "ScenarioError", "Step", "StepResult", "load", "replay"]
