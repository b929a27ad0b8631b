"""Entities of a production: who, what, where. Pure data, no I/O.

Entities are frozen dataclasses; the projection (:mod:`coldset.domain.projection`)
replaces them in :class:`coldset.domain.state.State` as events arrive. Ids are
short strings chosen by the people who create the things (tags on firearms, lots
and containers; badge ids for people), or assigned by the service from the log
index (inspections, alerts, incidents, stop-works, concerns, overrides).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeVar


class Role(StrEnum):
    armorer = "armorer"
    assistant_armorer = "assistant_armorer"
    property_master = "property_master"
    performer = "performer"
    first_ad = "first_ad"
    safety_contact = "safety_contact"
    producer = "producer"
    crew = "crew"
    viewer = "viewer"
    admin = "admin"


#: The qualified handlers of SAFETY_RULES.md (armorer, assistant armorer, property master).
HANDLER_ROLES: frozenset[Role] = frozenset(
    {Role.armorer, Role.assistant_armorer, Role.property_master}
)
#: In ``Verdict.overridable_by`` and permission tables, "handler" means any handler role.
HANDLER = "handler"


class FirearmType(StrEnum):
    single_action_revolver = "single_action_revolver"
    double_action_revolver = "double_action_revolver"
    semi_automatic_pistol = "semi_automatic_pistol"
    rifle = "rifle"
    lever_action = "lever_action"
    shotgun = "shotgun"
    automatic = "automatic"
    non_firing_replica = "non_firing_replica"
    rubber_resin = "rubber_resin"


#: Types that cannot chamber or fire a round (no load, no discharge).
NON_FIRING_TYPES: frozenset[FirearmType] = frozenset(
    {FirearmType.non_firing_replica, FirearmType.rubber_resin}
)


class RoundKind(StrEnum):
    live = "live"
    blank = "blank"
    dummy = "dummy"


class ContainerKind(StrEnum):
    safe = "safe"
    gun_cart = "gun_cart"
    truck_safe = "truck_safe"
    ammo_box = "ammo_box"
    case = "case"


class IncidentKind(StrEnum):
    misfire = "misfire"
    squib = "squib"
    unexpected_discharge = "unexpected_discharge"
    malfunction = "malfunction"
    live_round_found = "live_round_found"
    injury = "injury"
    near_miss = "near_miss"


#: Incidents that quarantine the firearm and stop work on the unit (``misfire-quarantine``).
QUARANTINE_INCIDENTS: frozenset[IncidentKind] = frozenset(
    {
        IncidentKind.misfire,
        IncidentKind.squib,
        IncidentKind.unexpected_discharge,
        IncidentKind.malfunction,
    }
)


class CredentialKind(StrEnum):
    entertainment_firearms_permit = "entertainment_firearms_permit"
    federal_firearms_license = "federal_firearms_license"
    firearms_safety_course = "firearms_safety_course"


class Exemption(StrEnum):
    """Cal. Labor Code §9155 exemption categories for live ammunition, or none."""

    none = "none"
    range_training = "range_training"
    sound_recording = "sound_recording"
    documentary = "documentary"
    trained_military_police = "trained_military_police"


class MuzzleDirection(StrEnum):
    person = "person"
    camera = "camera"
    clear = "clear"


class ShotKind(StrEnum):
    take = "take"
    rehearsal = "rehearsal"


class DummyMethod(StrEnum):
    no_primer = "no_primer"
    inert_primer = "inert_primer"
    side_hole = "side_hole"
    drilled = "drilled"  # a hole drilled through the case (as side_hole)
    rattle = "rattle"  # internal rattle (a BB inside)
    see_through = "see_through"  # see-through (clear) body
    marking = "marking"


class DummySource(StrEnum):
    commercial = "commercial"
    made_on_production = "made_on_production"


class ChamberState(StrEnum):
    """What an inspection saw in one chamber (or the magazine / the chamber)."""

    empty = "empty"
    dummy = "dummy"
    blank = "blank"
    spent = "spent"
    live = "live"
    obstructed = "obstructed"


class MitigationKind(StrEnum):
    """What a scene's plan does about a muzzle at a person or the camera (``muzzle-plan``)."""

    replica = "replica"  # a non-firing replica instead of the firearm
    remote_camera = "remote_camera"  # nobody behind the camera on the line of fire
    shield = "shield"  # a shield (lexan box, plexiglass) in front of people
    offset_angle = "offset_angle"  # a cheated angle: the muzzle off the line to anyone
    mirror = "mirror"  # shot through a mirror (beam splitter)
    other = "other"  # read from an old log's free text; never written now


#: Mitigations that keep a muzzle off a person, and off the camera position.
MITIGATES: dict[MuzzleDirection, frozenset[MitigationKind]] = {
    MuzzleDirection.person: frozenset(
        {
            MitigationKind.replica,
            MitigationKind.shield,
            MitigationKind.offset_angle,
            MitigationKind.other,
        }
    ),
    MuzzleDirection.camera: frozenset(
        {
            MitigationKind.replica,
            MitigationKind.remote_camera,
            MitigationKind.shield,
            MitigationKind.offset_angle,
            MitigationKind.mirror,
            MitigationKind.other,
        }
    ),
}

#: Words a crew writes for each kind (a plan's mitigation given as text starts with one).
MITIGATION_WORDS: dict[MitigationKind, tuple[str, ...]] = {
    MitigationKind.replica: (
        "non-firing replica",
        "non firing replica",
        "replica",
        "rubber",
        "prop gun",
        "airsoft",
    ),
    MitigationKind.remote_camera: (
        "remote camera",
        "remote head",
        "locked-off camera",
        "locked off camera",
        "unmanned camera",
        "remote",
    ),
    MitigationKind.shield: ("shields", "shield", "lexan", "plexiglass", "plexi"),
    MitigationKind.offset_angle: (
        "cheated angle",
        "cheat angle",
        "offset angle",
        "cheated",
        "offset",
        "off-axis",
        "off axis",
    ),
    MitigationKind.mirror: ("mirror", "beam splitter"),
}


def mitigation_kind(text: str) -> MitigationKind | None:
    """The kind a mitigation written in words names by its first words ("remote camera,
    operator behind a shield" is a remote camera), or None when it names none."""
    t = " ".join(text.lower().replace("_", " ").split())
    for kind in MitigationKind:
        if t.startswith(kind.value.replace("_", " ")):
            return kind
    best: tuple[int, MitigationKind] | None = None
    for kind, words in MITIGATION_WORDS.items():
        for w in words:
            if t.startswith(w) and (best is None or len(w) > best[0]):
                best = (len(w), kind)
    return best[1] if best else None


@dataclass(frozen=True)
class Mitigation:
    """One mitigation of a plan: its kind, the shots it covers (none: every shot), words."""

    kind: MitigationKind
    note: str = ""
    shots: tuple[int, ...] = ()

    def __str__(self) -> str:
        return self.note or self.kind.value.replace("_", " ")

    def covers(self, shot: int) -> bool:
        return not self.shots or shot in self.shots


class SignOffRole(StrEnum):
    handler = "handler"
    first_ad = "first_ad"
    safety_contact = "safety_contact"


# --------------------------------------------------------------------- production


@dataclass(frozen=True)
class ProductionSettings:
    """Every number in the rule catalogue, with its default."""

    inspection_window_min: int = 5  # show-clear-before-issue
    ammo_grace_min: int = 2  # ammo-secured
    collect_limit_min: int = 30  # collect-after-take
    blank_distance_ft: int = 20  # blank-distance
    concern_limit_min: int = 240  # concern-answered (4 h)
    pin_lockout_failures: int = 5  # identity: 5 wrong PINs ...
    pin_lockout_window_min: int = 15  # ... within 15 minutes lock the PIN


@dataclass(frozen=True)
class Production:
    id: str
    title: str
    origin: str
    time_zone: str
    exemption: Exemption
    settings: ProductionSettings
    created_at: str


@dataclass(frozen=True)
class Unit:
    id: str
    name: str


@dataclass(frozen=True)
class Set:
    id: str
    unit: str
    name: str
    location: str = ""


@dataclass(frozen=True)
class ShootDay:
    id: str
    date: str  # YYYY-MM-DD in the production's time zone: the day of the call
    wrapped_at: str | None = None
    call: str = "00:00"  # HH:MM local; see coldset.domain.shootday
    wrap: str = "00:00"  # planned wrap, HH:MM local; at or before the call: the next day


# --------------------------------------------------------------------- scenes


@dataclass(frozen=True)
class Shot:
    number: int
    kind: ShotKind
    muzzle: MuzzleDirection
    target: str  # what the muzzle points at, in words
    closest_distance_ft: int  # closest person to the muzzle
    blanks: bool  # does this shot fire blanks
    firearm: str | None = None  # which firearm, when the plan has several


@dataclass(frozen=True)
class PlanFirearm:
    firearm: str
    rounds: RoundKind | None = None  # blank / dummy / None (shown clear, no rounds)
    load: str | None = None  # blank load, e.g. "1/4 load"
    close_range_load: str | None = None  # specialty close-range load named in the plan


@dataclass(frozen=True)
class FirearmPlan:
    firearms: tuple[PlanFirearm, ...]
    shots: tuple[Shot, ...]
    mitigations: tuple[Mitigation, ...] = ()

    def firearm_ids(self) -> frozenset[str]:
        return frozenset(p.firearm for p in self.firearms)


@dataclass(frozen=True)
class Scene:
    id: str
    shoot_day: str
    unit: str
    set: str
    title: str
    plan: FirearmPlan
    cast_crew: tuple[str, ...]
    signoffs: dict[str, str] = field(default_factory=dict)  # SignOffRole -> person
    wrapped_at: str | None = None


# --------------------------------------------------------------------- people


@dataclass(frozen=True)
class Credential:
    kind: CredentialKind
    number: str
    issuer: str
    expires: str  # YYYY-MM-DD, last valid day


@dataclass(frozen=True)
class Training:
    weapon_type: FirearmType
    given_by: str
    at: str


@dataclass(frozen=True)
class Consent:
    weapon_type: FirearmType
    at: str


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    roles: frozenset[Role] = frozenset()
    credentials: tuple[Credential, ...] = ()
    training: tuple[Training, ...] = ()
    consents: tuple[Consent, ...] = ()
    has_pin: bool = False

    @property
    def is_handler(self) -> bool:
        return bool(self.roles & HANDLER_ROLES)


# --------------------------------------------------------------------- things


@dataclass(frozen=True)
class Custody:
    """Where a firearm is: in a (locked) container, or with exactly one person."""

    kind: str  # "container" | "person"
    ref: str


@dataclass(frozen=True)
class ChamberLoad:
    lot: str
    spent: bool = False  # fired: a case is left in the chamber


@dataclass(frozen=True)
class Firearm:
    id: str
    manufacturer: str
    model: str
    serial: str
    type: FirearmType
    caliber: str
    capacity: int  # chambers, or magazine capacity + 1 (the chamber)
    custody: Custody
    importer: str = ""
    owner: str = ""  # owner or rental house
    receipt_date: str = ""  # ATF bound book: date of receipt
    receipt_source: str = ""  # ... and its source (name and address / licence)
    disposition_date: str | None = None
    disposition_recipient: str | None = None
    chambers: tuple[ChamberLoad | None, ...] = ()  # position 1..capacity -> index 0..
    quarantined: bool = False
    quarantine_rule: str | None = None  # the rule that quarantined it (None: before v0.x logs)
    quarantined_index: int | None = None  # ... and the entry index of that quarantine
    issued_for: str | None = None  # scene id while issued
    issued_at: str | None = None
    last_inspection: str | None = None  # inspection id of the latest inspection
    custody_changed_at: str | None = None  # any custody change breaks earlier inspections
    custody_changed_index: int | None = None  # ... by log order: the entry index of it
    barrel_checked_at: str | None = None
    dummies_since_barrel_check: bool = False
    # collect-after-take: the last discharge while with its present holder (reset when
    # custody changes), and the take (shot number) it was for
    fired_at: str | None = None
    fired_shot: int | None = None

    @property
    def disposed(self) -> bool:
        return self.disposition_date is not None

    @property
    def loaded(self) -> bool:
        return any(c is not None for c in self.chambers)


@dataclass(frozen=True)
class DummyVerification:
    method: DummyMethod
    sample: int  # rounds checked
    result: str  # "pass" | "fail"
    source: DummySource = DummySource.commercial
    by: str = ""
    at: str = ""


@dataclass(frozen=True)
class LotCounts:
    """Every movement of the lot's rounds, counted (``round-accounting``)."""

    received: int = 0
    loaded: int = 0
    fired: int = 0
    returned: int = 0  # unloaded unfired, back into stock
    cases_recovered: int = 0
    disposed: int = 0
    adjusted: int = 0  # resolved reconciliation differences (counted - expected)

    @property
    def in_firearms(self) -> int:
        return self.loaded - self.fired - self.returned

    @property
    def expected_stock(self) -> int:
        """Rounds that should be in containers or in someone's hand, not in a firearm."""
        return self.received - self.loaded + self.returned - self.disposed + self.adjusted


@dataclass(frozen=True)
class Lot:
    id: str
    kind: RoundKind
    caliber: str
    maker: str
    load: str = ""  # blank load
    counts: LotCounts = LotCounts()
    where: dict[str, int] = field(default_factory=dict)  # "container:X" / "person:Y" -> rounds
    verification: DummyVerification | None = None
    dummies_checked: int = 0  # rounds checked by passing verifications, in all (dummy-verified)
    dummy_source: DummySource | None = None  # for dummy lots
    quarantined: bool = False
    discrepancy: int = 0  # counted - expected at the last reconcile
    receipt_date: str = ""
    receipt_source: str = ""
    # round-accounting at wrap: the last counted movement (received, loaded, fired,
    # unloaded, disposed) and the last count that agreed (a match or a resolved
    # difference; receipt is a count), as time and log index (compared by index)
    moved_at: str | None = None
    moved_index: int | None = None
    reconciled_at: str | None = None
    reconciled_index: int | None = None

    @property
    def unreconciled(self) -> bool:
        """Has the lot moved since its last agreeing count (or is a difference open)?"""
        if self.discrepancy:
            return True
        if self.moved_index is None:
            return False
        return self.reconciled_index is None or self.reconciled_index < self.moved_index


@dataclass(frozen=True)
class Container:
    id: str
    kind: ContainerKind
    name: str
    unit: str | None = None
    locked: bool = True
    opened_by: str | None = None
    opened_at: str | None = None
    firearms: frozenset[str] = frozenset()
    # rounds in the container are in ``Lot.where["container:<id>"]``
    #: open, and its contents were left inside (``unlock_container`` with leave_inside):
    #: locking it then puts in only what is named
    left_inside: bool = False


@dataclass(frozen=True)
class Inspection:
    id: str
    firearm: str
    by: str
    at: str
    chambers: tuple[ChamberState, ...]
    barrel_clear: bool
    function_check: bool
    witnesses: tuple[str, ...]


@dataclass(frozen=True)
class SafetyMeeting:
    id: str
    shoot_day: str
    scene: str | None
    held_by: str
    at: str
    attendees: tuple[str, ...]
    absent: tuple[str, ...]
    topics: str = ""


@dataclass(frozen=True)
class Incident:
    id: str
    kind: IncidentKind
    reported_by: str
    at: str
    unit: str | None
    firearm: str | None
    lot: str | None
    description: str
    stop_work: str | None = None


@dataclass(frozen=True)
class Concern:
    id: str
    text: str
    raised_by: str | None  # None when anonymous
    at: str
    unit: str | None = None
    answered_by: str | None = None
    answer: str | None = None
    answered_at: str | None = None


@dataclass(frozen=True)
class Alert:
    id: str
    rule: str
    reason: str
    source: str
    at: str
    subject: str = ""  # "firearm:X", "lot:Y", "concern:Z", ...
    roles: tuple[str, ...] = ()  # who must resolve it
    resolved_by: str | None = None
    resolved_at: str | None = None
    resolution: str | None = None


@dataclass(frozen=True)
class StopWork:
    id: str
    scope: str  # "production" or a unit id
    reason: str
    called_by: str
    at: str
    rule: str | None = None
    incident: str | None = None
    cleared_by: tuple[str, ...] = ()
    cleared_at: str | None = None

    @property
    def open(self) -> bool:
        return self.cleared_at is None


@dataclass(frozen=True)
class Override:
    id: str
    rules: tuple[str, ...]
    reason: str
    actor: str
    confirmers: tuple[str, ...]
    at: str
    command: str


_T = TypeVar("_T")


def replace(obj: _T, **changes: Any) -> _T:
    """``dataclasses.replace`` for the domain's frozen dataclasses, ~6x faster (the writer
    calls it for every firearm, lot or person a command touches, and once per rule).

    They have no ``__post_init__``, no ``init=False`` field and no slots (a test checks),
    so a copy of the instance's fields with the changed ones set is what ``replace``
    would build. An unknown field is a TypeError, as there."""
    fields = obj.__dataclass_fields__  # type: ignore[attr-defined]
    for k in changes:
        if k not in fields:
            raise TypeError(f"{type(obj).__name__} has no field {k!r}")
    new = object.__new__(type(obj))
    d = new.__dict__
    d.update(obj.__dict__)
    d.update(changes)
    return new
