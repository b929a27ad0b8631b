"""Run a scenario: setup, then every step at its time; compare each outcome with the file."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from coldset.domain.handoff_needs import HandoffNeeds, handoff_needs
from coldset.replay.interactions import HANDOFFS, Interactions, derive, handoff
from coldset.replay.runners import ApiRunner, Outcome, Runner, ServiceRunner
from coldset.replay.scenario import Scenario, ScenarioError, Step, fill, spaced

#: event -> (placeholder kind, id field)
_CREATED = {"stop_work_called": ("stop_work", "stop_work"),
            "concern_raised": ("concern", "concern"), "alert_raised": ("alert", "alert"),
            "incident_reported": ("incident", "incident"),
            "firearm_inspected": ("inspection", "inspection"),
            "override_recorded": ("override", "override")}
#: rejections that mean the scenario file is wrong, not the rules
_AUTHORING = ("malformed", "unknown-id")


@dataclass
class StepResult:
    step: Step
    ran_at: datetime
    command: dict[str, Any]
    outcome: Outcome
    interactions: Interactions
    problems: list[str] = field(default_factory=list)

    @property
    def matched(self) -> bool:
        return not self.problems

    @property
    def known_gap(self) -> bool:
        """Marked as a known gap in the file and still not as expected."""
        return bool(self.step.gap) and not self.matched

    @property
    def failed(self) -> bool:
        """Counts against the replay: an unexpected outcome, or a gap that has closed."""
        return (not self.matched and not self.step.gap) or (bool(self.step.gap)
                                                           and self.matched)

    @property
    def handoff(self) -> bool:
        return self.step.type in HANDOFFS and self.outcome.status == "allowed"


@dataclass
class Replay:
    scenario: Scenario
    via: str
    setup_commands: int
    results: list[StepResult]


def compare(step: Step, out: Outcome) -> list[str]:
    """Every way ``out`` differs from what the step expects (empty: as expected)."""
    problems: list[str] = []
    if out.problem:
        problems.append(out.problem)
    got = out.status
    if got != step.expect:
        if got == "refused":
            what = "refused by " + ", ".join(out.blocking)
        elif got == "rejected":
            what = f"rejected ({out.error_kind}: {out.error})"
        else:
            what = "allowed" + (f" (raising {', '.join(out.raised)})" if out.raised else "")
        want = step.expect + (" by " + ", ".join(step.rules) if step.rules else "")
        problems.append(f"expected {want}, but it was {what}")
        return problems
    if got == "refused" and set(out.blocking) != set(step.rules):
        missing = sorted(set(step.rules) - set(out.blocking))
        extra = sorted(set(out.blocking) - set(step.rules))
        problems.append("refused by different rules: expected " + ", ".join(step.rules)
                        + "; got " + ", ".join(out.blocking)
                        + (f" (missing {', '.join(missing)})" if missing else "")
                        + (f" (also {', '.join(extra)})" if extra else ""))
    if got == "allowed":
        if set(out.raised) != set(step.raises):
            problems.append("raised " + (", ".join(out.raised) or "nothing") + "; expected "
                            + (", ".join(step.raises) or "nothing"))
        if set(out.blocking) != set(step.overridden):
            problems.append("overrode " + (", ".join(out.blocking) or "nothing")
                            + "; expected " + (", ".join(step.overridden) or "nothing"))
    if got == "rejected" and step.error and out.error_kind != step.error:
        problems.append(f"rejected as {out.error_kind}, expected {step.error} ({out.error})")
    return problems


def _runner(scenario: Scenario, via: str) -> Runner:
    if via == "service":
        return ServiceRunner()
    if via == "api":
        return ApiRunner(scenario.production, list(scenario.people), scenario.admin)
    raise ValueError(f"--via must be service or api, not {via!r}")


def replay(scenario: Scenario, via: str = "service") -> Replay:
    """Run ``scenario`` on a fresh temporary install (:class:`ScenarioError` if it cannot)."""
    runner = _runner(scenario, via)
    try:
        return _run(scenario, runner)
    finally:
        runner.close()


def _run(scenario: Scenario, runner: Runner) -> Replay:
    where = str(scenario.path)
    ids: dict[str, list[str]] = {}
    setup_times = spaced([s.at for s in scenario.setup])
    for st, at in zip(scenario.setup, setup_times, strict=True):
        out = runner.execute(fill(st.command, ids, f"{where}: {st.label}"), at)
        if out.status != "allowed" or out.problem:
            why = out.problem or (", ".join(out.blocking) if out.status == "refused"
                                  else f"{out.error_kind}") + f": {out.error}"
            raise ScenarioError(f"{where}: {st.label}: {st.type} was {out.status} during "
                                f"setup ({why})")
        _remember(ids, out)
    start = setup_times[-1] if setup_times else None
    times = spaced(([start] if start else []) + [s.at for s in scenario.steps])
    times = times[1:] if start else times
    results: list[StepResult] = []
    previous: dict[str, dict[str, Any]] = {}   # each person's last command (their tablet)
    # each person's inspection on their tablet: (its result's index, the page's needs
    # before it, whether its tag was scanned), until their next command
    opened: dict[str, tuple[int, HandoffNeeds, bool]] = {}
    # what each person's handoff page pre-selects after they collect a firearm back
    hints: dict[str, tuple[str, str | None, str | None]] = {}
    for st, at in zip(scenario.steps, times, strict=True):
        cmd = fill(st.command, ids, f"{where}: {st.label}")
        hint = hints.pop(st.by, None)
        needs = None
        if cmd["type"] == "inspect":
            h = hint if hint is not None and hint[0] == cmd.get("firearm") else None
            needs = _needs(runner, cmd, *(h[1:] if h else (None, None)))
        elif cmd["type"] == "collect":
            hints[st.by] = _collected_from(runner, cmd)
        out = runner.execute(cmd, at)
        if out.error_kind in _AUTHORING and st.expect != "rejected":
            raise ScenarioError(f"{where}: {st.label} ({st.type} by {st.by}): {out.error}")
        _remember(ids, out)
        before = previous.get(st.by)
        inter = st.interactions or derive(cmd, before)
        held = opened.pop(st.by, None)
        if (held is not None and cmd["type"] == "issue" and before is not None
                and before.get("firearm") == cmd.get("firearm") and not st.interactions):
            # one handoff form: counted on the page's own action model
            i, n, scanned = held
            inter = handoff(n, before, cmd, scanned)
            first = results[i]
            if not first.step.interactions:
                results[i] = replace(first, interactions=Interactions(
                    checklist=first.interactions.checklist))
        if needs is not None:
            opened[st.by] = (len(results), needs, derive(cmd, before).scans > 0)
        results.append(StepResult(st, at, cmd, out, inter, compare(st, out)))
        previous[st.by] = cmd
    return Replay(scenario, runner.via, len(scenario.setup), results)


def _needs(runner: Runner, cmd: dict[str, Any], scene: str | None = None,
           performer: str | None = None) -> HandoffNeeds | None:
    """What the handoff page shows for the firearm of ``cmd`` now (None: not on the
    production, the command will be rejected); ``scene``, ``performer``: what the page
    was given when the firearm was just collected back."""
    try:
        state = runner.state(str(cmd["production"]))
    except LookupError:
        return None
    fid = str(cmd.get("firearm") or "")
    if state is None or fid not in state.firearms:
        return None
    return handoff_needs(state, fid, scene, performer)


def _collected_from(runner: Runner, cmd: dict[str, Any]) -> tuple[str, str | None, str | None]:
    """Where a firearm about to be collected was (the scene, the performer): the handoff
    page that the collection leads to pre-selects them."""
    fid = str(cmd.get("firearm") or "")
    try:
        f = runner.state(str(cmd["production"])).firearms.get(fid)
    except LookupError:
        f = None
    if f is None or f.custody.kind != "person" or not f.issued_for:
        return fid, None, None
    return fid, f.issued_for, f.custody.ref


def _remember(ids: dict[str, list[str]], out: Outcome) -> None:
    if out.status != "allowed":
        return
    for ev in out.events:
        kind = _CREATED.get(str(ev.get("type") or ev.get("event") or ""))
        if kind and ev.get(kind[1]):
            ids.setdefault(kind[0], []).append(str(ev[kind[1]]))
