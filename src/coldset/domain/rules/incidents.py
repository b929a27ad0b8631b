"""E. Incident rules (SAFETY_RULES.md section E): misfires, barrel checks, concerns, stop-work."""

from __future__ import annotations

from datetime import timedelta

from coldset.clock import parse_rfc3339, rfc3339
from coldset.domain.commands import (
    ANONYMOUS,
    CheckAlerts,
    Discharge,
    Issue,
    Load,
    RaiseConcern,
    ReleaseQuarantine,
    ReportIncident,
)
from coldset.domain.model import QUARANTINE_INCIDENTS, Incident, IncidentKind, RoundKind, StopWork
from coldset.domain.rules import REGISTRY, RuleContext, Verdict, misapplied, rule
from coldset.domain.rules.people import scene_for, unit_for
from coldset.domain.rules.wording import local_time, person_name
from coldset.domain.shootday import within_shoot_day
from coldset.domain.state import State

MISFIRE = "misfire-quarantine"
UNPLANNED = "unplanned-discharge"
#: stop-works enforced by the rule that raised them (naming the incident), not by stop-work
OWN_STOPS = frozenset({MISFIRE, UNPLANNED})


def _seq(record_id: str) -> int:
    """Log index of a generated id (``inc-40``, ``insp-41``, ``sw-40-0``); -1 if none."""
    parts = record_id.split("-")
    for part in parts[1:2]:
        if part.isdigit():
            return int(part)
    return -1


def _stops(state: State, unit: str | None) -> list[StopWork]:
    """Open stop-works covering ``unit`` (every open one when the unit is not known)."""
    return state.open_stop_works(unit) if unit else state.open_stop_works()


def _where(scope: str) -> str:
    return "the whole production" if scope == "production" else f"unit {scope}"


def _incident_label(kind: IncidentKind | str) -> str:
    return str(getattr(kind, "value", kind)).replace("_", " ")


def misfire_incidents(state: State, firearm: str) -> list[Incident]:
    """Misfires, squibs, unexpected discharges and malfunctions of ``firearm``, in log order."""
    return sorted(
        (
            i
            for i in state.incidents.values()
            if i.firearm == firearm and i.kind in QUARANTINE_INCIDENTS
        ),
        key=lambda i: (_seq(i.id), i.at),
    )


# ------------------------------------------------------------------ misfire-quarantine


def _report(ctx: RuleContext, cmd: ReportIncident) -> list[Verdict]:
    state = ctx.state
    if IncidentKind(cmd.kind) not in QUARANTINE_INCIDENTS:
        return []
    fid = cmd.firearm if cmd.firearm in state.firearms else None
    lot = cmd.lot if cmd.lot in state.lots else None
    unit = cmd.unit or (unit_for(state, cmd) if fid else None)
    scope = unit if unit is not None and unit in state.units else "production"
    what = _incident_label(cmd.kind)
    held = [f"firearm {fid}"] if fid else []
    held += [f"lot {lot}"] if lot else []
    reason = (
        f"A {what} was reported{' with ' + fid if fid else ''}: "
        + (
            f"{' and '.join(held)} {'is' if len(held) == 1 else 'are'} quarantined now, "
            if held
            else ""
        )
        + f"and firearm use on {_where(scope)} stops until a handler and the safety "
        "contact clear it."
    )
    if fid:
        reason += (
            f" {fid} returns to service only after a recorded barrel inspection and "
            'function check (an inspection with "barrel clear" and "function '
            'check" ticked), then a release by a handler and the safety contact.'
        )
    quarantine = ([f"firearm:{fid}"] if fid else []) + ([f"lot:{lot}"] if lot else [])
    return [ctx.stop_work(reason, scope=scope, quarantine=quarantine)]


def _release(ctx: RuleContext, cmd: ReleaseQuarantine) -> list[Verdict]:
    state = ctx.state
    f = state.firearms.get(cmd.firearm or "")
    if f is None or not f.quarantined or f.quarantine_rule not in (None, MISFIRE):
        return []
    incidents = misfire_incidents(state, f.id)
    if not incidents:
        return []  # quarantined for another reason (a live round): not this rule's
    last = incidents[-1]
    since = sorted(
        (i for i in state.inspections.values() if i.firearm == f.id and _seq(i.id) > _seq(last.id)),
        key=lambda i: _seq(i.id),
    )
    missing = []
    if not since or not since[-1].barrel_clear:
        missing.append("a barrel inspection showing the barrel clear")
    if not any(i.function_check for i in since):
        missing.append("a function check")
    if not missing:
        return []
    return [
        ctx.block(
            f"{f.id} was quarantined after the {_incident_label(last.kind)} "
            f"{last.id} at {local_time(state, last.at)}; it returns to service only "
            f"after {' and '.join(missing)} recorded since then (an inspection with "
            '"barrel clear" and "function check" ticked).'
        )
    ]


def _in_use(ctx: RuleContext, cmd: Issue | Load) -> list[Verdict]:
    state = ctx.state
    f = state.firearms.get(cmd.firearm)
    if f is not None and f.quarantined and f.quarantine_rule in (None, MISFIRE):
        incidents = misfire_incidents(state, f.id)
        if incidents:
            last = incidents[-1]
            return [
                ctx.block(
                    f"{f.id} is quarantined after the {_incident_label(last.kind)} "
                    f"{last.id} at {local_time(state, last.at)}: it is not issued or "
                    "loaded until a barrel inspection and function check are recorded "
                    "and a handler and the safety contact release it."
                )
            ]
    stops = [s for s in _stops(state, unit_for(state, cmd)) if s.rule == MISFIRE]
    if not stops:
        return []
    sw = stops[0]
    inc = state.incidents.get(sw.incident or "")
    about = (
        (
            f"the {_incident_label(inc.kind)} {inc.id}"
            + (f" with {inc.firearm}" if inc.firearm else "")
        )
        if inc
        else "an incident"
    )
    return [
        ctx.block(
            f"Firearm use on {_where(sw.scope)} is stopped since "
            f"{local_time(state, sw.at)} after {about}: nothing is issued or loaded "
            f"until a handler and the safety contact clear stop-work "
            f"{sw.id}."
        )
    ]


@rule(
    MISFIRE,
    applies_to=(ReportIncident, ReleaseQuarantine, Issue, Load),
    source="The Crow (1993); Rust (2021, two misfires a week earlier, no action); "
    "Freedom's Path (2019)",
)
def misfire_quarantine(ctx: RuleContext) -> list[Verdict]:
    """A misfire, squib, unexpected discharge or malfunction quarantines the firearm and stops
    the unit until cleared; the firearm returns after a barrel inspection and function check."""
    cmd = ctx.command
    if isinstance(cmd, ReportIncident):
        return _report(ctx, cmd)
    if isinstance(cmd, ReleaseQuarantine):
        return _release(ctx, cmd)
    if not isinstance(cmd, Issue | Load):
        raise misapplied(ctx)
    return _in_use(ctx, cmd)


# ------------------------------------------------------------------ unplanned-discharge


def unplanned_why(ctx: RuleContext, cmd: Discharge) -> str | None:
    """Why a recorded discharge was not a planned take of a scene whose plan lists the
    firearm (None: it was one)."""
    state = ctx.state
    f = state.firearms.get(cmd.firearm)
    if f is None:
        return None
    sc = scene_for(state, cmd)
    if sc is None:
        return "it was recorded with no scene"
    if f.issued_for is not None and f.issued_for != sc.id:
        return f"it is issued for scene {f.issued_for}, not scene {sc.id}"
    if f.id not in sc.plan.firearm_ids():
        return f"the firearm plan of scene {sc.id} does not list {f.id}"
    if cmd.shot is None:
        return f"it was recorded with no take of scene {sc.id}"
    shot = next((x for x in sc.plan.shots if x.number == cmd.shot), None)
    if shot is None:
        return f"scene {sc.id} has no shot {cmd.shot} in its plan"
    if shot.kind.value == "rehearsal":
        return f"shot {shot.number} of scene {sc.id} is a rehearsal"
    if not shot.blanks:
        return f"shot {shot.number} of scene {sc.id} does not fire in the plan"
    if shot.firearm is not None and shot.firearm != f.id:
        return f"shot {shot.number} of scene {sc.id} is planned for {shot.firearm}"
    if sc.wrapped_at:
        return f"scene {sc.id} wrapped at {local_time(state, sc.wrapped_at)}"
    if sc.unit in state.meal_breaks:
        return (
            f"unit {sc.unit} is on a meal break since "
            f"{local_time(state, state.meal_breaks[sc.unit])}"
        )
    day = state.shoot_days.get(sc.shoot_day)
    if day is None or not within_shoot_day(state, day, ctx.now):
        return f"scene {sc.id} is not on the shoot day under way"
    return None


def _unplanned_stop(ctx: RuleContext, fid: str | None, what: str) -> list[Verdict]:
    state, cmd = ctx.state, ctx.command
    named = cmd.unit if isinstance(cmd, ReportIncident) else None
    unit = named or unit_for(state, cmd)
    scope = unit if unit is not None and unit in state.units else "production"
    gun = f"{fid} is quarantined now and " if fid else ""
    reason = (
        f"{what}: {gun}firearm use on {_where(scope)} stops until a handler and the "
        "safety contact clear it (clear_stop_work)."
    )
    if fid:
        reason += (
            f" {fid} is not loaded or issued again until a barrel inspection and a "
            "function check are recorded and a handler and the safety contact release "
            "it (release_quarantine)."
        )
    return [ctx.stop_work(reason, scope=scope, quarantine=[f"firearm:{fid}"] if fid else [])]


def _unplanned_release(ctx: RuleContext, cmd: ReleaseQuarantine) -> list[Verdict]:
    state = ctx.state
    f = state.firearms.get(cmd.firearm or "")
    if f is None or not f.quarantined or f.quarantine_rule != UNPLANNED:
        return []
    since = sorted(
        (
            i
            for i in state.inspections.values()
            if i.firearm == f.id
            and _seq(i.id) > (f.quarantined_index if f.quarantined_index is not None else -1)
        ),
        key=lambda i: _seq(i.id),
    )
    missing = []
    if not since or not since[-1].barrel_clear:
        missing.append("a barrel inspection showing the barrel clear")
    if not any(i.function_check for i in since):
        missing.append("a function check")
    if not missing:
        return []
    return [
        ctx.block(
            f"{f.id} was quarantined after an unplanned discharge or an injury; it "
            f"returns to service only after {' and '.join(missing)} recorded since "
            "then (inspect with barrel_clear and function_check)."
        )
    ]


def _unplanned_in_use(ctx: RuleContext, cmd: Issue | Load) -> list[Verdict]:
    state = ctx.state
    f = state.firearms.get(cmd.firearm)
    if f is not None and f.quarantined and f.quarantine_rule == UNPLANNED:
        return [
            ctx.block(
                f"{f.id} is quarantined after an unplanned discharge or an injury: it "
                "is not loaded or issued until a barrel inspection and a function "
                "check are recorded and a handler and the safety contact release it "
                "(release_quarantine)."
            )
        ]
    stops = [s for s in _stops(state, unit_for(state, cmd)) if s.rule == UNPLANNED]
    if not stops:
        return []
    sw = stops[0]
    return [
        ctx.block(
            f"Firearm use on {_where(sw.scope)} is stopped since "
            f"{local_time(state, sw.at)} after an unplanned discharge or an injury: "
            "nothing is issued or loaded until a handler and the safety contact clear "
            f"stop-work {sw.id} (clear_stop_work)."
        )
    ]


@rule(
    UNPLANNED,
    applies_to=(Discharge, ReportIncident, ReleaseQuarantine, Issue, Load),
    source="Cover Up (1984, Jon-Erik Hexum: blank fired between takes); Rust (2021, "
    "discharge during a rehearsal)",
)
def unplanned_discharge(ctx: RuleContext) -> list[Verdict]:
    """A discharge outside a planned take of a scene whose plan lists the firearm, and any
    injury involving a firearm, stop the unit and quarantine the firearm, as
    misfire-quarantine does; it is not loaded or issued again until released."""
    cmd = ctx.command
    if isinstance(cmd, Discharge):
        why = unplanned_why(ctx, cmd)
        if why is None:
            return []
        return _unplanned_stop(
            ctx, cmd.firearm, f"{cmd.firearm} fired outside a planned take ({why})"
        )
    if isinstance(cmd, ReportIncident):
        if cmd.kind != IncidentKind.injury.value or cmd.firearm not in ctx.state.firearms:
            return []
        return _unplanned_stop(ctx, cmd.firearm, f"An injury involving {cmd.firearm} was reported")
    if isinstance(cmd, ReleaseQuarantine):
        return _unplanned_release(ctx, cmd)
    if not isinstance(cmd, Issue | Load):
        raise misapplied(ctx)
    return _unplanned_in_use(ctx, cmd)


# ------------------------------------------------------------------ barrel-check-before-blanks


@rule(
    "barrel-check-before-blanks",
    applies_to=(Load,),
    source="The Crow (1993, squib from a home-made dummy)",
)
def barrel_check_before_blanks(ctx: RuleContext) -> list[Verdict]:
    """Blanks go into a firearm that has held dummies only after a recorded barrel check."""
    cmd, state = ctx.command, ctx.state
    if not isinstance(cmd, Load):
        raise misapplied(ctx)
    f, lot = state.firearms.get(cmd.firearm), state.lots.get(cmd.lot)
    if f is None or lot is None or lot.kind != RoundKind.blank:
        return []
    if not f.dummies_since_barrel_check:
        return []
    return [
        ctx.block(
            f"{f.id} has held dummy rounds since its last barrel check "
            f"({local_time(state, f.barrel_checked_at)}): a dummy can leave a bullet "
            "in the barrel. Check the barrel for an obstruction and record it (an "
            'inspection with "barrel clear" ticked) before loading blanks from lot '
            f"{lot.id}."
        )
    ]


# ------------------------------------------------------------------ concern-answered


def limit_words(minutes: int) -> str:
    """``4 hours``, ``90 minutes``: a production limit in words."""
    if minutes % 60 == 0:
        hours = minutes // 60
        return f"{hours} hour{'s' if hours != 1 else ''}"
    return f"{minutes} minutes"


def concern_subject(concern_id: str) -> str:
    """The subject of a concern's alert (one open alert per concern)."""
    return f"concern:{concern_id}"


@rule(
    "concern-answered",
    applies_to=(RaiseConcern, CheckAlerts, Issue),
    source="Rust (2021, complaints ignored, camera crew walked off); Cal. Labor Code §9153 "
    "(compliance contact)",
)
def concern_answered(ctx: RuleContext) -> list[Verdict]:
    """A concern alerts the safety contact the moment it is raised; past the production's
    limit (hours from when it was raised, not a calendar day) an unanswered concern blocks
    every issue on the production until it is answered."""
    state, cmd = ctx.state, ctx.command
    limit_min = ctx.settings.concern_limit_min
    limit = timedelta(minutes=limit_min)
    if isinstance(cmd, RaiseConcern):
        who = "anonymously" if cmd.actor == ANONYMOUS else f"by {person_name(state, cmd.actor)}"
        text = cmd.text if len(cmd.text) <= 80 else cmd.text[:77] + "..."
        return [
            ctx.alert(
                f"A safety concern was raised {who} at {local_time(state, rfc3339(ctx.now))} "
                f"({text!r}). The safety contact looks at it now; the compliance contact answers "
                f"it within {limit_words(limit_min)}, or no firearm is "
                "issued on the production until it is answered.",
                subject=concern_subject(f"concern-{state.size}"),
                roles=("safety_contact",),
            )
        ]
    blocks, alerts = [], []
    for c in sorted(state.open_concerns(), key=lambda c: (_seq(c.id), c.id)):
        try:
            raised = parse_rfc3339(c.at)
        except ValueError:
            continue
        if ctx.now - raised <= limit:
            continue
        who = "anonymously" if c.raised_by is None else f"by {person_name(state, c.raised_by)}"
        text = c.text if len(c.text) <= 80 else c.text[:77] + "..."
        about = f"safety concern {c.id} raised {who} at {local_time(state, c.at)} ({text!r})"
        if isinstance(cmd, Issue):
            blocks.append(about)
        else:
            alerts.append(
                ctx.alert(
                    f"The {about} has not been answered within {limit_words(limit_min)}: the "
                    "compliance contact must acknowledge it now. Until "
                    "then no firearm is issued on the production.",
                    subject=concern_subject(c.id),
                    roles=("safety_contact",),
                )
            )
    if blocks:
        return [
            ctx.block(
                f"Unanswered for more than {limit_words(limit_min)}: "
                f"{'; '.join(blocks)}. No firearm is issued until the compliance "
                "contact answers it."
            )
        ]
    return alerts


# ------------------------------------------------------------------ stop-work


@rule("stop-work", applies_to=(Issue, Load), source="Safety Bulletin #1; general set practice")
def stop_work(ctx: RuleContext) -> list[Verdict]:
    """While a stop-work covers the unit (or the production), no firearm is issued or loaded
    until a handler and the safety contact clear it.

    Calling stop-work (``call_stop_work``) records the stop itself, attributed to this rule.
    Stops from a misfire or an unplanned discharge are enforced by ``misfire-quarantine`` and
    ``unplanned-discharge``, which name what happened.
    """
    cmd, state = ctx.command, ctx.state
    if not isinstance(cmd, Issue | Load):
        raise misapplied(ctx)
    out = _quarantine_fallback(ctx, cmd)
    stops = [s for s in _stops(state, unit_for(state, cmd)) if s.rule not in OWN_STOPS]
    if not stops:
        return out
    parts = [
        f"{_where(s.scope)} since {local_time(state, s.at)} (called by "
        f"{person_name(state, s.called_by)}: {s.reason!r}; {s.id})"
        for s in stops
    ]
    return [
        *out,
        ctx.block(
            f"Firearm use is stopped on {'; '.join(parts)}. No firearm is "
            "issued or loaded until a handler and the safety contact clear "
            "it."
        ),
    ]


#: Rules that refuse issuing and loading the firearms they quarantine, themselves.
_QUARANTINE_OWNERS = ("no-live-ammo", MISFIRE, UNPLANNED)


def _quarantine_fallback(ctx: RuleContext, cmd: Issue | Load) -> list[Verdict]:
    """A firearm quarantined by a stop-work whose rule does not itself refuse issue and
    load (a stop-work called by hand, a rule added later) is refused here, so every
    quarantine is a refusal naming a rule, never a stale-state rejection."""
    f = ctx.state.firearms.get(cmd.firearm)
    if f is None or not f.quarantined:
        return []
    owner = f.quarantine_rule
    if owner is None or owner in _QUARANTINE_OWNERS:
        return []  # (no recorded owner: no-live-ammo or misfire-quarantine tells them apart)
    registered = REGISTRY.get(owner)
    if registered is not None and owner != "stop-work" and isinstance(cmd, registered.applies_to):
        return []  # that rule checks this command itself
    what = "issued" if isinstance(cmd, Issue) else "loaded"
    return [
        ctx.block(
            f"{f.id} is quarantined (by {owner or 'a stop-work'}): it is not {what} "
            "until a handler and the safety contact release it."
        )
    ]
