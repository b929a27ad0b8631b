"""The projection: fold ledger entries into a :class:`State`. Deterministic and pure.

``apply_entry(state, entry)`` returns the state after one more entry and leaves
``state`` as it was (a State is a snapshot that nothing changes once it is
made: see :mod:`coldset.domain.state`). Rebuilding a production is
``fold(entries)``; the service applies the same functions incrementally, so
both give the same state.

Inside, each entry is folded into a *draft*: a shallow copy of the state that
only this module holds (its collections are still shared, but they are
persistent maps: ``set`` and ``delete`` make new maps, the old ones stay as
they were). The handlers below change only the draft's attributes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from immutables import Map

from coldset.domain.events import Event, mitigation_v2
from coldset.domain.model import (
    Alert,
    ChamberLoad,
    Concern,
    Consent,
    Container,
    ContainerKind,
    Credential,
    CredentialKind,
    Custody,
    DummyMethod,
    DummySource,
    DummyVerification,
    Exemption,
    Firearm,
    FirearmPlan,
    FirearmType,
    Incident,
    IncidentKind,
    Inspection,
    Lot,
    Mitigation,
    MitigationKind,
    MuzzleDirection,
    Override,
    Person,
    PlanFirearm,
    Production,
    ProductionSettings,
    Role,
    RoundKind,
    SafetyMeeting,
    Scene,
    Set,
    ShootDay,
    Shot,
    ShotKind,
    StopWork,
    Training,
    Unit,
    replace,
)
from coldset.domain.state import State

Handler = Callable[[State, Event, str], None]
_HANDLERS: dict[str, Handler] = {}
K = TypeVar("K")
V = TypeVar("V")


def _on(type_: str) -> Callable[[Handler], Handler]:
    def deco(fn: Handler) -> Handler:
        _HANDLERS[type_] = fn
        return fn

    return deco


def _draft(state: State) -> State:
    """A copy of ``state`` the fold may change (it shares the persistent maps)."""
    draft: State = replace(state, dirty=set())
    return draft


def _fold_into(draft: State, entry: dict[str, Any]) -> None:
    """Fold one entry into a draft; while its events apply, ``size`` is its log index."""
    draft.last_at = entry["at"]
    for e in entry.get("events", ()):
        _HANDLERS[e["type"]](draft, e, draft.last_at)
    draft.size += 1


def apply_entry(state: State, entry: dict[str, Any]) -> State:
    """The state after ``entry``; ``state`` itself is left as it was.

    The new state's ``dirty`` holds what this entry touched.
    """
    draft = _draft(state)
    _fold_into(draft, entry)
    return draft


def fold(entries: Iterable[dict[str, Any]], start: State | None = None) -> State:
    """The state after ``entries``, from ``start`` (left as it was) or from nothing."""
    draft = _draft(start) if start is not None else State()
    for entry in entries:
        _fold_into(draft, entry)
    draft.dirty.clear()
    return draft


# ---------------------------------------------------------------- helpers


def _without(m: Map[K, V], key: K) -> Map[K, V]:
    return m.delete(key) if key in m else m


def _firearm(s: State, fid: str, **changes: Any) -> None:
    s.firearms = s.firearms.set(fid, replace(s.firearms[fid], **changes))
    s.dirty.add(("firearm", fid))


def _lot(s: State, lid: str, **changes: Any) -> None:
    s.lots = s.lots.set(lid, replace(s.lots[lid], **changes))
    s.dirty.add(("lot", lid))


def _counts(s: State, lid: str, **deltas: int) -> None:
    c = s.lots[lid].counts
    _lot(s, lid, counts=replace(c, **{k: getattr(c, k) + v for k, v in deltas.items()}))


def _move_rounds(s: State, lid: str, place: str | None, n: int) -> None:
    """Add ``n`` (may be negative) rounds of lot ``lid`` at ``place``."""
    if place is None or n == 0:
        return
    where = dict(s.lots[lid].where)
    left = where.get(place, 0) + n
    if left:
        where[place] = left
    else:
        where.pop(place, None)
    _lot(s, lid, where=where)


def _moved(s: State, lid: str, at: str) -> None:
    """A counted movement of lot ``lid`` in the entry being folded (round-accounting)."""
    _lot(s, lid, moved_at=at, moved_index=s.size)


def _person(s: State, pid: str, **changes: Any) -> None:
    s.people = s.people.set(pid, replace(s.people[pid], **changes))
    s.dirty.add(("person", pid))


def _container(s: State, cid: str, **changes: Any) -> None:
    s.containers = s.containers.set(cid, replace(s.containers[cid], **changes))
    s.dirty.add(("container", cid))


def _to_person(s: State, fid: str, pid: str, at: str) -> None:
    _firearm(
        s,
        fid,
        custody=Custody("person", pid),
        custody_changed_at=at,
        custody_changed_index=s.size,
        fired_at=None,
        fired_shot=None,
    )


# ---------------------------------------------------------------- setup


@_on("production_created")
def _production_created(s: State, e: Event, at: str) -> None:
    s.production = Production(
        id=e["production"],
        title=e["title"],
        origin=e["origin"],
        time_zone=e["time_zone"],
        exemption=Exemption(e["exemption"]),
        settings=ProductionSettings(**e["settings"]),
        created_at=at,
    )
    s.people = s.people.set(
        e["person"],
        Person(e["person"], e["name"], frozenset({Role.admin}), has_pin=bool(e.get("has_pin"))),
    )
    s.dirty.update({("production", e["production"]), ("person", e["person"])})


@_on("unit_added")
def _unit_added(s: State, e: Event, at: str) -> None:
    s.units = s.units.set(e["unit"], Unit(e["unit"], e["name"]))
    s.dirty.add(("unit", e["unit"]))


@_on("set_added")
def _set_added(s: State, e: Event, at: str) -> None:
    s.sets = s.sets.set(e["set"], Set(e["set"], e["unit"], e["name"], e.get("location", "")))
    s.dirty.add(("set", e["set"]))


@_on("shoot_day_added")
def _shoot_day_added(s: State, e: Event, at: str) -> None:
    s.shoot_days = s.shoot_days.set(
        e["shoot_day"],
        ShootDay(
            e["shoot_day"], e["date"], call=e.get("call", "00:00"), wrap=e.get("wrap", "00:00")
        ),
    )
    s.dirty.add(("shoot_day", e["shoot_day"]))


@_on("person_added")
def _person_added(s: State, e: Event, at: str) -> None:
    s.people = s.people.set(
        e["person"],
        Person(
            e["person"],
            e["name"],
            frozenset(Role(r) for r in e.get("roles", ())),
            has_pin=bool(e.get("has_pin")),
        ),
    )
    s.dirty.add(("person", e["person"]))


@_on("role_granted")
def _role_granted(s: State, e: Event, at: str) -> None:
    p = s.people[e["person"]]
    _person(s, p.id, roles=p.roles | {Role(e["role"])})


@_on("role_revoked")
def _role_revoked(s: State, e: Event, at: str) -> None:
    p = s.people[e["person"]]
    _person(s, p.id, roles=p.roles - {Role(e["role"])})


@_on("credential_recorded")
def _credential_recorded(s: State, e: Event, at: str) -> None:
    p = s.people[e["person"]]
    c = Credential(CredentialKind(e["kind"]), e["number"], e.get("issuer", ""), e["expires"])
    _person(s, p.id, credentials=(*p.credentials, c))


@_on("pin_set")
def _pin_set(s: State, e: Event, at: str) -> None:
    _person(s, e["person"], has_pin=True)
    s.pin_failures = _without(s.pin_failures, e["person"])


@_on("pin_reset")
def _pin_reset(s: State, e: Event, at: str) -> None:
    _person(s, e["person"], has_pin=True)
    s.pin_failures = _without(s.pin_failures, e["person"])
    s.pin_locked = _without(s.pin_locked, e["person"])


@_on("pin_rejected")
def _pin_rejected(s: State, e: Event, at: str) -> None:
    pid = e["person"]
    s.pin_failures = s.pin_failures.set(pid, (*s.pin_failures.get(pid, ()), at))
    if e.get("locks"):
        s.pin_locked = s.pin_locked.set(pid, at)
    s.dirty.add(("person", pid))


@_on("container_added")
def _container_added(s: State, e: Event, at: str) -> None:
    new = Container(e["container"], ContainerKind(e["kind"]), e["name"], e.get("unit"))
    s.containers = s.containers.set(e["container"], new)
    s.dirty.add(("container", e["container"]))


# ---------------------------------------------------------------- inventory


@_on("firearm_received")
def _firearm_received(s: State, e: Event, at: str) -> None:
    fid, place = e["firearm"], e["place"]
    kind, _, ref = place.partition(":")
    s.firearms = s.firearms.set(
        fid,
        Firearm(
            id=fid,
            manufacturer=e["manufacturer"],
            model=e["model"],
            serial=e["serial"],
            type=FirearmType(e["firearm_type"]),
            caliber=e["caliber"],
            capacity=e["capacity"],
            custody=Custody(kind, ref),
            importer=e.get("importer", ""),
            owner=e.get("owner", ""),
            receipt_date=e["receipt_date"],
            receipt_source=e["receipt_source"],
            chambers=(None,) * e["capacity"],
            custody_changed_at=at,
            custody_changed_index=s.size,
        ),
    )
    s.serials = s.serials.set((e["manufacturer"], e["serial"]), fid)
    if kind == "container":
        _container(s, ref, firearms=s.containers[ref].firearms | {fid})
    s.dirty.add(("firearm", fid))


@_on("firearm_returned")
def _firearm_returned(s: State, e: Event, at: str) -> None:
    fid = e["firearm"]
    f = s.firearms[fid]
    if f.custody.kind == "container":
        c = s.containers[f.custody.ref]
        _container(s, c.id, firearms=c.firearms - {fid})
    _firearm(
        s,
        fid,
        disposition_date=e["disposition_date"],
        disposition_recipient=e["recipient"],
        custody=Custody("person", e["recipient"]),
    )
    if s.serials.get((f.manufacturer, f.serial)) == fid:
        s.serials = s.serials.delete((f.manufacturer, f.serial))


@_on("lot_received")
def _lot_received(s: State, e: Event, at: str) -> None:
    lid = e["lot"]
    src = e.get("dummy_source")
    new = Lot(
        lid,
        RoundKind(e["kind"]),
        e["caliber"],
        e["maker"],
        e.get("load", ""),
        dummy_source=DummySource(src) if src else None,
        receipt_date=e["receipt_date"],
        receipt_source=e["receipt_source"],
        moved_at=at,
        moved_index=s.size,  # received and counted at once
        reconciled_at=at,
        reconciled_index=s.size,
    )
    s.lots = s.lots.set(lid, new)
    _counts(s, lid, received=e["count"])
    _move_rounds(s, lid, e["place"], e["count"])


@_on("lot_returned")
def _lot_returned(s: State, e: Event, at: str) -> None:
    _counts(s, e["lot"], disposed=e["count"])
    _move_rounds(s, e["lot"], e["place"], -e["count"])
    _moved(s, e["lot"], at)


@_on("dummy_lot_verified")
def _dummy_lot_verified(s: State, e: Event, at: str) -> None:
    lot = s.lots[e["lot"]]
    v = DummyVerification(
        DummyMethod(e["method"]),
        e["sample"],
        e["result"],
        lot.dummy_source or DummySource.commercial,
        e["by"],
        at,
    )
    # passing checks add up (5 rounds, then the other 45: the whole box); a failed one
    # stands until a passing one is recorded after it
    before = (
        lot.dummies_checked if lot.verification is None or lot.verification.result == "pass" else 0
    )
    checked = min(before + e["sample"], lot.counts.received) if e["result"] == "pass" else 0
    _lot(s, lot.id, verification=v, dummies_checked=checked)


@_on("container_locked")
def _container_locked(s: State, e: Event, at: str) -> None:
    cid, by = e["container"], e["by"]
    c = s.containers[cid]
    for fid in e.get("firearms", ()):
        _firearm(
            s,
            fid,
            custody=Custody("container", cid),
            custody_changed_at=at,
            custody_changed_index=s.size,
            issued_for=None,
            issued_at=None,
            fired_at=None,
            fired_shot=None,
        )
    for lid, n in sorted(e.get("rounds", {}).items()):
        _move_rounds(s, lid, f"person:{by}", -n)
        _move_rounds(s, lid, f"container:{cid}", n)
    _container(
        s,
        cid,
        locked=True,
        opened_by=None,
        opened_at=None,
        left_inside=False,
        firearms=c.firearms | frozenset(e.get("firearms", ())),
    )


@_on("container_unlocked")
def _container_unlocked(s: State, e: Event, at: str) -> None:
    """Opening a container; with ``took_all`` (every version-1 event) its contents pass
    into the opener's custody (single-custody), else they stay in the open container."""
    cid, by = e["container"], e["by"]
    c = s.containers[cid]
    if not e.get("took_all", True):
        _container(s, cid, locked=False, opened_by=by, opened_at=at, left_inside=True)
        return
    for fid in sorted(c.firearms):
        _to_person(s, fid, by, at)
    for lid, n in s.container_rounds(cid).items():
        _move_rounds(s, lid, f"container:{cid}", -n)
        _move_rounds(s, lid, f"person:{by}", n)
    _container(s, cid, locked=False, opened_by=by, opened_at=at, firearms=frozenset())


@_on("taken_from_container")
def _taken_from_container(s: State, e: Event, at: str) -> None:
    cid, by = e["container"], e["by"]
    for fid in e.get("firearms", ()):
        _firearm(
            s,
            fid,
            custody=Custody("person", by),
            custody_changed_at=at,
            custody_changed_index=s.size,
        )
    for lid, n in sorted(e.get("rounds", {}).items()):
        _move_rounds(s, lid, f"container:{cid}", -n)
        _move_rounds(s, lid, f"person:{by}", n)
    _container(s, cid, firearms=s.containers[cid].firearms - frozenset(e.get("firearms", ())))


@_on("put_in_container")
def _put_in_container(s: State, e: Event, at: str) -> None:
    cid, by = e["container"], e["by"]
    for fid in e.get("firearms", ()):
        _firearm(
            s,
            fid,
            custody=Custody("container", cid),
            custody_changed_at=at,
            custody_changed_index=s.size,
            issued_for=None,
            issued_at=None,
        )
    for lid, n in sorted(e.get("rounds", {}).items()):
        _move_rounds(s, lid, f"person:{by}", -n)
        _move_rounds(s, lid, f"container:{cid}", n)
    _container(s, cid, firearms=s.containers[cid].firearms | frozenset(e.get("firearms", ())))


# ---------------------------------------------------------------- people


@_on("handler_checked_in")
def _checked_in(s: State, e: Event, at: str) -> None:
    s.checked_in = s.checked_in.set(e["person"], (e["unit"], e["set"]))
    task = e.get("task")
    s.duties = s.duties.set(e["person"], task) if task else _without(s.duties, e["person"])
    s.dirty.add(("person", e["person"]))


@_on("handler_checked_out")
def _checked_out(s: State, e: Event, at: str) -> None:
    s.checked_in = _without(s.checked_in, e["person"])
    s.duties = _without(s.duties, e["person"])
    s.dirty.add(("person", e["person"]))


@_on("training_recorded")
def _training_recorded(s: State, e: Event, at: str) -> None:
    p = s.people[e["performer"]]
    t = Training(FirearmType(e["weapon_type"]), e["by"], at)
    _person(s, p.id, training=(*p.training, t))


@_on("consent_recorded")
def _consent_recorded(s: State, e: Event, at: str) -> None:
    p = s.people[e["performer"]]
    _person(s, p.id, consents=(*p.consents, Consent(FirearmType(e["weapon_type"]), at)))


@_on("consent_withdrawn")
def _consent_withdrawn(s: State, e: Event, at: str) -> None:
    p = s.people[e["performer"]]
    kind = FirearmType(e["weapon_type"])
    _person(s, p.id, consents=tuple(x for x in p.consents if x.weapon_type != kind))


# ---------------------------------------------------------------- scenes


def _mitigation(m: Any) -> Mitigation:
    """A plan's mitigation from its event (v1 free text is read as v2 does)."""
    m = mitigation_v2(m)
    return Mitigation(MitigationKind(m["kind"]), m.get("note", ""), tuple(m.get("shots", ())))


@_on("scene_scheduled")
def _scene_scheduled(s: State, e: Event, at: str) -> None:
    plan = FirearmPlan(
        firearms=tuple(
            PlanFirearm(
                p["firearm"],
                RoundKind(p["rounds"]) if p.get("rounds") else None,
                p.get("load"),
                p.get("close_range_load"),
            )
            for p in e.get("firearms", ())
        ),
        shots=tuple(
            Shot(
                x["number"],
                ShotKind(x["kind"]),
                MuzzleDirection(x["muzzle"]),
                x.get("target", ""),
                x["closest_distance_ft"],
                bool(x.get("blanks")),
                x.get("firearm"),
            )
            for x in e.get("shots", ())
        ),
        mitigations=tuple(_mitigation(m) for m in e.get("mitigations", ())),
    )
    new = Scene(
        e["scene"],
        e["shoot_day"],
        e["unit"],
        e["set"],
        e["title"],
        plan,
        tuple(e.get("cast_crew", ())),
    )
    s.scenes = s.scenes.set(e["scene"], new)
    s.dirty.add(("scene", e["scene"]))


@_on("plan_signed")
def _plan_signed(s: State, e: Event, at: str) -> None:
    sc = s.scenes[e["scene"]]
    s.scenes = s.scenes.set(sc.id, replace(sc, signoffs={**sc.signoffs, e["role"]: e["person"]}))
    s.dirty.add(("scene", sc.id))


@_on("safety_meeting_held")
def _meeting(s: State, e: Event, at: str) -> None:
    s.meetings = s.meetings.set(
        e["meeting"],
        SafetyMeeting(
            e["meeting"],
            e["shoot_day"],
            e.get("scene"),
            e["held_by"],
            at,
            tuple(e["attendees"]),
            tuple(e.get("absent", ())),
            e.get("topics", ""),
        ),
    )
    s.dirty.add(("meeting", e["meeting"]))


@_on("scene_wrapped")
def _scene_wrapped(s: State, e: Event, at: str) -> None:
    s.scenes = s.scenes.set(e["scene"], replace(s.scenes[e["scene"]], wrapped_at=at))
    s.dirty.add(("scene", e["scene"]))


# ---------------------------------------------------------------- handling


@_on("firearm_inspected")
def _inspected(s: State, e: Event, at: str) -> None:
    iid, fid = e["inspection"], e["firearm"]
    new = Inspection(
        iid,
        fid,
        e["by"],
        at,
        tuple(e.get("chambers", ())),
        bool(e["barrel_clear"]),
        bool(e.get("function_check")),
        tuple(e.get("witnesses", ())),
    )
    s.inspections = s.inspections.set(iid, new)
    s.dirty.add(("inspection", iid))
    changes: dict[str, Any] = {"last_inspection": iid}
    if e["barrel_clear"]:
        # A barrel check clears the dummy mark only once the dummies are out: a
        # dummy still in a chamber can yet leave its bullet in the barrel (The Crow).
        f = s.firearms[fid]
        dummies_in = any(
            c is not None and s.lots[c.lot].kind == RoundKind.dummy for c in f.chambers
        )
        changes.update(barrel_checked_at=at, dummies_since_barrel_check=dummies_in)
    _firearm(s, fid, **changes)


@_on("firearm_issued")
def _issued(s: State, e: Event, at: str) -> None:
    _to_person(s, e["firearm"], e["to"], at)
    _firearm(s, e["firearm"], issued_for=e.get("scene"), issued_at=at)


@_on("firearm_collected")
def _collected(s: State, e: Event, at: str) -> None:
    _to_person(s, e["firearm"], e["by"], at)
    _firearm(s, e["firearm"], issued_for=None, issued_at=None)


@_on("firearm_transferred")
def _transferred(s: State, e: Event, at: str) -> None:
    _to_person(s, e["firearm"], e["to"], at)


@_on("firearm_loaded")
def _loaded(s: State, e: Event, at: str) -> None:
    fid, lid = e["firearm"], e["lot"]
    f = s.firearms[fid]
    chambers = list(f.chambers)
    for pos in e["positions"]:
        chambers[pos - 1] = ChamberLoad(lid)
    n = len(e["positions"])
    dummies = f.dummies_since_barrel_check or s.lots[lid].kind == RoundKind.dummy
    _firearm(s, fid, chambers=tuple(chambers), dummies_since_barrel_check=dummies)
    _counts(s, lid, loaded=n)
    _move_rounds(s, lid, e["place"], -n)
    _moved(s, lid, at)


@_on("rounds_fired")
def _fired(s: State, e: Event, at: str) -> None:
    fid = e["firearm"]
    chambers = list(s.firearms[fid].chambers)
    for pos in e["positions"]:
        c = chambers[pos - 1]
        if c is not None:
            chambers[pos - 1] = ChamberLoad(c.lot, spent=True)
    _firearm(s, fid, chambers=tuple(chambers), fired_at=at, fired_shot=e.get("shot"))
    for lid, n in sorted(e.get("rounds", {}).items()):
        _counts(s, lid, fired=n)
        _moved(s, lid, at)


@_on("firearm_unloaded")
def _unloaded(s: State, e: Event, at: str) -> None:
    fid = e["firearm"]
    _firearm(s, fid, chambers=(None,) * s.firearms[fid].capacity)
    for lid, n in sorted(e.get("rounds", {}).items()):
        _counts(s, lid, returned=n)
        _move_rounds(s, lid, e["place"], n)
        _moved(s, lid, at)
    for lid, n in sorted(e.get("cases", {}).items()):
        _counts(s, lid, cases_recovered=n)
        _moved(s, lid, at)


# ---------------------------------------------------------------- incidents


@_on("incident_reported")
def _incident(s: State, e: Event, at: str) -> None:
    new = Incident(
        e["incident"],
        IncidentKind(e["kind"]),
        e["by"],
        at,
        e.get("unit"),
        e.get("firearm"),
        e.get("lot"),
        e["description"],
        e.get("stop_work"),
    )
    s.incidents = s.incidents.set(e["incident"], new)
    s.dirty.add(("incident", e["incident"]))


@_on("stop_work_called")
def _stop_work_called(s: State, e: Event, at: str) -> None:
    new = StopWork(
        e["stop_work"], e["scope"], e["reason"], e["by"], at, e.get("rule"), e.get("incident")
    )
    s.stop_works = s.stop_works.set(e["stop_work"], new)
    s.dirty.add(("stop_work", e["stop_work"]))


@_on("stop_work_cleared")
def _stop_work_cleared(s: State, e: Event, at: str) -> None:
    sw = s.stop_works[e["stop_work"]]
    s.stop_works = s.stop_works.set(sw.id, replace(sw, cleared_by=tuple(e["by"]), cleared_at=at))
    s.dirty.add(("stop_work", sw.id))


@_on("quarantined")
def _quarantined(s: State, e: Event, at: str) -> None:
    kind, _, ref = e["subject"].partition(":")
    if kind == "firearm":
        _firearm(
            s, ref, quarantined=True, quarantine_rule=e.get("reason"), quarantined_index=s.size
        )
    else:
        _lot(s, ref, quarantined=True)


@_on("quarantine_released")
def _released(s: State, e: Event, at: str) -> None:
    kind, _, ref = e["subject"].partition(":")
    if kind == "firearm":
        _firearm(s, ref, quarantined=False, quarantine_rule=None, quarantined_index=None)
    else:
        _lot(s, ref, quarantined=False)


@_on("concern_raised")
def _concern_raised(s: State, e: Event, at: str) -> None:
    new = Concern(e["concern"], e["text"], e.get("raised_by"), at, e.get("unit"))
    s.concerns = s.concerns.set(e["concern"], new)
    s.dirty.add(("concern", e["concern"]))


@_on("concern_acknowledged")
def _concern_ack(s: State, e: Event, at: str) -> None:
    c = s.concerns[e["concern"]]
    new = replace(c, answered_by=e["by"], answer=e["answer"], answered_at=at)
    s.concerns = s.concerns.set(c.id, new)
    s.dirty.add(("concern", c.id))


@_on("alert_raised")
def _alert_raised(s: State, e: Event, at: str) -> None:
    s.alerts = s.alerts.set(
        e["alert"],
        Alert(
            e["alert"],
            e["rule"],
            e["reason"],
            e["source"],
            at,
            e.get("subject", ""),
            tuple(e.get("roles", ())),
        ),
    )
    s.dirty.add(("alert", e["alert"]))


@_on("alert_resolved")
def _alert_resolved(s: State, e: Event, at: str) -> None:
    a = s.alerts[e["alert"]]
    new = replace(a, resolved_by=e["by"], resolved_at=at, resolution=e["resolution"])
    s.alerts = s.alerts.set(a.id, new)
    s.dirty.add(("alert", a.id))


@_on("counts_reconciled")
def _reconciled(s: State, e: Event, at: str) -> None:
    lid = e["lot"]
    diff = e["counted"] - e["expected"]
    if e.get("cases_recovered"):
        _counts(s, lid, cases_recovered=e["cases_recovered"])
    if e.get("resolved"):
        # the books follow the count: the difference is booked at the places the
        # decision named (older entries: the same deterministic choice), so
        # sum(where) stays equal to the expected stock
        delta = e.get("where_delta")
        if delta is None:
            delta = s.write_off(lid, diff, e.get("by") or "")
        for place, n in sorted(delta.items()):
            _move_rounds(s, lid, place, n)
        _counts(s, lid, adjusted=diff)
        _lot(s, lid, discrepancy=0, reconciled_at=at, reconciled_index=s.size)
    elif diff == 0:
        _lot(s, lid, discrepancy=0, reconciled_at=at, reconciled_index=s.size)
    else:
        _lot(s, lid, discrepancy=diff)


@_on("meal_break_started")
def _meal_started(s: State, e: Event, at: str) -> None:
    s.meal_breaks = s.meal_breaks.set(e["unit"], at)
    s.dirty.add(("unit", e["unit"]))
    for fid, f in list(s.firearms.items()):  # a meal is a break in custody for every firearm
        if not f.disposed:
            _firearm(s, fid, custody_changed_at=at, custody_changed_index=s.size)


@_on("meal_break_ended")
def _meal_ended(s: State, e: Event, at: str) -> None:
    s.meal_breaks = _without(s.meal_breaks, e["unit"])
    s.dirty.add(("unit", e["unit"]))


@_on("day_wrapped")
def _day_wrapped(s: State, e: Event, at: str) -> None:
    d = s.shoot_days[e["shoot_day"]]
    s.shoot_days = s.shoot_days.set(d.id, replace(d, wrapped_at=at))
    s.dirty.add(("shoot_day", d.id))


@_on("override_recorded")
def _override(s: State, e: Event, at: str) -> None:
    new = Override(
        e["override"],
        tuple(e["rules"]),
        e["reason"],
        e["by"],
        tuple(e["confirmers"]),
        at,
        e["command"],
    )
    s.overrides = s.overrides.set(e["override"], new)
    s.dirty.add(("override", e["override"]))
