"""Run a scenario: setup, then every step at its time; compare each outcome with the file.

A handoff is ONE operation on the tablet, and a replay runs it as one: an ``inspect``
whose person's next step is their ``issue`` of the same firearm (with nothing in
between naming that firearm or the inspection) is held, and run with that issue
through the service's handoff operation (:mod:`coldset.service.handoff`; on the API,
``POST .../handoffs``) at the issue's time. Each step is still compared with the file
on its own. When the inspection is not allowed the handoff stops there (the issue is
not tried), and the issue step then runs on its own, as the armorer trying the issue
form; the outcomes the file expects stay the same.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from coldset.domain.handoff_needs import HandoffNeeds, handoff_needs
from coldset.replay.interactions import HANDOFFS, Interactions, derive, handoff
from coldset.replay.runners import ApiRunner, Outcome, Runner, ServiceRunner
from coldset.replay.scenario import Scenario, ScenarioError, Step, fill, spaced
from coldset.service.handoff import Handoff

#: event -> (placeholder kind, id field)
_CREATED = {
    "stop_work_called": ("stop_work", "stop_work"),
    "concern_raised": ("concern", "concern"),
    "alert_raised": ("alert", "alert"),
    "incident_reported": ("incident", "incident"),
    "firearm_inspected": ("inspection", "inspection"),
    "override_recorded": ("override", "override"),
}
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
        return (not self.matched and not self.step.gap) or (bool(self.step.gap) and self.matched)

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
        problems.append(
            "refused by different rules: expected "
            + ", ".join(step.rules)
            + "; got "
            + ", ".join(out.blocking)
            + (f" (missing {', '.join(missing)})" if missing else "")
            + (f" (also {', '.join(extra)})" if extra else "")
        )
    if got == "allowed":
        if set(out.raised) != set(step.raises):
            problems.append(
                "raised "
                + (", ".join(out.raised) or "nothing")
                + "; expected "
                + (", ".join(step.raises) or "nothing")
            )
        if set(out.blocking) != set(step.overridden):
            problems.append(
                "overrode "
                + (", ".join(out.blocking) or "nothing")
                + "; expected "
                + (", ".join(step.overridden) or "nothing")
            )
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
            why = (
                out.problem
                or (", ".join(out.blocking) if out.status == "refused" else f"{out.error_kind}")
                + f": {out.error}"
            )
            raise ScenarioError(
                f"{where}: {st.label}: {st.type} was {out.status} during setup ({why})"
            )
        _remember(ids, out)
    start = setup_times[-1] if setup_times else None
    times = spaced(([start] if start else []) + [s.at for s in scenario.steps])
    times = times[1:] if start else times
    results: list[StepResult | None] = [None] * len(scenario.steps)
    previous: dict[str, dict[str, Any]] = {}  # each person's last command (their tablet)
    # each person's inspection on their tablet: (its result's index, the page's needs
    # before it, whether its tag was scanned), until their next command
    opened: dict[str, tuple[int, HandoffNeeds, bool]] = {}
    # what each person's handoff page pre-selects after they collect a firearm back
    hints: dict[str, tuple[str, str | None, str | None]] = {}

    def before(st: Step, cmd: dict[str, Any]) -> HandoffNeeds | None:
        """What the person's tablet shows before the step (the handoff page's needs)."""
        hint = hints.pop(st.by, None)
        if cmd["type"] == "inspect":
            h = hint if hint is not None and hint[0] == cmd.get("firearm") else None
            return _needs(runner, cmd, *(h[1:] if h else (None, None)))
        if cmd["type"] == "collect":
            hints[st.by] = _collected_from(runner, cmd)
        return None

    def record(
        i: int,
        st: Step,
        at: datetime,
        cmd: dict[str, Any],
        out: Outcome,
        needs: HandoffNeeds | None,
    ) -> None:
        if out.error_kind in _AUTHORING and st.expect != "rejected":
            raise ScenarioError(f"{where}: {st.label} ({st.type} by {st.by}): {out.error}")
        _remember(ids, out)
        prev = previous.get(st.by)
        inter = st.interactions or derive(cmd, prev)
        held_form = opened.pop(st.by, None)
        if (
            held_form is not None
            and cmd["type"] == "issue"
            and prev is not None
            and prev.get("firearm") == cmd.get("firearm")
            and not st.interactions
        ):
            # one handoff form: counted on the page's own action model
            j, n, scanned = held_form
            inter = handoff(n, prev, cmd, scanned)
            first = results[j]
            if first is not None and not first.step.interactions:
                results[j] = replace(
                    first, interactions=Interactions(checklist=first.interactions.checklist)
                )
        if needs is not None:
            opened[st.by] = (i, needs, derive(cmd, prev).scans > 0)
        results[i] = StepResult(st, at, cmd, out, inter, compare(st, out))
        previous[st.by] = cmd

    held: dict[int, tuple[int, dict[str, Any], HandoffNeeds | None]] = {}  # issue -> inspect
    for i, (st, at) in enumerate(zip(scenario.steps, times, strict=True)):
        cmd = fill(st.command, ids, f"{where}: {st.label}")
        if i in held:  # the issue of a handoff: both steps at once
            j, inspect, inspect_needs = held.pop(i)
            h = handoff_of(inspect, cmd)
            if h is None:  # a placeholder filled in made it no handoff after all
                record(
                    j, scenario.steps[j], at, inspect, runner.execute(inspect, at), inspect_needs
                )
            else:
                first, second = runner.handoff(h, at)
                record(j, scenario.steps[j], at, inspect, first, inspect_needs)
                if second is not None:
                    hints.pop(st.by, None)  # (what before() does for an issue)
                    record(i, st, at, cmd, second, None)
                    continue
            # the inspection was not allowed: the handoff stopped there, and the armorer
            # tries the issue on its own (the issue form), as the file has it
        elif (k := _handoff_partner(scenario.steps, i)) is not None:
            held[k] = (i, cmd, before(st, cmd))  # run with its issue, when that comes
            continue
        needs = before(st, cmd)  # (the tablet as it was before the step)
        record(i, st, at, cmd, runner.execute(cmd, at), needs)
    return Replay(scenario, runner.via, len(scenario.setup), [r for r in results if r is not None])


#: the fields a handoff carries of each command (anything else: two separate commands)
_INSPECT_FIELDS = frozenset({"type", "production", "actor", "firearm", "chambers", "barrel_clear"})
_ISSUE_FIELDS = frozenset(
    {"type", "production", "actor", "firearm", "to", "scene", "confirmations"}
)


def handoff_of(inspect: dict[str, Any], issue: dict[str, Any]) -> Handoff | None:
    """The :class:`~coldset.service.handoff.Handoff` that an inspect and the same person's
    issue of the same firearm are on the tablet, or None when they are not one (other
    fields, another firearm, no PIN of the performer among the confirmations)."""
    if (
        inspect.get("type") != "inspect"
        or issue.get("type") != "issue"
        or set(inspect) - _INSPECT_FIELDS
        or set(issue) - _ISSUE_FIELDS
        or inspect.get("actor") != issue.get("actor")
        or inspect.get("firearm") != issue.get("firearm")
        or inspect.get("production") != issue.get("production")
    ):
        return None
    confirmations = list(issue.get("confirmations") or [])
    mine = [x for x in confirmations if isinstance(x, dict) and x.get("person") == issue.get("to")]
    if not mine or not isinstance(inspect.get("chambers"), list):
        return None
    return Handoff(
        production=inspect["production"],
        actor=inspect["actor"],
        firearm=inspect["firearm"],
        chambers=inspect["chambers"],
        barrel_clear=inspect.get("barrel_clear"),
        to=issue["to"],
        pin=mine[0].get("pin"),
        scene=issue.get("scene"),
        confirmations=[x for x in confirmations if x is not mine[0]],
    )


#: An inspect and an issue further apart than this are two things the armorer did, not one
#: handoff on the tablet (run as one, the old inspection would be taken as fresh).
HANDOFF_GAP = timedelta(minutes=2)


def _handoff_partner(steps: list[Step], i: int) -> int | None:
    """The step that makes step ``i`` (an inspect) a handoff: the same person's next step,
    when it is their issue of that firearm within :data:`HANDOFF_GAP` and nothing in
    between touches the firearm or the inspection; else None."""
    st = steps[i]
    if st.type != "inspect":
        return None
    firearm = st.command.get("firearm")
    for k in range(i + 1, len(steps)):
        other = steps[k]
        if other.by == st.by:
            ok = (
                other.type == "issue"
                and other.command.get("firearm") == firearm
                and other.at - st.at <= HANDOFF_GAP
                and handoff_of(st.command, other.command) is not None
            )
            return k if ok else None
        text = repr(other.command)
        if repr(firearm) in text or "$inspection" in text:
            return None
    return None


def _needs(
    runner: Runner, cmd: dict[str, Any], scene: str | None = None, performer: str | None = None
) -> HandoffNeeds | None:
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
