"""Deciders for setup, inventory, people, scenes and the day (see :mod:`.decide`)."""

from __future__ import annotations

from coldset.domain import commands as c
from coldset.domain.decide_common import (
    Rejection,
    decides,
    place_of,
    require_holder,
    settings_dict,
    stale,
)
from coldset.domain.events import Event, event
from coldset.domain.model import ShootDay
from coldset.domain.shootday import call_at, planned_wrap_at
from coldset.domain.state import State


@decides(c.CreateProduction)
def _create_production(s: State, cmd: c.CreateProduction, at: str, i: int) -> list[Event]:
    # ``origin`` is filled in by the service, which knows the install name.
    return [
        event(
            "production_created",
            production=cmd.production,
            title=cmd.title,
            origin="",
            time_zone=cmd.time_zone,
            exemption=cmd.exemption.value,
            settings=settings_dict(cmd),
            person=cmd.actor,
            name=cmd.actor_name,
            has_pin=cmd.pin is not None,
        )
    ]


@decides(c.AddUnit)
def _add_unit(s: State, cmd: c.AddUnit, at: str, i: int) -> list[Event]:
    return [event("unit_added", unit=cmd.unit, name=cmd.name)]


@decides(c.AddSet)
def _add_set(s: State, cmd: c.AddSet, at: str, i: int) -> list[Event]:
    return [event("set_added", set=cmd.set, unit=cmd.unit, name=cmd.name, location=cmd.location)]


@decides(c.AddShootDay)
def _add_shoot_day(s: State, cmd: c.AddShootDay, at: str, i: int) -> list[Event]:
    new = ShootDay(cmd.shoot_day, cmd.date.isoformat(), call=cmd.call, wrap=cmd.wrap)
    start, end = call_at(s, new), planned_wrap_at(s, new)
    for d in sorted(s.shoot_days.values(), key=lambda d: d.id):
        if call_at(s, d) < end and start < planned_wrap_at(s, d):
            raise stale(
                f"shoot day {d.id} ({d.date}, call {d.call}, wrap {d.wrap}) already "
                f"covers part of {cmd.date.isoformat()} {cmd.call} to {cmd.wrap}: "
                "shoot days do not overlap"
            )
    return [
        event(
            "shoot_day_added",
            shoot_day=cmd.shoot_day,
            date=cmd.date.isoformat(),
            call=cmd.call,
            wrap=cmd.wrap,
        )
    ]


@decides(c.AddPerson)
def _add_person(s: State, cmd: c.AddPerson, at: str, i: int) -> list[Event]:
    return [
        event(
            "person_added",
            person=cmd.person,
            name=cmd.name,
            roles=sorted({r.value for r in cmd.roles}),
            has_pin=cmd.pin is not None,
        )
    ]


@decides(c.GrantRole)
def _grant_role(s: State, cmd: c.GrantRole, at: str, i: int) -> list[Event]:
    if cmd.role in s.people[cmd.person].roles:
        raise stale(f"{cmd.person} already has the role {cmd.role.value}")
    return [event("role_granted", person=cmd.person, role=cmd.role.value)]


@decides(c.RevokeRole)
def _revoke_role(s: State, cmd: c.RevokeRole, at: str, i: int) -> list[Event]:
    if cmd.role not in s.people[cmd.person].roles:
        raise stale(f"{cmd.person} does not have the role {cmd.role.value}")
    return [event("role_revoked", person=cmd.person, role=cmd.role.value)]


@decides(c.RecordCredential)
def _record_credential(s: State, cmd: c.RecordCredential, at: str, i: int) -> list[Event]:
    return [
        event(
            "credential_recorded",
            person=cmd.person,
            kind=cmd.kind.value,
            number=cmd.number,
            issuer=cmd.issuer,
            expires=cmd.expires.isoformat(),
        )
    ]


@decides(c.SetPin)
def _set_pin(s: State, cmd: c.SetPin, at: str, i: int) -> list[Event]:
    if s.pin_is_locked(cmd.person):
        raise stale(
            f"{cmd.person}'s PIN is locked after too many wrong tries: a handler must reset it"
        )
    return [event("pin_set", person=cmd.person)]


@decides(c.ResetPin)
def _reset_pin(s: State, cmd: c.ResetPin, at: str, i: int) -> list[Event]:
    return [event("pin_reset", person=cmd.person, by=cmd.actor)]


@decides(c.AddContainer)
def _add_container(s: State, cmd: c.AddContainer, at: str, i: int) -> list[Event]:
    return [
        event(
            "container_added",
            container=cmd.container,
            kind=cmd.kind.value,
            name=cmd.name,
            unit=cmd.unit,
        )
    ]


# ------------------------------------------------------------------ inventory


def _intake_place(s: State, container: str, actor: str) -> str:
    """A locked container takes the thing in; an open one leaves it in the actor's hand."""
    return f"container:{container}" if s.containers[container].locked else f"person:{actor}"


@decides(c.ReceiveFirearm)
def _receive_firearm(s: State, cmd: c.ReceiveFirearm, at: str, i: int) -> list[Event]:
    if (cmd.manufacturer, cmd.serial) in s.serials:
        raise Rejection(
            "duplicate",
            f"a {cmd.manufacturer} with serial {cmd.serial} is already on this production",
        )
    return [
        event(
            "firearm_received",
            firearm=cmd.firearm,
            manufacturer=cmd.manufacturer,
            importer=cmd.importer,
            model=cmd.model,
            serial=cmd.serial,
            firearm_type=cmd.firearm_type.value,
            caliber=cmd.caliber,
            capacity=cmd.capacity,
            owner=cmd.owner,
            receipt_date=cmd.receipt_date.isoformat(),
            receipt_source=cmd.receipt_source,
            container=cmd.container,
            place=_intake_place(s, cmd.container, cmd.actor),
        )
    ]


@decides(c.ReturnFirearm)
def _return_firearm(s: State, cmd: c.ReturnFirearm, at: str, i: int) -> list[Event]:
    require_holder(s, cmd.firearm, cmd.actor, "return it")
    if s.firearms[cmd.firearm].loaded:
        raise stale(f"firearm {cmd.firearm} is loaded: unload it before it leaves")
    return [
        event(
            "firearm_returned",
            firearm=cmd.firearm,
            disposition_date=cmd.disposition_date.isoformat(),
            recipient=cmd.recipient,
        )
    ]


@decides(c.ReceiveLot)
def _receive_lot(s: State, cmd: c.ReceiveLot, at: str, i: int) -> list[Event]:
    return [
        event(
            "lot_received",
            lot=cmd.lot,
            kind=cmd.kind.value,
            caliber=cmd.caliber,
            maker=cmd.maker,
            count=cmd.count,
            load=cmd.load,
            dummy_source=cmd.dummy_source.value if cmd.dummy_source else None,
            receipt_date=cmd.receipt_date.isoformat(),
            receipt_source=cmd.receipt_source,
            container=cmd.container,
            place=_intake_place(s, cmd.container, cmd.actor),
        )
    ]


@decides(c.ReturnLot)
def _return_lot(s: State, cmd: c.ReturnLot, at: str, i: int) -> list[Event]:
    place = place_of(s, cmd.container, cmd.actor)
    have = s.lots[cmd.lot].where.get(place, 0)
    if have < cmd.count:
        raise stale(f"only {have} rounds of lot {cmd.lot} at {place}, not {cmd.count}")
    return [
        event("lot_returned", lot=cmd.lot, count=cmd.count, recipient=cmd.recipient, place=place)
    ]


@decides(c.VerifyDummyLot)
def _verify_dummy_lot(s: State, cmd: c.VerifyDummyLot, at: str, i: int) -> list[Event]:
    lot = s.lots[cmd.lot]
    if lot.kind.value != "dummy":
        raise stale(f"lot {lot.id} holds {lot.kind.value} rounds, not dummies")
    if cmd.sample > lot.counts.received:
        raise stale(
            f"lot {lot.id} has {lot.counts.received} rounds; {cmd.sample} cannot "
            "have been checked (sample is the number of rounds checked)"
        )
    return [
        event(
            "dummy_lot_verified",
            lot=cmd.lot,
            method=cmd.method.value,
            sample=cmd.sample,
            result=cmd.result,
            by=cmd.actor,
        )
    ]


# ------------------------------------------------------------------ people


@decides(c.CheckIn)
def _check_in(s: State, cmd: c.CheckIn, at: str, i: int) -> list[Event]:
    if s.sets[cmd.set].unit != cmd.unit:
        raise stale(f"set {cmd.set} belongs to unit {s.sets[cmd.set].unit}, not {cmd.unit}")
    task = cmd.task or None
    if s.checked_in.get(cmd.actor) == (cmd.unit, cmd.set) and s.duties.get(cmd.actor) == task:
        raise stale(f"{cmd.actor} is already checked in on {cmd.unit} / {cmd.set}")
    return [event("handler_checked_in", person=cmd.actor, unit=cmd.unit, set=cmd.set, task=task)]


@decides(c.CheckOut)
def _check_out(s: State, cmd: c.CheckOut, at: str, i: int) -> list[Event]:
    if s.checked_in.get(cmd.actor, ("",))[0] != cmd.unit:
        raise stale(f"{cmd.actor} is not checked in on {cmd.unit}")
    return [event("handler_checked_out", person=cmd.actor, unit=cmd.unit)]


@decides(c.RecordTraining)
def _record_training(s: State, cmd: c.RecordTraining, at: str, i: int) -> list[Event]:
    return [
        event(
            "training_recorded",
            performer=cmd.performer,
            weapon_type=cmd.weapon_type.value,
            by=cmd.actor,
        )
    ]


@decides(c.RecordConsent)
def _record_consent(s: State, cmd: c.RecordConsent, at: str, i: int) -> list[Event]:
    return [event("consent_recorded", performer=cmd.performer, weapon_type=cmd.weapon_type.value)]


@decides(c.WithdrawConsent)
def _withdraw_consent(s: State, cmd: c.WithdrawConsent, at: str, i: int) -> list[Event]:
    p = s.people[cmd.performer]
    if not any(x.weapon_type == cmd.weapon_type for x in p.consents):
        raise Rejection(
            "stale-state",
            f"{cmd.performer} has no consent on record for the "
            f"{cmd.weapon_type.value.replace('_', ' ')}: nothing to withdraw",
        )
    return [
        event(
            "consent_withdrawn",
            performer=cmd.performer,
            weapon_type=cmd.weapon_type.value,
            reason=cmd.reason or None,
        )
    ]


# ------------------------------------------------------------------ scenes


@decides(c.ScheduleScene)
def _schedule_scene(s: State, cmd: c.ScheduleScene, at: str, i: int) -> list[Event]:
    if s.sets[cmd.set].unit != cmd.unit:
        raise stale(f"set {cmd.set} belongs to unit {s.sets[cmd.set].unit}, not {cmd.unit}")
    planned = {p.firearm for p in cmd.firearms}
    for shot in cmd.shots:
        if shot.firearm is not None and shot.firearm not in planned:
            raise stale(
                f"shot {shot.number} names firearm {shot.firearm}, which is not in "
                "the scene's firearm plan"
            )
    return [
        event(
            "scene_scheduled",
            scene=cmd.scene,
            shoot_day=cmd.shoot_day,
            unit=cmd.unit,
            set=cmd.set,
            title=cmd.title,
            firearms=[p.model_dump(mode="json", exclude_none=True) for p in cmd.firearms],
            shots=[x.model_dump(mode="json", exclude_none=True) for x in cmd.shots],
            mitigations=[m.model_dump(mode="json", exclude_defaults=True) for m in cmd.mitigations],
            cast_crew=list(cmd.cast_crew),
        )
    ]


@decides(c.SignOffPlan)
def _sign_off(s: State, cmd: c.SignOffPlan, at: str, i: int) -> list[Event]:
    sc = s.scenes[cmd.scene]
    if cmd.as_role.value in sc.signoffs:
        raise stale(
            f"scene {sc.id} is already signed off as {cmd.as_role.value} by "
            f"{sc.signoffs[cmd.as_role.value]}"
        )
    return [event("plan_signed", scene=cmd.scene, role=cmd.as_role.value, person=cmd.actor)]


@decides(c.HoldSafetyMeeting)
def _meeting(s: State, cmd: c.HoldSafetyMeeting, at: str, i: int) -> list[Event]:
    both = sorted(set(cmd.attendees) & set(cmd.absent))
    if both:
        raise stale(f"listed both as attending and absent: {', '.join(both)}")
    return [
        event(
            "safety_meeting_held",
            meeting=f"meet-{i}",
            shoot_day=cmd.shoot_day,
            scene=cmd.scene,
            held_by=cmd.actor,
            attendees=sorted(set(cmd.attendees)),
            absent=sorted(set(cmd.absent)),
            topics=cmd.topics,
        )
    ]


@decides(c.WrapScene)
def _wrap_scene(s: State, cmd: c.WrapScene, at: str, i: int) -> list[Event]:
    if s.scenes[cmd.scene].wrapped_at:
        raise stale(f"scene {cmd.scene} already wrapped at {s.scenes[cmd.scene].wrapped_at}")
    return [event("scene_wrapped", scene=cmd.scene)]


# ------------------------------------------------------------------ the day


@decides(c.StartMealBreak)
def _meal_start(s: State, cmd: c.StartMealBreak, at: str, i: int) -> list[Event]:
    if cmd.unit in s.meal_breaks:
        raise stale(f"unit {cmd.unit} is already on a meal break since {s.meal_breaks[cmd.unit]}")
    return [event("meal_break_started", unit=cmd.unit)]


@decides(c.EndMealBreak)
def _meal_end(s: State, cmd: c.EndMealBreak, at: str, i: int) -> list[Event]:
    if cmd.unit not in s.meal_breaks:
        raise stale(f"unit {cmd.unit} is not on a meal break")
    return [event("meal_break_ended", unit=cmd.unit)]


@decides(c.WrapDay)
def _wrap_day(s: State, cmd: c.WrapDay, at: str, i: int) -> list[Event]:
    if s.shoot_days[cmd.shoot_day].wrapped_at:
        raise stale(f"shoot day {cmd.shoot_day} already wrapped")
    return [event("day_wrapped", shoot_day=cmd.shoot_day)]
