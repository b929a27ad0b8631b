"""E. Incident rules (SAFETY_RULES.md section E): misfires, barrel checks, concerns, stop-work."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from coldset.clock import parse_rfc3339
from coldset.domain.commands import CheckAlerts, Issue, Load, ReleaseQuarantine, ReportIncident
from coldset.domain.model import QUARANTINE_INCIDENTS, Incident, IncidentKind, RoundKind, StopWork
from coldset.domain.rules import RuleContext, Verdict, misapplied, rule
from coldset.domain.rules.people import unit_for
from coldset.domain.rules.wording import local_time, person_name
from coldset.domain.state import State

MISFIRE = "misfire-quarantine"


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
    return sorted((i for i in state.incidents.values()
                   if i.firearm == firearm and i.kind in QUARANTINE_INCIDENTS),
                  key=lambda i: (_seq(i.id), i.at))


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
    reason = (f"A {what} was reported{' with ' + fid if fid else ''}: "
              + (f"{' and '.join(held)} {'is' if len(held) == 1 else 'are'} quarantined now, "
                 if held else "")
              + f"and firearm use on {_where(scope)} stops until a handler and the safety "
              "contact clear it.")
    if fid:
        reason += (f" {fid} returns to service only after a recorded barrel inspection and "
                   "function check (an inspection with \"barrel clear\" and \"function "
                   "check\" ticked), then a release by a handler and the safety contact.")
    quarantine = ([f"firearm:{fid}"] if fid else []) + ([f"lot:{lot}"] if lot else [])
    return [ctx.stop_work(reason, scope=scope, quarantine=quarantine)]


def _release(ctx: RuleContext, cmd: ReleaseQuarantine) -> list[Verdict]:
    state = ctx.state
    f = state.firearms.get(cmd.firearm or "")
    if f is None or not f.quarantined:
        return []
    incidents = misfire_incidents(state, f.id)
    if not incidents:
        return []   # quarantined for another reason (a live round): not this rule's
    last = incidents[-1]
    since = sorted((i for i in state.inspections.values()
                    if i.firearm == f.id and _seq(i.id) > _seq(last.id)),
                   key=lambda i: _seq(i.id))
    missing = []
    if not since or not since[-1].barrel_clear:
        missing.append("a barrel inspection showing the barrel clear")
    if not any(i.function_check for i in since):
        missing.append("a function check")
    if not missing:
        return []
    return [ctx.block(f"{f.id} was quarantined after the {_incident_label(last.kind)} "
                      f"{last.id} at {local_time(state, last.at)}; it returns to service only "
                      f"after {' and '.join(missing)} recorded since then (an inspection with "
                      "\"barrel clear\" and \"function check\" ticked).")]


def _in_use(ctx: RuleContext, cmd: Issue | Load) -> list[Verdict]:
    state = ctx.state
    f = state.firearms.get(cmd.firearm)
    if f is not None and f.quarantined:
        incidents = misfire_incidents(state, f.id)
        if incidents:
            last = incidents[-1]
            return [ctx.block(f"{f.id} is quarantined after the {_incident_label(last.kind)} "
                              f"{last.id} at {local_time(state, last.at)}: it is not issued or "
                              "loaded until a barrel inspection and function check are recorded "
                              "and a handler and the safety contact release it.")]
    stops = [s for s in _stops(state, unit_for(state, cmd)) if s.rule == MISFIRE]
    if not stops:
        return []
    sw = stops[0]
    inc = state.incidents.get(sw.incident or "")
    about = (f"the {_incident_label(inc.kind)} {inc.id}"
             + (f" with {inc.firearm}" if inc.firearm else "")) if inc else "an incident"
    return [ctx.block(f"Firearm use on {_where(sw.scope)} is stopped since "
                      f"{local_time(state, sw.at)} after {about}: nothing is issued or loaded "
                      f"until a handler and the safety contact clear stop-work "
                      f"{sw.id}.")]


@rule(MISFIRE, applies_to=(ReportIncident, ReleaseQuarantine, Issue, Load),
      source="The Crow (1993); Rust (2021, two misfires a week earlier, no action); "
             "Freedom's Path (2019)")
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


# ------------------------------------------------------------------ barrel-check-before-blanks


@rule("barrel-check-before-blanks", applies_to=(Load,),
      source="The Crow (1993, squib from a home-made dummy)")
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
    return [ctx.block(f"{f.id} has held dummy rounds since its last barrel check "
                      f"({local_time(state, f.barrel_checked_at)}): a dummy can leave a bullet "
                      "in the barrel. Check the barrel for an obstruction and record it (an "
                      "inspection with \"barrel clear\" ticked) before loading blanks from lot "
                      f"{lot.id}.")]


# ------------------------------------------------------------------ concern-answered


@rule("concern-answered", applies_to=(CheckAlerts, Issue),
      source="Rust (2021, complaints ignored, camera crew walked off); Cal. Labor Code §9153 "
             "(compliance contact)")
def concern_answered(ctx: RuleContext) -> list[Verdict]:
    """A concern is answered within the production's limit (else an alert); one still open on
    the next shoot day blocks issue until it is answered."""
    state = ctx.state
    tz = ZoneInfo(state.production.time_zone if state.production else "UTC")
    limit = timedelta(minutes=ctx.settings.concern_limit_min)
    blocks, alerts = [], []
    for c in sorted(state.open_concerns(), key=lambda c: (_seq(c.id), c.id)):
        try:
            raised = parse_rfc3339(c.at)
        except ValueError:
            continue
        who = "anonymously" if c.raised_by is None else f"by {person_name(state, c.raised_by)}"
        text = c.text if len(c.text) <= 80 else c.text[:77] + "..."
        about = f"safety concern {c.id} raised {who} at {local_time(state, c.at)} ({text!r})"
        if isinstance(ctx.command, Issue) and raised.astimezone(tz).date() < ctx.today:
            blocks.append(about)
        elif ctx.now - raised > limit:
            alerts.append(ctx.alert(
                f"The {about} has not been answered within {ctx.settings.concern_limit_min} "
                "minutes: the compliance contact must acknowledge it (acknowledge_concern). "
                "Unanswered, it blocks the next shoot day's first issue.",
                subject=f"concern:{c.id}", roles=("safety_contact",)))
    if blocks:
        return [ctx.block(f"Unanswered from an earlier day: {'; '.join(blocks)}. No firearm is "
                          "issued until the compliance contact answers it "
                          "(acknowledge_concern).")]
    return alerts


# ------------------------------------------------------------------ stop-work


@rule("stop-work", applies_to=(Issue, Load), source="Safety Bulletin #1; general set practice")
def stop_work(ctx: RuleContext) -> list[Verdict]:
    """While a stop-work covers the unit (or the production), no firearm is issued or loaded
    until a handler and the safety contact clear it.

    Calling stop-work (``call_stop_work``) records the stop itself, attributed to this rule.
    Stops from a misfire are enforced by ``misfire-quarantine``, which names the incident.
    """
    cmd, state = ctx.command, ctx.state
    if not isinstance(cmd, Issue | Load):
        raise misapplied(ctx)
    stops = [s for s in _stops(state, unit_for(state, cmd)) if s.rule != MISFIRE]
    if not stops:
        return []
    parts = [f"{_where(s.scope)} since {local_time(state, s.at)} (called by "
             f"{person_name(state, s.called_by)}: {s.reason!r}; {s.id})" for s in stops]
    return [ctx.block(f"Firearm use is stopped on {'; '.join(parts)}. No firearm is issued or "
                      "loaded until a handler and the safety contact clear it.")]
