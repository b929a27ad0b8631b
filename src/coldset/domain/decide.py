"""From a command to its events, with the checks that are not safety rules.

The service calls, in order:

1. :func:`check_references` — every id the command names exists (or, for the
   thing it creates, does not exist yet). ``unknown-id`` / ``duplicate``.
2. :func:`check_permission` — the actor's role may give this command at all
   (setup and records; handling commands are left to the rules, e.g.
   ``armorer-only-handoff``). ``wrong-role``.
3. (PINs, then the safety rules: :func:`coldset.domain.rules.evaluate`.)
4. :func:`events_for` — the events the command produces, after checking the
   state allows it at all (a firearm already issued, a container already open:
   ``stale-state``).
5. :func:`consequences` — the events the verdicts add: alerts, stop-works,
   quarantines, the override record.

Generated ids come from the entry's ledger index, so they are deterministic.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator

from coldset.domain import commands as c

# the deciders live in two modules to keep each small; importing them registers them
from coldset.domain import decide_handling as _handling  # noqa: F401
from coldset.domain import decide_setup as _setup  # noqa: F401
from coldset.domain.decide_common import (
    DECIDERS,
    RECORDED_REJECTIONS,
    Rejection,
    resolves_discrepancy,
    safety_confirmers,
)
from coldset.domain.events import Event, event
from coldset.domain.model import HANDLER
from coldset.domain.rules import Verdict
from coldset.domain.state import State

__all__ = [
    "RECORDED_REJECTIONS",
    "Rejection",
    "check_permission",
    "check_references",
    "consequences",
    "events_for",
]


# ------------------------------------------------------------------ references

_TABLES = {
    "firearm": "firearms",
    "lot": "lots",
    "container": "containers",
    "unit": "units",
    "set": "sets",
    "shoot_day": "shoot_days",
    "scene": "scenes",
    "person": "people",
    "performer": "people",
    "to": "people",
    "stop_work": "stop_works",
    "concern": "concerns",
    "alert": "alerts",
}
_CREATES = {
    "add_unit": "unit",
    "add_set": "set",
    "add_shoot_day": "shoot_day",
    "add_person": "person",
    "add_container": "container",
    "receive_firearm": "firearm",
    "receive_lot": "lot",
    "schedule_scene": "scene",
}


@functools.cache
def _ref_fields(cls: type[c.CommandBase]) -> tuple[tuple[tuple[str, str], ...], tuple[str, ...]]:
    """The (field, table) pairs and the people-list fields a command class has (computed
    once per class: asking a model for a field it lacks is slow)."""
    fields = cls.model_fields
    created = next((_CREATES.get(t) for t, k in c.COMMAND_TYPES.items() if k is cls), None)
    single = tuple((n, t) for n, t in _TABLES.items() if n in fields and n != created)
    lists = tuple(n for n in ("cast_crew", "attendees", "absent") if n in fields)
    return single, lists


def _refs(cmd: c.CommandBase) -> Iterator[tuple[str, str, str]]:
    """(field, table, id) for every id the command refers to."""
    single, lists = _ref_fields(type(cmd))
    for name, table in single:
        value = getattr(cmd, name)
        if isinstance(value, str):
            yield name, table, value
    for name in lists:
        for i, pid in enumerate(getattr(cmd, name) or ()):
            yield f"{name}.{i}", "people", pid
    if isinstance(cmd, c.LockContainer):
        for i, fid in enumerate(cmd.firearms or ()):
            yield f"firearms.{i}", "firearms", fid
        for lid in cmd.rounds or {}:
            yield f"rounds.{lid}", "lots", lid
    if isinstance(cmd, c.ScheduleScene):
        for i, pf in enumerate(cmd.firearms):
            yield f"firearms.{i}.firearm", "firearms", pf.firearm
    for i, conf in enumerate(c.confirmers(cmd)):
        yield f"confirmations.{i}.person", "people", conf.person


def check_references(state: State, cmd: c.CommandBase) -> None:
    new_person = (
        cmd.actor
        if isinstance(cmd, c.CreateProduction)
        else (cmd.person if isinstance(cmd, c.AddPerson) else None)
    )
    if new_person in c.RESERVED_PEOPLE:
        raise Rejection(
            "malformed",
            f"person id {new_person!r} is reserved "
            f"({', '.join(sorted(c.RESERVED_PEOPLE))}); choose another",
        )
    if isinstance(cmd, c.CreateProduction):
        if state.production is not None:
            raise Rejection("duplicate", f"production {cmd.production!r} already exists")
        return
    if state.production is None:
        raise Rejection("unknown-id", f"production: no production {cmd.production!r}")
    if cmd.actor not in state.people and not (
        (isinstance(cmd, c.RaiseConcern) and cmd.actor == c.ANONYMOUS)
        or (isinstance(cmd, c.CheckAlerts) and cmd.actor == c.SYSTEM)
    ):
        raise Rejection("unknown-id", f"actor: no person {cmd.actor!r} on this production")
    missing = [
        f"{f}: no {t.rstrip('s').replace('_', ' ')} {v!r}"
        for f, t, v in _refs(cmd)
        if v not in getattr(state, t)
    ]
    if missing:
        raise Rejection("unknown-id", "; ".join(missing))
    created = _CREATES.get(cmd.command_type)
    if created:
        value = getattr(cmd, created)
        if value in getattr(state, _TABLES[created]):
            raise Rejection(
                "duplicate",
                f"{created}: {value!r} already exists on this production (already submitted?)",
            )


# ------------------------------------------------------------------ permissions

_SETUP = ("admin", "producer")
_DAY = ("first_ad", HANDLER, "producer")
PERMISSIONS: dict[str, tuple[str, ...]] = {
    "add_unit": _SETUP,
    "add_set": (*_SETUP, "first_ad"),
    "add_shoot_day": (*_SETUP, "first_ad"),
    "add_person": _SETUP,
    "grant_role": _SETUP,
    "revoke_role": _SETUP,
    "record_credential": (*_SETUP, "safety_contact"),
    "reset_pin": (HANDLER, "admin"),
    "add_container": (HANDLER, "admin"),
    "receive_firearm": (HANDLER,),
    "return_firearm": (HANDLER,),
    "receive_lot": (HANDLER,),
    "return_lot": (HANDLER,),
    "verify_dummy_lot": (HANDLER,),
    "check_in": (HANDLER,),
    "check_out": (HANDLER,),
    "record_training": (HANDLER,),
    "reconcile_counts": (HANDLER,),
    "take_from_container": (HANDLER,),
    "schedule_scene": (*_SETUP, "first_ad", HANDLER),
    "hold_safety_meeting": ("first_ad", HANDLER, "safety_contact"),
    "wrap_scene": ("first_ad", HANDLER),
    "acknowledge_concern": ("safety_contact", "producer"),
    "start_meal_break": _DAY,
    "end_meal_break": _DAY,
    "wrap_day": _DAY,
}


def _names(roles: tuple[str, ...]) -> str:
    return " or ".join(r.replace("_", " ") for r in roles)


def _check_discharger(state: State, cmd: c.Discharge) -> None:
    """Only the person holding a firearm, or a handler, records that it fired: nobody
    else can know which chambers went off (issue 15 #5). Anyone can still report an
    unexpected discharge as an incident."""
    if state.is_handler(cmd.actor):
        return
    f = state.firearms[cmd.firearm]
    holder = f.custody.ref if f.custody.kind == "person" and not f.disposed else None
    if holder == cmd.actor:
        return
    instead = (
        "If it fired when it should not have, report an unexpected discharge "
        "(report_incident) instead: anyone can"
    )
    if holder is None:
        raise Rejection(
            "wrong-role",
            f"Only a handler (armorer, assistant armorer or "
            f"property master) can record a discharge of {f.id}, and nobody holds "
            f"{f.id} now. {instead}",
        )
    p = state.people.get(holder)
    raise Rejection(
        "wrong-role",
        f"Only {p.name if p else holder}, who holds {f.id}, or a "
        f"handler (armorer, assistant armorer or property master) can record its "
        f"discharge. {instead}",
    )


def check_permission(state: State, cmd: c.CommandBase) -> None:
    roles = PERMISSIONS.get(cmd.command_type)
    if roles and not any(state.has_role(cmd.actor, r) for r in roles):
        raise Rejection(
            "wrong-role",
            f"{cmd.command_type.replace('_', ' ')} needs the role "
            f"{_names(roles)}; {cmd.actor} has none of them",
        )
    if (
        isinstance(cmd, c.SetPin)
        and cmd.actor != cmd.person
        and not state.has_role(cmd.actor, "admin")
    ):
        raise Rejection(
            "wrong-role",
            "only the person themselves (or an admin) sets a PIN; "
            "a handler can reset it with reset_pin",
        )
    if isinstance(cmd, c.SignOffPlan) and not state.has_role(cmd.actor, cmd.as_role.value):
        raise Rejection(
            "wrong-role", f"{cmd.actor} cannot sign off as {cmd.as_role.value.replace('_', ' ')}"
        )
    if (
        isinstance(cmd, c.RecordConsent)
        and cmd.actor != cmd.performer
        and cmd.performer not in {x.person for x in cmd.confirmations}
    ):
        raise Rejection(
            "wrong-role",
            "consent comes from the performer: they give it "
            "themselves or confirm it with their PIN",
        )
    if (
        isinstance(cmd, c.WithdrawConsent)
        and cmd.actor != cmd.performer
        and (cmd.performer not in {x.person for x in cmd.confirmations})
    ):
        raise Rejection(
            "wrong-role",
            "only the performer withdraws their consent: they do "
            "it themselves or confirm it with their PIN",
        )
    if isinstance(cmd, c.RecordTraining) and not state.has_role(cmd.performer, "performer"):
        raise Rejection("wrong-role", f"{cmd.performer} is not a performer on this production")
    if isinstance(cmd, c.ResolveAlert):
        a = state.alerts[cmd.alert]
        if not any(state.has_role(cmd.actor, r) for r in (*a.roles, "safety_contact", "admin")):
            raise Rejection(
                "wrong-role", f"alert {a.id} is resolved by {_names((*a.roles, 'safety_contact'))}"
            )
    if isinstance(cmd, c.ReconcileCounts) and resolves_discrepancy(state, cmd):
        if not state.has_role(cmd.actor, "armorer"):
            raise Rejection(
                "wrong-role",
                f"resolving the count discrepancy of lot {cmd.lot} "
                f"is the armorer's, with a recorded explanation and the safety "
                f"contact confirming; {cmd.actor} is not the armorer. Count without "
                "an explanation to record the difference, and call the armorer",
            )
        if not safety_confirmers(state, cmd):
            raise Rejection(
                "wrong-role",
                "the safety contact who confirms a resolved count "
                f"must be someone other than the armorer ({cmd.actor}): two people",
            )
    if isinstance(cmd, c.Discharge):
        _check_discharger(state, cmd)
    if isinstance(cmd, c.Inspect) and not state.is_handler(cmd.actor):
        p = state.people.get(cmd.actor)
        raise Rejection(
            "wrong-role",
            "Only a handler (armorer, assistant armorer or property "
            "master) records an inspection: the show-clear, barrel check and "
            "function check that issuing and loading rely on. "
            f"{p.name if p else cmd.actor} is not one; call the handler",
        )
    if isinstance(cmd, c.ClearStopWork | c.ReleaseQuarantine):
        people = {cmd.actor, *(x.person for x in cmd.confirmations)}
        for role in (HANDLER, "safety_contact"):
            if not any(state.has_role(p, role) for p in people):
                raise Rejection(
                    "wrong-role",
                    f"{cmd.command_type.replace('_', ' ')} needs "
                    f"a {role.replace('_', ' ')} (as actor or confirming with "
                    "their PIN)",
                )


# ------------------------------------------------------------------ events


def events_for(state: State, cmd: c.CommandBase, at: str, index: int) -> list[Event]:
    """The events of ``cmd`` (raises :class:`Rejection` for stale state)."""
    return DECIDERS[type(cmd)](state, cmd, at, index)


# ------------------------------------------------------------------ consequences


def consequences(
    state: State, cmd: c.CommandBase, verdicts: list[Verdict], overridden: list[Verdict], index: int
) -> list[Event]:
    """Events the verdicts add to an allowed command: alerts, stop-works, overrides."""
    out: list[Event] = []
    incident = f"inc-{index}" if isinstance(cmd, c.ReportIncident | c.ReportLiveRound) else None
    seen_quarantine: set[str] = set()
    for n, v in enumerate(verdicts):
        if v.kind == "alert":
            if any(a.rule == v.rule and a.subject == v.subject for a in state.open_alerts()):
                continue  # already raised and still open
            out.append(
                event(
                    "alert_raised",
                    alert=f"alert-{index}-{n}",
                    rule=v.rule,
                    reason=v.reason,
                    source=v.source,
                    subject=v.subject,
                    roles=list(v.alert_roles),
                )
            )
        elif v.kind == "stop_work":
            out.append(
                event(
                    "stop_work_called",
                    stop_work=f"sw-{index}-{n}",
                    scope=v.scope or "production",
                    reason=v.reason,
                    by=cmd.actor,
                    rule=v.rule,
                    incident=incident,
                )
            )
            for subject in v.quarantine:
                kind, _, ref = subject.partition(":")
                table = state.firearms if kind == "firearm" else state.lots
                entity = table.get(ref)
                if entity is None or entity.quarantined or subject in seen_quarantine:
                    continue
                seen_quarantine.add(subject)
                out.append(event("quarantined", subject=subject, reason=v.rule))
    if overridden:
        assert cmd.override is not None
        out.append(
            event(
                "override_recorded",
                override=f"ovr-{index}",
                rules=sorted({v.rule for v in overridden}),
                reason=cmd.override.reason,
                by=cmd.actor,
                confirmers=[x.person for x in cmd.override.confirmers],
                command=cmd.command_type,
            )
        )
    return out
