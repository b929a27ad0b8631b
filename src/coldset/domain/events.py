"""Events and the ledger entry envelope.

An event is a JSON object with a ``type`` and the facts it records (strings,
integers, booleans, lists, objects; never floats, never PINs). An allowed
command produces one or more events; the projection folds them into the state.

Each event type is one model below (its fields and their types, and a
``version``); :data:`EVENT_TYPES` maps the type to its model, the way
``commands.COMMAND_TYPES`` maps a command. Events stay plain dicts in memory and
in the log (the models check them; they never re-serialize them, so an entry's
bytes are exactly what was written). VERSIONS: an entry of envelope ``"v": 1``
holds every event at version 1. When an event's model reaches version 2, the
writer gives that event a ``"v": 2`` key and the entry envelope ``"v": 2``; a
reader takes each event's ``"v"`` (absent: 1). Reading (:func:`parse_entry`)
upcasts every older event to the current version through :data:`UPCASTERS`
(``(type, from_version) -> function``) and refuses, with a clear error, an
entry or an event newer than this code reads.

The ENTRY ENVELOPE is one ledger entry, stored as canonical JSON
(:mod:`coldset.canonical`)::

    {"v": 1, "at": "2021-10-21T20:46:00.000Z", "production": "rust",
     "actor": "hgr", "command": {... the command without PINs ...},
     "outcome": "allowed" | "refused" | "rejected-credential" | "rejected",
     "verdicts": [{"rule", "verdict", "reason", "source"}, ...],
     "events": [...],
     "error": {"kind", "message"}}          # only for the two rejected outcomes

- ``allowed``: the events happened (verdicts may list alerts / stop-works raised
  and overridden blocks).
- ``refused``: a rule blocked it; ``events`` is empty; verdicts say why.
- ``rejected-credential``: a confirmer's PIN was wrong or locked; ``events``
  holds ``pin_rejected`` (the lock-out counts them).
- ``rejected``: well-formed but the actor has the wrong role or the state does
  not allow it (a firearm already issued, a container already open).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, ClassVar, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, StrictBool, StrictInt, StrictStr, ValidationError

from coldset import canonical
from coldset.domain.model import (
    ChamberState,
    ContainerKind,
    CredentialKind,
    DummyMethod,
    DummySource,
    Exemption,
    FirearmType,
    IncidentKind,
    MitigationKind,
    MuzzleDirection,
    Role,
    RoundKind,
    ShotKind,
    SignOffRole,
    mitigation_kind,
)

Event = dict[str, Any]
#: The envelope version written today (every event at version 1); see the module text.
ENVELOPE_VERSION = 1
#: Envelope versions this code reads: 1 (all events v1), 2 (per-event ``"v"``).
ENVELOPE_VERSIONS = (1, 2)
OUTCOMES = ("allowed", "refused", "rejected-credential", "rejected")

Str = StrictStr
Int = StrictInt
Bool = StrictBool
Counts = dict[StrictStr, StrictInt]


class EventModel(BaseModel):
    """One event type: ``type`` and its facts. A field with a default may be absent (a
    ``None`` fact is never written, and older entries may lack it); the rest must be there.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)
    #: The version of this event's shape; raise it with an upcaster from the one before.
    version: ClassVar[int] = 1


# ------------------------------------------------------------------ setup


class ProductionCreated(EventModel):
    type: Literal["production_created"]
    production: Str
    title: Str
    origin: Str
    time_zone: Str
    exemption: Exemption
    settings: Counts
    person: Str
    name: Str
    has_pin: Bool = False


class UnitAdded(EventModel):
    type: Literal["unit_added"]
    unit: Str
    name: Str


class SetAdded(EventModel):
    type: Literal["set_added"]
    set: Str
    unit: Str
    name: Str
    location: Str = ""


class ShootDayAdded(EventModel):
    """v2: a shoot day has a call and a planned wrap time (``HH:MM`` local; a wrap at or
    before the call is the next day). v1 had only the date: it upcasts to the calendar
    day, 00:00 to 00:00 (:func:`_shoot_day_v1`)."""

    version: ClassVar[int] = 2
    type: Literal["shoot_day_added"]
    shoot_day: Str
    date: Str
    call: Str
    wrap: Str


class PersonAdded(EventModel):
    type: Literal["person_added"]
    person: Str
    name: Str
    roles: list[Role] = []
    has_pin: Bool = False


class RoleGranted(EventModel):
    type: Literal["role_granted"]
    person: Str
    role: Role


class RoleRevoked(EventModel):
    type: Literal["role_revoked"]
    person: Str
    role: Role


class CredentialRecorded(EventModel):
    type: Literal["credential_recorded"]
    person: Str
    kind: CredentialKind
    number: Str
    issuer: Str = ""
    expires: Str


class PinSet(EventModel):
    type: Literal["pin_set"]
    person: Str


class PinReset(EventModel):
    type: Literal["pin_reset"]
    person: Str
    by: Str | None = None


class PinRejected(EventModel):
    type: Literal["pin_rejected"]
    person: Str
    locks: Bool = False


class ContainerAdded(EventModel):
    type: Literal["container_added"]
    container: Str
    kind: ContainerKind
    name: Str
    unit: Str | None = None


# ------------------------------------------------------------------ inventory


class FirearmReceived(EventModel):
    type: Literal["firearm_received"]
    firearm: Str
    manufacturer: Str
    importer: Str = ""
    model: Str
    serial: Str
    firearm_type: FirearmType
    caliber: Str
    capacity: Int
    owner: Str = ""
    receipt_date: Str
    receipt_source: Str
    container: Str | None = None
    place: Str


class FirearmReturned(EventModel):
    type: Literal["firearm_returned"]
    firearm: Str
    disposition_date: Str
    recipient: Str


class LotReceived(EventModel):
    type: Literal["lot_received"]
    lot: Str
    kind: RoundKind
    caliber: Str
    maker: Str
    count: Int
    load: Str = ""
    dummy_source: DummySource | None = None
    receipt_date: Str
    receipt_source: Str
    container: Str | None = None
    place: Str


class LotReturned(EventModel):
    type: Literal["lot_returned"]
    lot: Str
    count: Int
    recipient: Str | None = None
    place: Str


class DummyLotVerified(EventModel):
    type: Literal["dummy_lot_verified"]
    lot: Str
    method: DummyMethod
    sample: Int
    result: Literal["pass", "fail"]
    by: Str


class ContainerLocked(EventModel):
    type: Literal["container_locked"]
    container: Str
    by: Str
    firearms: list[Str] = []
    rounds: Counts = {}


class ContainerUnlocked(EventModel):
    """A container opened. ``took_all``: everything in it passed into the opener's custody
    (version 1 always did; from version 2 the opener may leave the contents inside and
    take out only what they need, ``taken_from_container``)."""

    version: ClassVar[int] = 2
    type: Literal["container_unlocked"]
    container: Str
    by: Str
    took_all: Bool


class TakenFromContainer(EventModel):
    """Firearms and rounds taken out of an open container into the taker's custody."""

    type: Literal["taken_from_container"]
    container: Str
    by: Str
    firearms: list[Str] = []
    rounds: Counts = {}


class PutInContainer(EventModel):
    """Firearms and rounds the person held, put into an open container."""

    type: Literal["put_in_container"]
    container: Str
    by: Str
    firearms: list[Str] = []
    rounds: Counts = {}


# ------------------------------------------------------------------ people


class HandlerCheckedIn(EventModel):
    type: Literal["handler_checked_in"]
    person: Str
    unit: Str
    set: Str
    task: Str | None = None  # a non-firearms duty (props, ...); absent: firearms


class HandlerCheckedOut(EventModel):
    type: Literal["handler_checked_out"]
    person: Str
    unit: Str | None = None


class TrainingRecorded(EventModel):
    type: Literal["training_recorded"]
    performer: Str
    weapon_type: FirearmType
    by: Str


class ConsentRecorded(EventModel):
    type: Literal["consent_recorded"]
    performer: Str
    weapon_type: FirearmType


class ConsentWithdrawn(EventModel):
    type: Literal["consent_withdrawn"]
    performer: Str
    weapon_type: FirearmType
    reason: Str | None = None


# ------------------------------------------------------------------ scenes


class PlannedFirearm(BaseModel):
    """One firearm of a scene's plan, as ``scene_scheduled`` records it."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    firearm: Str
    rounds: Literal["blank", "dummy"] | None = None
    load: Str | None = None
    close_range_load: Str | None = None


class PlannedShot(BaseModel):
    """One shot of a scene's plan, as ``scene_scheduled`` records it."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    number: Int
    kind: ShotKind
    muzzle: MuzzleDirection
    target: Str = ""
    closest_distance_ft: Int
    blanks: Bool = False
    firearm: Str | None = None


class PlannedMitigation(BaseModel):
    """One mitigation of a scene's plan, as ``scene_scheduled`` (v2) records it."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    kind: MitigationKind
    note: Str = ""
    shots: list[Int] = []


class SceneScheduled(EventModel):
    """v2: each mitigation has a kind (v1 held free text; see :func:`_scene_v1_to_v2`)."""

    version: ClassVar[int] = 2
    type: Literal["scene_scheduled"]
    scene: Str
    shoot_day: Str
    unit: Str
    set: Str
    title: Str
    firearms: list[PlannedFirearm] = []
    shots: list[PlannedShot] = []
    mitigations: list[PlannedMitigation] = []
    cast_crew: list[Str] = []


class PlanSigned(EventModel):
    type: Literal["plan_signed"]
    scene: Str
    role: SignOffRole
    person: Str


class SafetyMeetingHeld(EventModel):
    type: Literal["safety_meeting_held"]
    meeting: Str
    shoot_day: Str
    scene: Str | None = None
    held_by: Str
    attendees: list[Str]
    absent: list[Str] = []
    topics: Str = ""


class SceneWrapped(EventModel):
    type: Literal["scene_wrapped"]
    scene: Str


# ------------------------------------------------------------------ handling


class FirearmInspected(EventModel):
    type: Literal["firearm_inspected"]
    inspection: Str
    firearm: Str
    by: Str
    chambers: list[ChamberState] = []
    barrel_clear: Bool
    function_check: Bool = False
    witnesses: list[Str] = []


class FirearmIssued(EventModel):
    type: Literal["firearm_issued"]
    firearm: Str
    to: Str
    by: Str | None = None
    scene: Str | None = None


class FirearmCollected(EventModel):
    type: Literal["firearm_collected"]
    firearm: Str
    by: Str
    holder: Str | None = None


class FirearmTransferred(EventModel):
    type: Literal["firearm_transferred"]
    firearm: Str
    holder: Str | None = None
    to: Str


class FirearmLoaded(EventModel):
    type: Literal["firearm_loaded"]
    firearm: Str
    lot: Str
    positions: list[Int]
    place: Str
    scene: Str | None = None
    shot: Int | None = None


class FirearmUnloaded(EventModel):
    type: Literal["firearm_unloaded"]
    firearm: Str
    place: Str
    rounds: Counts = {}
    cases: Counts = {}


class RoundsFired(EventModel):
    type: Literal["rounds_fired"]
    firearm: Str
    positions: list[Int]
    rounds: Counts = {}
    scene: Str | None = None
    shot: Int | None = None


# ------------------------------------------------------------------ incidents


class IncidentReported(EventModel):
    type: Literal["incident_reported"]
    incident: Str
    kind: IncidentKind
    by: Str
    firearm: Str | None = None
    lot: Str | None = None
    unit: Str | None = None
    description: Str
    stop_work: Str | None = None


class StopWorkCalled(EventModel):
    type: Literal["stop_work_called"]
    stop_work: Str
    scope: Str
    reason: Str
    by: Str
    rule: Str | None = None
    incident: Str | None = None


class StopWorkCleared(EventModel):
    type: Literal["stop_work_cleared"]
    stop_work: Str
    by: list[Str]


class Quarantined(EventModel):
    type: Literal["quarantined"]
    subject: Str
    reason: Str | None = None


class QuarantineReleased(EventModel):
    type: Literal["quarantine_released"]
    subject: Str


class ConcernRaised(EventModel):
    type: Literal["concern_raised"]
    concern: Str
    text: Str
    raised_by: Str | None = None
    unit: Str | None = None


class ConcernAcknowledged(EventModel):
    type: Literal["concern_acknowledged"]
    concern: Str
    by: Str
    answer: Str


class AlertRaised(EventModel):
    type: Literal["alert_raised"]
    alert: Str
    rule: Str
    reason: Str
    source: Str
    subject: Str = ""
    roles: list[Str] = []


class AlertResolved(EventModel):
    type: Literal["alert_resolved"]
    alert: Str
    by: Str
    resolution: Str


class CountsReconciled(EventModel):
    type: Literal["counts_reconciled"]
    lot: Str
    counted: Int
    expected: Int
    cases_recovered: Int = 0
    explanation: Str = ""
    resolved: Bool = False
    by: Str | None = None
    confirmed_by: list[Str] = []
    where_delta: Counts | None = None


# ------------------------------------------------------------------ the day


class MealBreakStarted(EventModel):
    type: Literal["meal_break_started"]
    unit: Str


class MealBreakEnded(EventModel):
    type: Literal["meal_break_ended"]
    unit: Str


class DayWrapped(EventModel):
    type: Literal["day_wrapped"]
    shoot_day: Str


class OverrideRecorded(EventModel):
    type: Literal["override_recorded"]
    override: Str
    rules: list[Str]
    reason: Str
    by: Str
    confirmers: list[Str]
    command: Str


#: Every event model: the one list of event types (in the order docs/domain.md shows them).
EVENT_MODELS: tuple[type[EventModel], ...] = (
    ProductionCreated,
    UnitAdded,
    SetAdded,
    ShootDayAdded,
    PersonAdded,
    RoleGranted,
    RoleRevoked,
    CredentialRecorded,
    PinSet,
    PinReset,
    PinRejected,
    ContainerAdded,
    FirearmReceived,
    FirearmReturned,
    LotReceived,
    LotReturned,
    DummyLotVerified,
    ContainerLocked,
    ContainerUnlocked,
    TakenFromContainer,
    PutInContainer,
    HandlerCheckedIn,
    HandlerCheckedOut,
    TrainingRecorded,
    ConsentRecorded,
    ConsentWithdrawn,
    SceneScheduled,
    PlanSigned,
    SafetyMeetingHeld,
    SceneWrapped,
    FirearmInspected,
    FirearmIssued,
    FirearmCollected,
    FirearmTransferred,
    FirearmLoaded,
    FirearmUnloaded,
    RoundsFired,
    IncidentReported,
    StopWorkCalled,
    StopWorkCleared,
    Quarantined,
    QuarantineReleased,
    ConcernRaised,
    ConcernAcknowledged,
    AlertRaised,
    AlertResolved,
    CountsReconciled,
    MealBreakStarted,
    MealBreakEnded,
    DayWrapped,
    OverrideRecorded,
)


def event_type(model: type[EventModel]) -> str:
    """The ``type`` value a model stands for."""
    return get_args(model.model_fields["type"].annotation)[0]  # type: ignore[no-any-return]


#: event type -> its model (the current version)
EVENT_TYPES: dict[str, type[EventModel]] = {event_type(m): m for m in EVENT_MODELS}

Upcaster = Callable[[Event], Event]


class EntryError(ValueError):
    """An entry this code cannot read as it is: unknown type, a version newer than it reads,
    or facts that do not fit the event's model. The message says which, in plain words."""


@dataclass(frozen=True)
class EventRegistry:
    """The event models and the upcasters between their versions.

    ``upcasters[(type, n)]`` takes an event at version ``n`` (without its ``"v"`` key) to
    version ``n + 1``; every model at version ``k > 1`` needs one for each of 1 .. k-1.
    """

    models: Mapping[str, type[EventModel]]
    upcasters: Mapping[tuple[str, int], Upcaster] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for t, m in self.models.items():
            missing = [n for n in range(1, m.version) if (t, n) not in self.upcasters]
            if missing:
                raise ValueError(
                    f"event {t} is at version {m.version} but has no upcaster "
                    f"from version {missing[0]}"
                )

    def evolve(
        self,
        models: Iterable[type[EventModel]] = (),
        upcasters: Mapping[tuple[str, int], Upcaster] | None = None,
    ) -> EventRegistry:
        """This registry with some models replaced (new versions) and upcasters added."""
        return EventRegistry(
            {**self.models, **{event_type(m): m for m in models}},
            {**self.upcasters, **(upcasters or {})},
        )

    def current(self, e: Event, version: int = 1) -> Event:
        """``e`` (recorded at ``version``) upcast to its model's version and checked
        against it, or :class:`EntryError`. The result has no ``"v"`` key."""
        t = e.get("type")
        if not isinstance(t, str) or t not in self.models:
            raise EntryError(
                f"the entry holds an event of unknown type {t!r}: it was written "
                "by a newer coldset, or it is not a coldset entry"
            )
        model = self.models[t]
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise EntryError(f"the {t} event has no valid version ({version!r})")
        if version > model.version:
            raise EntryError(
                f"the entry holds a {t} event at version {version}; this coldset "
                f"reads it up to version {model.version}: upgrade coldset to "
                "read this log"
            )
        if "v" in e:
            e = {k: x for k, x in e.items() if k != "v"}
        for n in range(version, model.version):
            e = self.upcasters[(t, n)](e)
        check(e, self)
        return e


def mitigation_v2(m: Any) -> Any:
    """A v1 mitigation (free text) as v2 records it: the kind its first words name, or
    ``other`` with the text as its note. A v2 one is returned as it is."""
    if not isinstance(m, str):
        return m
    kind = mitigation_kind(m)
    return {"kind": (kind or MitigationKind.other).value, "note": m}


def _scene_v1_to_v2(e: Event) -> Event:
    """``scene_scheduled`` v1 -> v2: each free-text mitigation gets its kind."""
    return {**e, "mitigations": [mitigation_v2(m) for m in e.get("mitigations", [])]}


def _shoot_day_v1(e: Event) -> Event:
    """``shoot_day_added`` v1 -> v2: a shoot day recorded with only its date ran over the
    calendar day, which is call 00:00 and wrap 00:00 (the next day)."""
    return {**e, "call": "00:00", "wrap": "00:00"}


def _unlocked_v1(e: Event) -> Event:
    """``container_unlocked`` v1 -> v2: opening always moved everything into the opener's
    custody then (``took_all``)."""
    return {**e, "took_all": True}


#: The registry this code writes and reads with.
EVENTS = EventRegistry(
    EVENT_TYPES,
    {
        ("scene_scheduled", 1): _scene_v1_to_v2,
        ("shoot_day_added", 1): _shoot_day_v1,
        ("container_unlocked", 1): _unlocked_v1,
    },
)

#: (type, from_version) -> function: today's upcasters (see :class:`EventRegistry`).
UPCASTERS = EVENTS.upcasters


def check(e: Event, registry: EventRegistry = EVENTS) -> None:
    """Check one event (at its current version, no ``"v"`` key) against its model, or
    :class:`EntryError` naming the event and the facts that do not fit."""
    model = registry.models.get(e.get("type"))  # type: ignore[arg-type]
    if model is None:
        raise EntryError(f"unknown event type {e.get('type')!r}")
    try:
        model.__pydantic_validator__.validate_python(e)
    except ValidationError as err:
        facts = "; ".join(
            f"{'.'.join(map(str, x['loc'])) or 'event'}: {x['msg']}"
            for x in err.errors(include_url=False)
        )
        raise EntryError(f"a {e['type']} event does not fit its model: {facts}") from None


def event(type_: str, **facts: Any) -> Event:
    """An event dict, checked against its model (a decider that produces facts its model
    does not describe fails here, before anything is written; about 1.5 µs an event).
    ``None`` facts are dropped so entries stay small."""
    model = EVENT_TYPES.get(type_)
    if model is None:
        raise ValueError(f"unknown event type {type_!r}")
    e: Event = {"type": type_}
    e.update({k: v for k, v in facts.items() if v is not None})
    check(e)
    if model.version > 1:
        e["v"] = model.version
    return e


def envelope(
    *,
    at: str,
    production: str,
    actor: str,
    command: dict[str, Any],
    outcome: str,
    verdicts: list[dict[str, str]],
    events: list[Event],
    error: dict[str, str] | None = None,
) -> dict[str, Any]:
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown outcome {outcome!r}")
    v = 2 if any("v" in e for e in events) else ENVELOPE_VERSION
    env: dict[str, Any] = {
        "v": v,
        "at": at,
        "production": production,
        "actor": actor,
        "command": command,
        "outcome": outcome,
        "verdicts": verdicts,
        "events": events,
    }
    if error is not None:
        env["error"] = error
    return env


def entry_bytes(env: dict[str, Any]) -> bytes:
    """The exact bytes appended to the ledger."""
    return canonical.dumps(env)


def parse_entry(data: bytes, registry: EventRegistry = EVENTS) -> dict[str, Any]:
    """An entry from its bytes, every event upcast to its current version and checked
    against its model; :class:`EntryError` when this code cannot read it as written."""
    env = canonical.loads(data)
    if not isinstance(env, dict) or "v" not in env:
        raise EntryError("not a coldset custody entry (no envelope version)")
    v = env["v"]
    if v not in ENVELOPE_VERSIONS or isinstance(v, bool):
        raise EntryError(
            f"this entry has envelope version {v!r}; this coldset reads versions "
            f"{ENVELOPE_VERSIONS[0]} to {ENVELOPE_VERSIONS[-1]}: upgrade coldset "
            "to read this log"
        )
    events = env.get("events", [])
    if not isinstance(events, list) or not all(isinstance(e, dict) for e in events):
        raise EntryError("the entry's events are not a list of objects")
    if v == 1:
        env["events"] = [registry.current(e, 1) for e in events]
    else:
        env["events"] = [registry.current(e, e.get("v", 1)) for e in events]
    return env


# ------------------------------------------------------------------ docs


def _type_text(annotation: Any) -> str:
    """A field's type as docs/domain.md shows it: str, int, bool, list[str], a value set."""
    import enum
    import types

    args = get_args(annotation)
    origin = get_origin(annotation)
    if isinstance(annotation, types.UnionType) or origin is Union:
        return " or ".join(_type_text(a) for a in args if a is not type(None))
    if origin is Annotated:
        return _type_text(args[0])
    if origin is Literal:
        return " / ".join(str(a) for a in args)
    if origin is list:
        return f"list of {_type_text(args[0])}"
    if origin is dict:
        return f"{_type_text(args[0])} → {_type_text(args[1])}"
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return annotation.__name__
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation.__name__
    return {str: "str", int: "int", bool: "bool"}.get(annotation, str(annotation))


def fields_doc(model: type[BaseModel]) -> str:
    """``name: type`` for each fact (``?`` after the name: it may be absent)."""
    out = []
    for name, f in model.model_fields.items():
        if name == "type":
            continue
        opt = "" if f.is_required() else "?"
        out.append(f"`{name}{opt}`: {_type_text(f.annotation)}")
    return ", ".join(out)


def events_markdown() -> str:
    """The table of event types that docs/domain.md holds (a test keeps them equal)."""
    rows = ["| event | v | facts |", "|---|---|---|"]
    rows += [f"| `{event_type(m)}` | {m.version} | {fields_doc(m)} |" for m in EVENT_MODELS]
    rows += ["", "Inside `scene_scheduled`:", "", "| object | facts |", "|---|---|"]
    rows += [f"| {m.__name__} | {fields_doc(m)} |" for m in (PlannedFirearm, PlannedShot)]
    return "\n".join(rows) + "\n"
