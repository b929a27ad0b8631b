"""Deciders for containers, handling, incidents, concerns and counts (see :mod:`.decide`)."""

from __future__ import annotations

from collections import Counter

from coldset.domain import commands as c
from coldset.domain.decide_common import (
    Rejection,
    decides,
    firing,
    place_of,
    require_holder,
    resolves_discrepancy,
    safety_confirmers,
    stale,
)
from coldset.domain.events import Event, event
from coldset.domain.model import Custody
from coldset.domain.state import State


def _norm(caliber: str) -> str:
    return "".join(ch for ch in caliber.lower() if ch.isalnum())


# ------------------------------------------------------------------ containers


@decides(c.LockContainer)
def _lock(s: State, cmd: c.LockContainer, at: str, i: int) -> list[Event]:
    box = s.containers[cmd.container]
    if box.locked:
        raise stale(f"container {box.id} is already locked")
    # nothing named: what you hold goes in, unless the container was opened leaving its
    # contents inside (then what you took out stays with you)
    firearms = (
        cmd.firearms
        if cmd.firearms is not None
        else []
        if box.left_inside
        else [f for f in s.held_by(cmd.actor) if not s.firearms[f].disposed]
    )
    for fid in firearms:
        require_holder(s, fid, cmd.actor, "lock it away")
    rounds = (
        dict(cmd.rounds)
        if cmd.rounds is not None
        else ({} if box.left_inside else s.rounds_held(cmd.actor))
    )
    for lid, n in rounds.items():
        have = s.lots[lid].where.get(f"person:{cmd.actor}", 0)
        if have < n:
            raise stale(f"{cmd.actor} holds {have} rounds of lot {lid}, not {n}")
    return [
        event(
            "container_locked",
            container=box.id,
            by=cmd.actor,
            firearms=sorted(set(firearms)),
            rounds=rounds,
        )
    ]


@decides(c.UnlockContainer)
def _unlock(s: State, cmd: c.UnlockContainer, at: str, i: int) -> list[Event]:
    box = s.containers[cmd.container]
    if not box.locked:
        raise stale(
            f"container {box.id} is already open (opened by {box.opened_by} at {box.opened_at})"
        )
    return [
        event("container_unlocked", container=box.id, by=cmd.actor, took_all=not cmd.leave_inside)
    ]


def _open_box(s: State, container: str, doing: str) -> None:
    box = s.containers[container]
    if box.locked:
        raise stale(f"container {box.id} is locked: unlock it before you {doing}")


def _some(cmd: c.TakeFromContainer | c.PutInContainer, doing: str) -> None:
    if not cmd.firearms and not cmd.rounds:
        raise Rejection("malformed", f"name the firearms or rounds to {doing}")
    if len(set(cmd.firearms)) != len(cmd.firearms):
        raise Rejection("malformed", "a firearm is named twice")


@decides(c.TakeFromContainer)
def _take(s: State, cmd: c.TakeFromContainer, at: str, i: int) -> list[Event]:
    _some(cmd, "take out")
    _open_box(s, cmd.container, "take anything out")
    for fid in cmd.firearms:
        f = s.firearms[fid]
        if f.custody != Custody("container", cmd.container):
            raise stale(f"firearm {fid} is not in container {cmd.container}")
    for lid, n in cmd.rounds.items():
        have = s.lots[lid].where.get(f"container:{cmd.container}", 0)
        if have < n:
            raise stale(f"container {cmd.container} holds {have} rounds of lot {lid}, not {n}")
    return [
        event(
            "taken_from_container",
            container=cmd.container,
            by=cmd.actor,
            firearms=list(cmd.firearms),
            rounds=dict(cmd.rounds),
        )
    ]


@decides(c.PutInContainer)
def _put(s: State, cmd: c.PutInContainer, at: str, i: int) -> list[Event]:
    _some(cmd, "put in")
    _open_box(s, cmd.container, "put anything in")
    for fid in cmd.firearms:
        require_holder(s, fid, cmd.actor, "put it in")
    for lid, n in cmd.rounds.items():
        have = s.lots[lid].where.get(f"person:{cmd.actor}", 0)
        if have < n:
            raise stale(f"{cmd.actor} holds {have} rounds of lot {lid}, not {n}")
    return [
        event(
            "put_in_container",
            container=cmd.container,
            by=cmd.actor,
            firearms=list(cmd.firearms),
            rounds=dict(cmd.rounds),
        )
    ]


# ------------------------------------------------------------------ handling


@decides(c.Inspect)
def _inspect(s: State, cmd: c.Inspect, at: str, i: int) -> list[Event]:
    f = s.firearms[cmd.firearm]
    require_holder(s, f.id, cmd.actor, "inspect it")
    if len(cmd.chambers) != f.capacity:
        raise Rejection(
            "malformed",
            f"chambers: firearm {f.id} has {f.capacity} positions "
            f"(chambers, or magazine + chamber); the inspection lists "
            f"{len(cmd.chambers)}",
        )
    return [
        event(
            "firearm_inspected",
            inspection=f"insp-{i}",
            firearm=f.id,
            by=cmd.actor,
            chambers=list(cmd.chambers),
            barrel_clear=cmd.barrel_clear,
            function_check=cmd.function_check,
            witnesses=sorted({x.person for x in cmd.confirmations}),
        )
    ]


@decides(c.Issue)
def _issue(s: State, cmd: c.Issue, at: str, i: int) -> list[Event]:
    f = s.firearms[cmd.firearm]
    if f.custody.kind == "person" and f.custody.ref == cmd.to:
        raise Rejection("duplicate", f"firearm {f.id} is already issued to {cmd.to}")
    require_holder(s, f.id, cmd.actor, "issue it")
    if cmd.to == cmd.actor:
        raise stale(f"{cmd.actor} already holds {f.id}; issue it to a performer")
    if f.quarantined:
        raise stale(f"firearm {f.id} is quarantined")
    return [event("firearm_issued", firearm=f.id, to=cmd.to, by=cmd.actor, scene=cmd.scene)]


@decides(c.Collect)
def _collect(s: State, cmd: c.Collect, at: str, i: int) -> list[Event]:
    f = s.firearms[cmd.firearm]
    if f.disposed:
        raise stale(f"firearm {f.id} was returned on {f.disposition_date}")
    if f.custody.kind == "container":
        raise stale(f"firearm {f.id} is locked in {f.custody.ref}, not out with anyone")
    if f.custody.ref == cmd.actor:
        raise Rejection("duplicate", f"firearm {f.id} is already with {cmd.actor}")
    return [event("firearm_collected", firearm=f.id, by=cmd.actor, holder=f.custody.ref)]


@decides(c.Transfer)
def _transfer(s: State, cmd: c.Transfer, at: str, i: int) -> list[Event]:
    require_holder(s, cmd.firearm, cmd.actor, "pass it on")
    if cmd.to == cmd.actor:
        raise stale(f"{cmd.actor} already holds {cmd.firearm}")
    return [event("firearm_transferred", firearm=cmd.firearm, holder=cmd.actor, to=cmd.to)]


def _out_of_lockup(s: State, fid: str, doing: str) -> None:
    f = s.firearms[fid]
    if f.disposed:
        raise stale(f"firearm {fid} was returned on {f.disposition_date}")
    if f.custody.kind == "container":
        raise stale(f"firearm {fid} is locked in {f.custody.ref}: unlock it before you {doing}")


def _positions(s: State, fid: str, positions: list[int]) -> None:
    cap = s.firearms[fid].capacity
    bad = [p for p in positions if p > cap]
    if bad:
        raise Rejection(
            "malformed",
            f"positions: firearm {fid} has positions 1 to {cap}; "
            f"there is no {', '.join(map(str, bad))}",
        )


@decides(c.Load)
def _load(s: State, cmd: c.Load, at: str, i: int) -> list[Event]:
    f, lot = s.firearms[cmd.firearm], s.lots[cmd.lot]
    _out_of_lockup(s, f.id, "load it")
    if not firing(s, f.id):
        raise stale(f"firearm {f.id} is a {f.type.value.replace('_', ' ')} and cannot be loaded")
    if f.quarantined:
        raise stale(
            f"firearm {f.id} is quarantined: nothing is loaded into it until a handler "
            "and the safety contact release it from quarantine"
        )
    if lot.quarantined:
        raise stale(
            f"lot {lot.id} is quarantined: none of its rounds is loaded until a "
            "handler and the safety contact release it from quarantine"
        )
    _positions(s, f.id, cmd.positions)
    if _norm(lot.caliber) != _norm(f.caliber):
        raise stale(f"lot {lot.id} is {lot.caliber}; firearm {f.id} takes {f.caliber}")
    full = [p for p in cmd.positions if f.chambers[p - 1] is not None]
    if full:
        raise stale(
            f"firearm {f.id}: position {', '.join(map(str, full))} already holds a "
            "round or case; unload first"
        )
    place = place_of(s, cmd.container, cmd.actor)
    have = lot.where.get(place, 0)
    if have < len(cmd.positions):
        raise stale(f"only {have} rounds of lot {lot.id} at {place}, {len(cmd.positions)} needed")
    return [
        event(
            "firearm_loaded",
            firearm=f.id,
            lot=lot.id,
            positions=sorted(cmd.positions),
            place=place,
            scene=cmd.scene,
            shot=cmd.shot,
        )
    ]


@decides(c.Unload)
def _unload(s: State, cmd: c.Unload, at: str, i: int) -> list[Event]:
    f = s.firearms[cmd.firearm]
    _out_of_lockup(s, f.id, "unload it")
    if not f.loaded:
        raise stale(f"firearm {f.id} is not loaded")
    rounds: Counter[str] = Counter()
    cases: Counter[str] = Counter()
    for ch in f.chambers:
        if ch is not None:
            (cases if ch.spent else rounds)[ch.lot] += 1
    return [
        event(
            "firearm_unloaded",
            firearm=f.id,
            place=place_of(s, cmd.container, cmd.actor),
            rounds=dict(sorted(rounds.items())),
            cases=dict(sorted(cases.items())),
        )
    ]


@decides(c.Discharge)
def _discharge(s: State, cmd: c.Discharge, at: str, i: int) -> list[Event]:
    f = s.firearms[cmd.firearm]
    _out_of_lockup(s, f.id, "fire it")
    _positions(s, f.id, cmd.positions)
    rounds: Counter[str] = Counter()
    for p in cmd.positions:
        ch = f.chambers[p - 1]
        if ch is None or ch.spent:
            raise stale(
                f"firearm {f.id}: position {p} holds no unfired round on record "
                "(if it fired, report an unexpected discharge)"
            )
        rounds[ch.lot] += 1
    return [
        event(
            "rounds_fired",
            firearm=f.id,
            positions=sorted(cmd.positions),
            rounds=dict(sorted(rounds.items())),
            scene=cmd.scene,
            shot=cmd.shot,
        )
    ]


# ------------------------------------------------------------------ incidents


def _unit_of(s: State, unit: str | None, firearm: str | None) -> str | None:
    return unit or (s.firearm_unit(firearm) if firearm else None)


@decides(c.ReportIncident)
def _incident(s: State, cmd: c.ReportIncident, at: str, i: int) -> list[Event]:
    return [
        event(
            "incident_reported",
            incident=f"inc-{i}",
            kind=cmd.kind,
            by=cmd.actor,
            firearm=cmd.firearm,
            lot=cmd.lot,
            unit=_unit_of(s, cmd.unit, cmd.firearm),
            description=cmd.description,
        )
    ]


@decides(c.ReportLiveRound)
def _live_round(s: State, cmd: c.ReportLiveRound, at: str, i: int) -> list[Event]:
    return [
        event(
            "incident_reported",
            incident=f"inc-{i}",
            kind="live_round_found",
            by=cmd.actor,
            firearm=cmd.firearm,
            lot=cmd.lot,
            unit=_unit_of(s, cmd.unit, cmd.firearm),
            description=cmd.description,
        )
    ]


@decides(c.CallStopWork)
def _call_stop_work(s: State, cmd: c.CallStopWork, at: str, i: int) -> list[Event]:
    return [
        event(
            "stop_work_called",
            stop_work=f"sw-{i}",
            scope=cmd.unit or "production",
            reason=cmd.reason,
            by=cmd.actor,
            rule="stop-work",
        )
    ]


@decides(c.ClearStopWork)
def _clear_stop_work(s: State, cmd: c.ClearStopWork, at: str, i: int) -> list[Event]:
    sw = s.stop_works[cmd.stop_work]
    if not sw.open:
        raise stale(f"stop-work {sw.id} was already cleared at {sw.cleared_at}")
    return [
        event(
            "stop_work_cleared",
            stop_work=sw.id,
            by=sorted({cmd.actor, *(x.person for x in cmd.confirmations)}),
        )
    ]


@decides(c.ReleaseQuarantine)
def _release(s: State, cmd: c.ReleaseQuarantine, at: str, i: int) -> list[Event]:
    if cmd.firearm is not None:
        subject, quarantined = f"firearm:{cmd.firearm}", s.firearms[cmd.firearm].quarantined
    else:
        assert cmd.lot is not None
        subject, quarantined = f"lot:{cmd.lot}", s.lots[cmd.lot].quarantined
    if not quarantined:
        raise stale(f"{subject.replace(':', ' ')} is not quarantined")
    return [event("quarantine_released", subject=subject)]


@decides(c.RaiseConcern)
def _raise_concern(s: State, cmd: c.RaiseConcern, at: str, i: int) -> list[Event]:
    by = None if cmd.actor == c.ANONYMOUS else cmd.actor
    return [
        event("concern_raised", concern=f"concern-{i}", text=cmd.text, raised_by=by, unit=cmd.unit)
    ]


@decides(c.AcknowledgeConcern)
def _ack_concern(s: State, cmd: c.AcknowledgeConcern, at: str, i: int) -> list[Event]:
    con = s.concerns[cmd.concern]
    if con.answered_at:
        raise stale(f"concern {con.id} was already answered at {con.answered_at}")
    # answering the concern resolves its concern-answered alert (raised when it was raised)
    resolved = [
        event(
            "alert_resolved",
            alert=a.id,
            by=cmd.actor,
            resolution=f"concern answered: {cmd.answer}"[:500],
        )
        for a in s.open_alerts()
        if a.rule == "concern-answered" and a.subject == f"concern:{con.id}"
    ]
    return [
        event("concern_acknowledged", concern=con.id, by=cmd.actor, answer=cmd.answer),
        *resolved,
    ]


@decides(c.ResolveAlert)
def _resolve_alert(s: State, cmd: c.ResolveAlert, at: str, i: int) -> list[Event]:
    a = s.alerts[cmd.alert]
    if a.resolved_at:
        raise stale(f"alert {a.id} was already resolved at {a.resolved_at}")
    return [event("alert_resolved", alert=a.id, by=cmd.actor, resolution=cmd.resolution)]


@decides(c.CheckAlerts)
def _check_alerts(s: State, cmd: c.CheckAlerts, at: str, i: int) -> list[Event]:
    return []  # the alerts come from the time-based rules' verdicts


@decides(c.ReconcileCounts)
def _reconcile(s: State, cmd: c.ReconcileCounts, at: str, i: int) -> list[Event]:
    """Any handler counts; only the armorer resolves a difference, with an explanation and
    another person, the safety contact, confirming (check_permission refuses the rest)."""
    lot = s.lots[cmd.lot]
    expected = lot.counts.expected_stock
    safety = safety_confirmers(s, cmd)
    resolved = resolves_discrepancy(s, cmd) and s.has_role(cmd.actor, "armorer") and bool(safety)
    delta = s.write_off(lot.id, cmd.counted - expected, cmd.actor) if resolved else {}
    return [
        event(
            "counts_reconciled",
            lot=lot.id,
            counted=cmd.counted,
            expected=expected,
            cases_recovered=cmd.cases_recovered,
            explanation=cmd.explanation,
            resolved=resolved,
            by=cmd.actor,
            confirmed_by=safety if resolved else [],
            where_delta=delta,
        )
    ]
