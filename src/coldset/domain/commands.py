"""Commands: what a person asks coldset to do. One Pydantic model per command.

Every command names its ``production`` and acting person (``actor``), may carry
``confirmations`` (other people's PINs: the performer who watched the
show-clear, the 1st AD, the safety contact), an ``override`` (a reason and the
confirmers a rule names) and an ``idempotency_key`` (a retry with the same key
returns the first result and writes nothing).

Validation is strict: unknown fields are refused, ids are short tags, numbers
are integers. :func:`parse_command` turns a dict into a command or raises
:class:`CommandError` whose message has one line per wrong field.

PINs appear only in fields named ``pin``; :func:`public_dict` drops them, and
only that form goes into a ledger entry.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, model_validator

from coldset.domain.model import (
    ContainerKind,
    CredentialKind,
    DummyMethod,
    DummySource,
    Exemption,
    FirearmType,
    MuzzleDirection,
    Role,
    RoundKind,
    ShotKind,
    SignOffRole,
)

Id = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._\-]{0,63}$",
                          description="a tag: letters, digits, '.', '_' or '-', up to 64")]
Pin = Annotated[str, Field(pattern=r"^[0-9]{4,8}$", description="4 to 8 digits")]
Text = Annotated[str, Field(min_length=1, max_length=2000)]
ShortText = Annotated[str, Field(max_length=200)]
Count = Annotated[int, Field(ge=0, le=1_000_000, strict=True)]
Positive = Annotated[int, Field(ge=1, le=1_000_000, strict=True)]
Position = Annotated[int, Field(ge=1, le=100, strict=True)]
Feet = Annotated[int, Field(ge=0, le=10_000, strict=True)]

#: The actor of an anonymous concern (``raise_concern`` only).
ANONYMOUS = "anonymous"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Confirmation(_Strict):
    person: Id
    pin: Pin


class OverrideRequest(_Strict):
    reason: Text
    confirmers: list[Confirmation] = Field(default_factory=list, max_length=10)


class CommandBase(_Strict):
    production: Id
    actor: Id
    confirmations: list[Confirmation] = Field(default_factory=list, max_length=20)
    override: OverrideRequest | None = None
    idempotency_key: Annotated[str, Field(min_length=1, max_length=128)] | None = None

    @property
    def command_type(self) -> str:
        return self.type  # type: ignore[attr-defined, no-any-return]


# ------------------------------------------------------------------ setup


class CreateProduction(CommandBase):
    """Create a production; ``actor`` becomes its first person, with the admin role."""

    type: Literal["create_production"]
    title: Text
    time_zone: ShortText = "UTC"
    exemption: Exemption = Exemption.none
    actor_name: Text
    pin: Pin | None = None
    inspection_window_min: Annotated[int, Field(ge=1, le=60, strict=True)] = 5
    ammo_grace_min: Annotated[int, Field(ge=0, le=60, strict=True)] = 2
    collect_limit_min: Annotated[int, Field(ge=1, le=240, strict=True)] = 30
    blank_distance_ft: Annotated[int, Field(ge=1, le=1000, strict=True)] = 20
    concern_limit_min: Annotated[int, Field(ge=1, le=10_080, strict=True)] = 240
    pin_lockout_failures: Annotated[int, Field(ge=1, le=20, strict=True)] = 5
    pin_lockout_window_min: Annotated[int, Field(ge=1, le=1440, strict=True)] = 15


class AddUnit(CommandBase):
    type: Literal["add_unit"]
    unit: Id
    name: Text


class AddSet(CommandBase):
    type: Literal["add_set"]
    set: Id
    unit: Id
    name: Text
    location: ShortText = ""


class AddShootDay(CommandBase):
    type: Literal["add_shoot_day"]
    shoot_day: Id
    date: date


class AddPerson(CommandBase):
    type: Literal["add_person"]
    person: Id
    name: Text
    roles: list[Role] = Field(default_factory=list, max_length=10)
    pin: Pin | None = None


class GrantRole(CommandBase):
    type: Literal["grant_role"]
    person: Id
    role: Role


class RevokeRole(CommandBase):
    type: Literal["revoke_role"]
    person: Id
    role: Role


class RecordCredential(CommandBase):
    type: Literal["record_credential"]
    person: Id
    kind: CredentialKind
    number: ShortText
    issuer: ShortText = ""
    expires: date


class SetPin(CommandBase):
    """A person sets (or changes) their own PIN; an admin may set a first PIN."""

    type: Literal["set_pin"]
    person: Id
    pin: Pin


class ResetPin(CommandBase):
    """A handler (or admin) resets a locked or forgotten PIN."""

    type: Literal["reset_pin"]
    person: Id
    pin: Pin


class AddContainer(CommandBase):
    type: Literal["add_container"]
    container: Id
    kind: ContainerKind
    name: Text
    unit: Id | None = None


# ------------------------------------------------------------------ inventory


class ReceiveFirearm(CommandBase):
    """Acquisition, in the fields of an ATF bound book; the firearm goes into a container."""

    type: Literal["receive_firearm"]
    firearm: Id
    manufacturer: Text
    importer: ShortText = ""
    model: Text
    serial: Text
    firearm_type: FirearmType
    caliber: ShortText
    capacity: Annotated[int, Field(ge=0, le=100, strict=True)]
    owner: ShortText = ""
    receipt_date: date
    receipt_source: Text
    container: Id


class ReturnFirearm(CommandBase):
    """Disposition: the firearm leaves the production (back to the rental house, ...)."""

    type: Literal["return_firearm"]
    firearm: Id
    disposition_date: date
    recipient: Text


class ReceiveLot(CommandBase):
    type: Literal["receive_lot"]
    lot: Id
    kind: RoundKind
    caliber: ShortText
    maker: ShortText
    count: Positive
    load: ShortText = ""
    dummy_source: DummySource | None = None
    receipt_date: date
    receipt_source: Text
    container: Id


class ReturnLot(CommandBase):
    """Disposition of the rounds of a lot still in stock (returned or destroyed)."""

    type: Literal["return_lot"]
    lot: Id
    count: Positive
    recipient: Text
    container: Id | None = None   # where the rounds are taken from; else the actor's hand


class VerifyDummyLot(CommandBase):
    type: Literal["verify_dummy_lot"]
    lot: Id
    method: DummyMethod
    sample: Positive
    result: Literal["pass", "fail"]


class LockContainer(CommandBase):
    """Put firearms and rounds the actor holds into a container and lock it.

    Leaving ``firearms`` / ``rounds`` out puts in everything the actor holds.
    """

    type: Literal["lock_container"]
    container: Id
    firearms: list[Id] | None = Field(default=None, max_length=500)
    rounds: dict[Id, Positive] | None = None


class UnlockContainer(CommandBase):
    """Open a container: everything in it passes into the actor's custody."""

    type: Literal["unlock_container"]
    container: Id


# ------------------------------------------------------------------ people


class CheckIn(CommandBase):
    type: Literal["check_in"]
    unit: Id
    set: Id


class CheckOut(CommandBase):
    type: Literal["check_out"]
    unit: Id


class RecordTraining(CommandBase):
    type: Literal["record_training"]
    performer: Id
    weapon_type: FirearmType


class RecordConsent(CommandBase):
    """The performer's consent to handle a weapon type (actor, or confirmed by their PIN)."""

    type: Literal["record_consent"]
    performer: Id
    weapon_type: FirearmType


# ------------------------------------------------------------------ scenes


class ShotIn(_Strict):
    number: Positive
    kind: ShotKind = ShotKind.take
    muzzle: MuzzleDirection
    target: ShortText = ""
    closest_distance_ft: Feet
    blanks: bool = False
    firearm: Id | None = None


class PlanFirearmIn(_Strict):
    firearm: Id
    rounds: Literal["blank", "dummy"] | None = None
    load: ShortText | None = None
    close_range_load: ShortText | None = None


class ScheduleScene(CommandBase):
    type: Literal["schedule_scene"]
    scene: Id
    shoot_day: Id
    unit: Id
    set: Id
    title: Text
    firearms: list[PlanFirearmIn] = Field(default_factory=list, max_length=50)
    shots: list[ShotIn] = Field(default_factory=list, max_length=200)
    mitigations: list[ShortText] = Field(default_factory=list, max_length=20)
    cast_crew: list[Id] = Field(default_factory=list, max_length=500)

    @model_validator(mode="after")
    def _shots_numbered_once(self) -> ScheduleScene:
        numbers = [s.number for s in self.shots]
        if len(numbers) != len(set(numbers)):
            raise ValueError("shot numbers must be unique")
        return self


class SignOffPlan(CommandBase):
    type: Literal["sign_off_plan"]
    scene: Id
    as_role: SignOffRole


class HoldSafetyMeeting(CommandBase):
    type: Literal["hold_safety_meeting"]
    shoot_day: Id
    scene: Id | None = None
    attendees: list[Id] = Field(min_length=1, max_length=500)
    absent: list[Id] = Field(default_factory=list, max_length=500)
    topics: ShortText = ""


class WrapScene(CommandBase):
    type: Literal["wrap_scene"]
    scene: Id


# ------------------------------------------------------------------ handling


class Inspect(CommandBase):
    """A show-clear or barrel check: every chamber (or magazine and chamber) and the barrel."""

    type: Literal["inspect"]
    firearm: Id
    chambers: list[Literal["empty", "dummy", "blank", "spent", "live", "obstructed"]] = (
        Field(default_factory=list, max_length=100))
    barrel_clear: bool
    function_check: bool = False


class Issue(CommandBase):
    """Hand a firearm to a performer for a scene (the performer confirms with their PIN)."""

    type: Literal["issue"]
    firearm: Id
    to: Id
    scene: Id | None = None


class Collect(CommandBase):
    type: Literal["collect"]
    firearm: Id


class Transfer(CommandBase):
    """Pass a firearm from its holder to another person (see ``no-performer-transfer``)."""

    type: Literal["transfer"]
    firearm: Id
    to: Id


class Load(CommandBase):
    type: Literal["load"]
    firearm: Id
    lot: Id
    positions: list[Position] = Field(min_length=1, max_length=100)
    scene: Id | None = None
    shot: Positive | None = None
    container: Id | None = None    # rounds come from this container, else the actor's hand

    @model_validator(mode="after")
    def _positions_once(self) -> Load:
        if len(self.positions) != len(set(self.positions)):
            raise ValueError("positions must not repeat")
        return self


class Unload(CommandBase):
    """Take every round and spent case out; unfired rounds go to a container or the actor."""

    type: Literal["unload"]
    firearm: Id
    container: Id | None = None


class Discharge(CommandBase):
    type: Literal["discharge"]
    firearm: Id
    positions: list[Position] = Field(min_length=1, max_length=100)
    scene: Id | None = None
    shot: Positive | None = None

    @model_validator(mode="after")
    def _positions_once(self) -> Discharge:
        if len(self.positions) != len(set(self.positions)):
            raise ValueError("positions must not repeat")
        return self


# ------------------------------------------------------------------ incidents


class ReportIncident(CommandBase):
    type: Literal["report_incident"]
    kind: Literal["misfire", "squib", "unexpected_discharge", "malfunction", "injury",
                  "near_miss"]
    firearm: Id | None = None
    lot: Id | None = None
    unit: Id | None = None
    description: Text


class ReportLiveRound(CommandBase):
    type: Literal["report_live_round"]
    description: Text
    firearm: Id | None = None
    lot: Id | None = None
    unit: Id | None = None


class CallStopWork(CommandBase):
    type: Literal["call_stop_work"]
    reason: Text
    unit: Id | None = None       # None: the whole production


class ClearStopWork(CommandBase):
    """Handler and safety contact (actor + confirmation) clear a stop-work."""

    type: Literal["clear_stop_work"]
    stop_work: Id
    note: ShortText = ""


class ReleaseQuarantine(CommandBase):
    """Return a firearm (after a barrel inspection and function check) or lot to service."""

    type: Literal["release_quarantine"]
    firearm: Id | None = None
    lot: Id | None = None
    note: ShortText = ""

    @model_validator(mode="after")
    def _one_thing(self) -> ReleaseQuarantine:
        if (self.firearm is None) == (self.lot is None):
            raise ValueError("name exactly one of firearm or lot")
        return self


class RaiseConcern(CommandBase):
    """Anyone raises a safety concern; actor ``anonymous`` keeps it anonymous."""

    type: Literal["raise_concern"]
    text: Text
    unit: Id | None = None


class AcknowledgeConcern(CommandBase):
    type: Literal["acknowledge_concern"]
    concern: Id
    answer: Text


class ResolveAlert(CommandBase):
    type: Literal["resolve_alert"]
    alert: Id
    resolution: Text


class CheckAlerts(CommandBase):
    """Ask the time-based rules (grace periods, limits) whether an alert is due."""

    type: Literal["check_alerts"]


class ReconcileCounts(CommandBase):
    """Count a lot's rounds in stock; the difference from the expected count is recorded."""

    type: Literal["reconcile_counts"]
    lot: Id
    counted: Count
    cases_recovered: Count = 0
    explanation: ShortText = ""


# ------------------------------------------------------------------ the day


class StartMealBreak(CommandBase):
    type: Literal["start_meal_break"]
    unit: Id


class EndMealBreak(CommandBase):
    type: Literal["end_meal_break"]
    unit: Id


class WrapDay(CommandBase):
    type: Literal["wrap_day"]
    shoot_day: Id


Command = Annotated[
    CreateProduction | AddUnit | AddSet | AddShootDay | AddPerson | GrantRole | RevokeRole
    | RecordCredential | SetPin | ResetPin | AddContainer
    | ReceiveFirearm | ReturnFirearm | ReceiveLot | ReturnLot | VerifyDummyLot
    | LockContainer | UnlockContainer
    | CheckIn | CheckOut | RecordTraining | RecordConsent
    | ScheduleScene | SignOffPlan | HoldSafetyMeeting | WrapScene
    | Inspect | Issue | Collect | Transfer | Load | Unload | Discharge
    | ReportIncident | ReportLiveRound | CallStopWork | ClearStopWork | ReleaseQuarantine
    | RaiseConcern | AcknowledgeConcern | ResolveAlert | CheckAlerts | ReconcileCounts
    | StartMealBreak | EndMealBreak | WrapDay,
    Field(discriminator="type"),
]

_ADAPTER: TypeAdapter[Command] = TypeAdapter(Command)

#: command type name -> model class
COMMAND_TYPES: dict[str, type[CommandBase]] = {
    cls.model_fields["type"].annotation.__args__[0]: cls  # type: ignore[union-attr]
    for cls in CommandBase.__subclasses__()
}


class CommandError(ValueError):
    """Malformed command input. ``errors`` is a list of (field, message)."""

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{f}: {m}" if f else m for f, m in errors))

    def lines(self) -> list[str]:
        return [f"{f}: {m}" if f else m for f, m in self.errors]


def _field(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in COMMAND_TYPES:
        parts = parts[1:]  # drop the union tag pydantic puts first
    return ".".join(parts)


def parse_command(data: Any) -> CommandBase:
    """A command from a dict, or :class:`CommandError` with one line per wrong field."""
    if isinstance(data, CommandBase):
        return data
    if not isinstance(data, dict):
        raise CommandError([("", "a command must be an object with a 'type' field")])
    t = data.get("type")
    if t not in COMMAND_TYPES:
        raise CommandError([("type", f"unknown command type {t!r}; one of: "
                             + ", ".join(sorted(COMMAND_TYPES)))])
    try:
        return _ADAPTER.validate_python(data)  # type: ignore[return-value]
    except ValidationError as e:
        errors = []
        for err in e.errors(include_url=False):
            msg = err["msg"]
            if err["type"] == "extra_forbidden":
                msg = "unknown field (not part of this command)"
            elif err["type"] == "missing":
                msg = "required"
            elif err["type"] == "string_pattern_mismatch":
                pattern = str((err.get("ctx") or {}).get("pattern", ""))
                msg = ("must be 4 to 8 digits" if "0-9]{4" in pattern else
                       "must be a tag: letters, digits, '.', '_' or '-' (up to 64, no spaces)")
            errors.append((_field(err["loc"]), msg))
        raise CommandError(errors) from None


def _strip_pins(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_pins(v) for k, v in value.items() if k != "pin"}
    if isinstance(value, list):
        return [_strip_pins(v) for v in value]
    return value


def public_dict(cmd: CommandBase) -> dict[str, Any]:
    """The command as it goes into a ledger entry: JSON types, no PINs, no empty defaults."""
    d = cmd.model_dump(mode="json", exclude_none=True)
    return _strip_pins(d)  # type: ignore[no-any-return]


def confirmers(cmd: CommandBase) -> list[Confirmation]:
    """Every (person, PIN) the command carries: confirmations and override confirmers."""
    out = list(cmd.confirmations)
    if cmd.override is not None:
        out.extend(cmd.override.confirmers)
    return out
