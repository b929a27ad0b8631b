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

import re
from datetime import date
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    model_validator,
)
from pydantic_core import PydanticCustomError

from coldset.domain.model import (
    ContainerKind,
    CredentialKind,
    DummyMethod,
    DummySource,
    Exemption,
    FirearmType,
    MitigationKind,
    MuzzleDirection,
    Role,
    RoundKind,
    ShotKind,
    SignOffRole,
    mitigation_kind,
)
from coldset.text import TextError, clean_text


def _text_check(multiline: bool) -> BeforeValidator:
    """Every text field runs :func:`coldset.text.clean_text` on what was sent, before
    Pydantic's own checks (type, length, pattern): no NUL or other control character, no
    line break in a single-line field, no lone surrogate; ends stripped, NFC. So the same
    input gets the same answer on SQLite and PostgreSQL, and nothing that cannot be stored
    gets past parsing."""

    def check(value: Any) -> Any:
        if not isinstance(value, str):
            return value  # Pydantic's type check refuses it
        try:
            return clean_text(value, multiline=multiline)
        except TextError as e:
            raise PydanticCustomError(e.code, e.message) from None

    return BeforeValidator(check)


#: One line of text: no control characters, no line breaks or tabs (see coldset.text).
_LINE = _text_check(multiline=False)
#: Free text over several lines: line breaks and tabs allowed, nothing else of the kind.
_LINES = _text_check(multiline=True)

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._\-]{0,63}$"
_ID_RE = re.compile(ID_PATTERN.rstrip("$"))


def is_id(value: object) -> bool:
    """Could ``value`` be an id (of a production, person, firearm, ...)? Every id was an
    ``Id`` when it was created, so anything else names nothing: a read asked for it
    answers "not found" without asking the database (PostgreSQL refuses a NUL)."""
    return isinstance(value, str) and _ID_RE.fullmatch(value) is not None


Id = Annotated[
    str,
    _LINE,
    Field(pattern=ID_PATTERN, description="a tag: letters, digits, '.', '_' or '-', up to 64"),
]
Pin = Annotated[str, _LINE, Field(pattern=r"^[0-9]{4,8}$", description="4 to 8 digits")]
#: Free text in plain words: several lines allowed (descriptions, reasons, answers).
Text = Annotated[str, _LINES, Field(min_length=1, max_length=2000)]
ShortText = Annotated[str, _LINE, Field(max_length=200)]
#: A short reason a person must give (clearing a stop-work, releasing a quarantine): one
#: line, never empty or only spaces (the model strips whitespace before it counts).
Why = Annotated[str, _LINE, Field(min_length=1, max_length=200)]
#: A name or title: required, one line (a person's, a unit's, a firearm's model or serial).
Name = Annotated[str, _LINE, Field(min_length=1, max_length=2000)]
#: An optional free-text reason (withdraw_consent).
Reason = Annotated[str, _LINES, Field(max_length=500)]
#: An idempotency key: any single line up to 128 characters.
Key = Annotated[str, _LINE, Field(min_length=1, max_length=128)]
#: Every text type a command field may have (tests check no field uses a bare str).
TEXT_TYPES = (Id, Pin, Text, ShortText, Why, Name, Reason, Key)
Count = Annotated[int, Field(ge=0, le=1_000_000, strict=True)]
ClockTime = Annotated[
    str, _LINE, Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$", description="HH:MM, 24-hour")
]
Positive = Annotated[int, Field(ge=1, le=1_000_000, strict=True)]
Position = Annotated[int, Field(ge=1, le=100, strict=True)]
Feet = Annotated[int, Field(ge=0, le=10_000, strict=True)]

#: The actor of an anonymous concern (``raise_concern`` only).
ANONYMOUS = "anonymous"
#: The actor of the server's own time-based checks (``check_alerts`` only).
SYSTEM = "coldset"
#: Ids no person may take: they name the anonymous and the system actor.
RESERVED_PEOPLE = frozenset({ANONYMOUS, SYSTEM})


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Confirmation(_Strict):
    """One person confirming a command with their own PIN."""

    person: Id = Field(description="Id of the person confirming, e.g. alec")
    pin: Pin = Field(description="Their PIN: 4 to 8 digits")


class OverrideRequest(_Strict):
    """Override a rule that allows it: a reason and the PINs of the people the rule names."""

    reason: Text = Field(
        description="Why the rule is overridden, in plain words (recorded and "
        "shown in every report)"
    )
    confirmers: list[Confirmation] = Field(
        default_factory=list,
        max_length=10,
        description="The people the rule names, each with their PIN (on the command "
        "line: --override-confirm dave, the PIN asked for)",
    )


class CommandBase(_Strict):
    """What every command carries: the production, who acts, confirmations, override, key."""

    production: Id = Field(description="Production id, e.g. dusty-trail")
    actor: Id = Field(description="Id of the person doing this (you), e.g. hana")
    confirmations: list[Confirmation] = Field(
        default_factory=list,
        max_length=20,
        description="People confirming with their own PIN (on the command line: --confirm "
        "alec, the PIN asked for): the performer, 1st AD or safety contact a rule "
        "asks for",
    )
    override: OverrideRequest | None = Field(
        None, description="Override a rule that allows it: a reason and the confirmers' PINs"
    )
    idempotency_key: Key | None = Field(
        None,
        description="Any unique text up to 128 characters; a retry with the same key "
        "returns the first result and writes nothing",
    )

    @property
    def command_type(self) -> str:
        return self.type  # type: ignore[attr-defined, no-any-return]


# ------------------------------------------------------------------ setup


class CreateProduction(CommandBase):
    """Create a new production; you become its first person, with the admin role.

    The settings (minutes, feet) are the production's numbers for the safety rules; the
    defaults are the industry defaults. An exemption from the live-ammunition ban
    (no-live-ammo) can only be set here and is shown on every screen and report.
    """

    type: Literal["create_production"]
    title: Name = Field(description="The production's title, e.g. Dusty Trail")
    time_zone: ShortText = Field(
        "UTC", description="IANA time zone of the shoot, e.g. America/Denver (sets the day)"
    )
    exemption: Exemption = Field(
        Exemption.none,
        description="Cal. Labor Code §9155 exemption from the live-ammunition "
        "ban; none for a normal production",
    )
    actor_name: Name = Field(description="Your full name, e.g. Maria Ortega")
    pin: Pin | None = Field(None, description="Your PIN, 4 to 8 digits")
    inspection_window_min: Annotated[int, Field(ge=1, le=60, strict=True)] = Field(
        5, description="Minutes between show-clear and issue (show-clear-before-issue), 1 to 60"
    )
    ammo_grace_min: Annotated[int, Field(ge=0, le=60, strict=True)] = Field(
        2,
        description="Minutes ammunition may sit outside a locked container before an alert "
        "(ammo-secured), 0 to 60",
    )
    collect_limit_min: Annotated[int, Field(ge=1, le=240, strict=True)] = Field(
        30,
        description="Minutes a performer may keep a firearm before an alert "
        "(collect-after-take), 1 to 240",
    )
    blank_distance_ft: Annotated[int, Field(ge=1, le=1000, strict=True)] = Field(
        20,
        description="Minimum distance in feet from a muzzle firing blanks to any person "
        "(blank-distance), 1 to 1000",
    )
    concern_limit_min: Annotated[int, Field(ge=1, le=10_080, strict=True)] = Field(
        240, description="Minutes to acknowledge a safety concern (concern-answered), 1 to 10080"
    )
    pin_lockout_failures: Annotated[int, Field(ge=1, le=20, strict=True)] = Field(
        5, description="Wrong PINs in a row that lock a person's PIN, 1 to 20"
    )
    pin_lockout_window_min: Annotated[int, Field(ge=1, le=1440, strict=True)] = Field(
        15, description="Minutes in which those wrong PINs count, 1 to 1440"
    )

    @model_validator(mode="after")
    def _known_time_zone(self) -> CreateProduction:
        """The zone every time is shown in (and that sets the shoot day): a real IANA
        name, or the rules could not tell the day."""
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {self.time_zone!r}: use an IANA name such "
                "as America/Denver, Europe/London or UTC"
            ) from None
        return self


class AddUnit(CommandBase):
    """Add a unit (a shooting crew, e.g. main unit or second unit) to the production.

    Who: an admin or producer.
    """

    type: Literal["add_unit"]
    unit: Id = Field(description="New unit id, e.g. main")
    name: Name = Field(description="The unit's name, e.g. Main unit")


class AddSet(CommandBase):
    """Add a set (a place where a unit shoots) to a unit.

    Who: an admin, producer or 1st AD.
    """

    type: Literal["add_set"]
    set: Id = Field(description="New set id, e.g. church")
    unit: Id = Field(description="Id of the unit that shoots there, e.g. main")
    name: Name = Field(description="The set's name, e.g. Old church")
    location: ShortText = Field("", description="Where it is, e.g. Bonanza Creek Ranch")


class AddShootDay(CommandBase):
    """Add a shoot day to the schedule; scenes are scheduled on shoot days.

    Who: an admin, producer or 1st AD. A shoot day runs from its call time to its wrap
    time and may cross midnight (call 18:00, wrap 06:00 ends the next morning); without
    times it is the calendar day. Shoot days do not overlap.
    """

    type: Literal["add_shoot_day"]
    shoot_day: Id = Field(description="New shoot day id, e.g. day-1")
    # Annotated, not "= Field(...)": a default named like its type would shadow the type.
    date: Annotated[date, Field(description="The date of the call, YYYY-MM-DD")]
    call: ClockTime = Field("00:00", description="Call time, HH:MM local, e.g. 18:00")
    wrap: ClockTime = Field(
        "00:00",
        description="Planned wrap, HH:MM local; at or before "
        "the call it is the next day, e.g. 06:00",
    )


class AddPerson(CommandBase):
    """Add a person (cast or crew) to the production, with their roles and optionally a PIN.

    Who: an admin or producer. Handlers also need credentials (record-credential) and
    performers training and consent (record-training, record-consent) before firearm work.
    """

    type: Literal["add_person"]
    person: Id = Field(description="New person id, e.g. alec")
    name: Name = Field(description="Their full name, e.g. Alec Barrow")
    roles: list[Role] = Field(
        default_factory=list, max_length=10, description="Their roles on this production"
    )
    pin: Pin | None = Field(
        None, description="Their first PIN, 4 to 8 digits (they can change it with set-pin)"
    )


class GrantRole(CommandBase):
    """Give a person one more role on this production (e.g. make someone the safety contact).

    Who: an admin or producer.
    """

    type: Literal["grant_role"]
    person: Id = Field(description="Id of the person, e.g. lee")
    role: Role = Field(description="The role to give")


class RevokeRole(CommandBase):
    """Take a role away from a person on this production.

    Who: an admin or producer.
    """

    type: Literal["revoke_role"]
    person: Id = Field(description="Id of the person, e.g. lee")
    role: Role = Field(description="The role to take away")


class RecordCredential(CommandBase):
    """Record a handler's credential (permit, federal licence, safety course) and its expiry.

    Who: an admin, producer or safety contact. A handler with an expired or missing credential
    can do no handler action (handler-credentials).
    """

    type: Literal["record_credential"]
    person: Id = Field(description="Id of the handler, e.g. hana")
    kind: CredentialKind = Field(description="Which credential")
    number: ShortText = Field(description="Its number, as printed, e.g. EFP-12345")
    issuer: ShortText = Field("", description="Who issued it, e.g. State of California")
    expires: date = Field(description="Expiry date, YYYY-MM-DD (it is valid through that day)")


class SetPin(CommandBase):
    """Set or change your own PIN (an admin may set someone's first PIN).

    Your PIN is how you confirm commands for others (a show-clear you watched, a sign-off).
    A PIN locked after too many wrong tries is reset by a handler (reset-pin).
    """

    type: Literal["set_pin"]
    person: Id = Field(description="Id of the person whose PIN this is (normally you)")
    pin: Pin = Field(description="The new PIN, 4 to 8 digits")


class ResetPin(CommandBase):
    """Reset a person's locked or forgotten PIN to a new one.

    Who: a handler or an admin.
    """

    type: Literal["reset_pin"]
    person: Id = Field(description="Id of the person whose PIN is reset, e.g. alec")
    pin: Pin = Field(description="The new PIN, 4 to 8 digits")


class AddContainer(CommandBase):
    """Add a lockable container (safe, cart, ammo box, case) for firearms and ammunition.

    Who: a handler or an admin. Firearms and rounds not with a person are in a locked
    container (single-custody, ammo-secured).
    """

    type: Literal["add_container"]
    container: Id = Field(description="New container id, e.g. safe-main")
    kind: ContainerKind = Field(description="What kind of container")
    name: Name = Field(description="Its name, e.g. Main unit truck safe")
    unit: Id | None = Field(None, description="Id of the unit it belongs to, e.g. main")


# ------------------------------------------------------------------ inventory


class ReceiveFirearm(CommandBase):
    """Receive a firearm onto the production (ATF bound-book acquisition) into a container.

    Who: a handler with current credentials (handler-credentials). A locked container takes
    the firearm in; an open one leaves it in your custody.
    """

    type: Literal["receive_firearm"]
    firearm: Id = Field(description="New firearm id, e.g. colt-1")
    manufacturer: Name = Field(description="Manufacturer, e.g. Colt")
    importer: ShortText = Field("", description="Importer, if imported, e.g. EMF Company")
    model: Name = Field(description="Model, e.g. Single Action Army")
    serial: Name = Field(description="Serial number, as stamped")
    firearm_type: FirearmType = Field(description="Type of firearm")
    caliber: ShortText = Field(description="Caliber or gauge, e.g. .45 Colt (n/a for a prop)")
    capacity: Annotated[int, Field(ge=0, le=100, strict=True)] = Field(
        description="Number of chamber positions (cylinder, or magazine + chamber); 0 for a "
        "non-firing prop"
    )
    owner: ShortText = Field("", description="Who owns it, e.g. Tombstone Rentals")
    receipt_date: date = Field(description="Date received, YYYY-MM-DD")
    receipt_source: Text = Field(description="Received from (name, address or FFL number)")
    container: Id = Field(description="Id of the container it goes into, e.g. safe-main")


class ReturnFirearm(CommandBase):
    """Return a firearm that leaves the production (ATF bound-book disposition).

    Who: a handler holding the firearm, unloaded.
    """

    type: Literal["return_firearm"]
    firearm: Id = Field(description="Id of the firearm, e.g. colt-1")
    disposition_date: date = Field(description="Date it leaves, YYYY-MM-DD")
    recipient: Text = Field(description="Who receives it (name, address or FFL number)")


class ReceiveLot(CommandBase):
    """Receive a lot of blank or dummy rounds into a container, with its count.

    Who: a handler. Live rounds are refused (no-live-ammo); dummies must be commercial and
    then verified (dummy-verified, verify-dummy-lot) before they are loaded.
    """

    type: Literal["receive_lot"]
    lot: Id = Field(description="New lot id, e.g. blank-45")
    kind: RoundKind = Field(description="Kind of rounds (live is refused)")
    caliber: ShortText = Field(description="Caliber, e.g. .45 Colt (must match the firearm)")
    maker: ShortText = Field(description="Maker, e.g. Stembridge")
    count: Positive = Field(description="Number of rounds received")
    load: ShortText = Field("", description="Blank load as labelled, e.g. 1/4 load")
    dummy_source: DummySource | None = Field(
        None, description="For dummies: where they come from (only commercial is allowed)"
    )
    receipt_date: date = Field(description="Date received, YYYY-MM-DD")
    receipt_source: Text = Field(description="Received from, e.g. Stembridge Gun Rentals")
    container: Id = Field(description="Id of the container the rounds go into, e.g. safe-main")


class ReturnLot(CommandBase):
    """Return or destroy rounds of a lot still in stock (disposition), with the count.

    Who: a handler. The rounds come from an open container or from your hands.
    """

    type: Literal["return_lot"]
    lot: Id = Field(description="Id of the lot, e.g. blank-45")
    count: Positive = Field(description="Number of rounds that leave")
    recipient: Text = Field(description="Who receives them, or destroyed and how")
    container: Id | None = Field(
        None, description="Id of the open container they come from; leave out if you hold them"
    )


class VerifyDummyLot(CommandBase):
    """Record the check that a lot of dummy rounds is truly inert, and its result.

    Who: a handler. Dummies are loaded only from a lot with a passing verification of
    every round loaded: a lot checked in part is loaded only up to the count checked, and
    passing checks of the same lot add up (dummy-verified).
    """

    type: Literal["verify_dummy_lot"]
    lot: Id = Field(description="Id of the dummy lot, e.g. dummy-45")
    method: DummyMethod = Field(
        description="How the rounds were checked: no primer, inert "
        "primer, side hole or drilled, rattle, see-through body, marking"
    )
    sample: Positive = Field(
        description="Number of rounds checked (all of them to load the whole lot)"
    )
    result: Literal["pass", "fail"] = Field(description="Result of the check")


class LockContainer(CommandBase):
    """Put the firearms and rounds you hold into a container and lock it.

    Leave out firearms and rounds to put in everything you hold (after opening it with
    leave_inside: nothing more; what you took out stays with you). Lock up after use
    (single-custody, ammo-secured); a meal break or wrap with ammunition outside is refused.
    """

    type: Literal["lock_container"]
    container: Id = Field(description="Id of the container, e.g. safe-main")
    firearms: list[Id] | None = Field(
        default=None, max_length=500, description="Ids of the firearms to put in, e.g. colt-1"
    )
    rounds: dict[Id, Positive] | None = Field(
        None, description='Rounds to put in per lot, as JSON, e.g. {"blank-45": 12}'
    )


class UnlockContainer(CommandBase):
    """Open a locked container. Leave out leave_inside and everything in it passes into your
    custody; with leave_inside the contents stay in the open container: take out what you
    need (take_from_container), lock it again, and the rest stays locked away.

    Who: a handler (armorer-only-handoff). Taking a firearm out is a break in custody: inspect
    again before issuing (recheck-after-break).
    """

    type: Literal["unlock_container"]
    container: Id = Field(description="Id of the container, e.g. safe-main")
    leave_inside: bool | None = Field(
        None,
        description="true: open it and leave the contents inside; leave out to take "
        "everything in it into your custody",
    )


class TakeFromContainer(CommandBase):
    """Take firearms or rounds out of an open container into your custody.

    Who: a handler. Name what you take; what you leave stays in the container and is locked
    away again when the container is locked.
    """

    type: Literal["take_from_container"]
    container: Id = Field(description="Id of the open container, e.g. safe-main")
    firearms: list[Id] = Field(
        default_factory=list,
        max_length=500,
        description="Ids of the firearms to take out, e.g. colt-1",
    )
    rounds: dict[Id, Positive] = Field(
        default_factory=dict,
        description='Rounds to take out per lot, as JSON, e.g. {"blank-45": 12}',
    )


class PutInContainer(CommandBase):
    """Put firearms or rounds you hold into an open container (it stays open).

    Who: whoever holds them. Lock the container to lock them away (lock_container).
    """

    type: Literal["put_in_container"]
    container: Id = Field(description="Id of the open container, e.g. safe-main")
    firearms: list[Id] = Field(
        default_factory=list,
        max_length=500,
        description="Ids of the firearms to put in, e.g. colt-1",
    )
    rounds: dict[Id, Positive] = Field(
        default_factory=dict, description='Rounds to put in per lot, as JSON, e.g. {"blank-45": 12}'
    )


# ------------------------------------------------------------------ people


class CheckIn(CommandBase):
    """Check yourself in as the handler on a unit's set.

    Who: a handler. Issue, load and collect need the handler checked in (handler-present);
    a handler works on one unit while its firearms are out (armorer-dedicated).
    """

    type: Literal["check_in"]
    unit: Id = Field(description="Id of the unit, e.g. main")
    set: Id = Field(description="Id of the set, on that unit, e.g. church")
    task: ShortText | None = Field(
        None,
        description="A duty other than firearms you check in for, e.g. props (leave "
        "out when you are there as the firearms handler; armorer-dedicated)",
    )


class CheckOut(CommandBase):
    """Check yourself out as the handler of a unit.

    Who: the checked-in handler, holding no firearm: lock them away or hand them to another
    handler first (single-custody).
    """

    type: Literal["check_out"]
    unit: Id = Field(description="Id of the unit, e.g. main")


class RecordTraining(CommandBase):
    """Record that a performer was trained by you on a weapon type.

    Who: a handler. A performer gets a firearm only after training and consent for its type
    (performer-trained).
    """

    type: Literal["record_training"]
    performer: Id = Field(description="Id of the performer trained, e.g. alec")
    weapon_type: FirearmType = Field(description="The type of firearm they were trained on")


class RecordConsent(CommandBase):
    """Record a performer's consent to handle a weapon type.

    The performer gives it themselves, or confirms it with their PIN (--confirm).
    Needed before issue (performer-trained).
    """

    type: Literal["record_consent"]
    performer: Id = Field(description="Id of the performer consenting, e.g. alec")
    weapon_type: FirearmType = Field(description="The type of firearm they agree to handle")


class WithdrawConsent(CommandBase):
    """Withdraw a performer's consent to handle a weapon type, at any time, for any reason.

    The performer does it themselves, or confirms it with their PIN (--confirm) on the
    armorer's tablet; nobody can do it for them and nobody has to agree. From then on
    no firearm of that type is issued to them (performer-trained) until they consent
    again. A firearm of that type they hold now stays recorded with them: the handler
    collects it.
    """

    type: Literal["withdraw_consent"]
    performer: Id = Field(description="Id of the performer withdrawing, e.g. alec")
    weapon_type: FirearmType = Field(
        description="The type of firearm they no longer agree to handle"
    )
    reason: Reason | None = Field(
        None, description="Why, if they want to say (optional; it goes into the record)"
    )


# ------------------------------------------------------------------ scenes


class ShotIn(_Strict):
    """One shot of a scene's firearm plan: muzzle direction, distance and whether it fires."""

    number: Positive = Field(description="Shot number within the scene, from 1")
    kind: ShotKind = Field(ShotKind.take, description="A take, or a rehearsal (never blanks)")
    muzzle: MuzzleDirection = Field(
        description="Where the muzzle points: clear, person or "
        "camera (the last two need mitigation)"
    )
    target: ShortText = Field("", description="What it points at, e.g. sky, wall")
    closest_distance_ft: Feet = Field(
        description="Closest distance from the muzzle to any person, in feet"
    )
    blanks: bool = Field(False, description="Whether the shot fires blanks")
    firearm: Id | None = Field(
        None, description="Id of the firearm used in this shot, if one of several"
    )


class PlanFirearmIn(_Strict):
    """One firearm in a scene's plan, with the rounds it uses."""

    firearm: Id = Field(description="Id of the firearm, e.g. colt-1")
    rounds: Literal["blank", "dummy"] | None = Field(
        None, description="Rounds it uses: blank, dummy, or none (shown clear, empty)"
    )
    load: ShortText | None = Field(None, description="Blank load, e.g. 1/4 load")
    close_range_load: ShortText | None = Field(
        None, description="Specialty close-range load for shots closer than the blank distance"
    )


def _mitigation_from_text(value: Any) -> Any:
    """A mitigation written in words ("cheated angle: 15 degrees off the line") is read as
    its kind with the words as its note; text that names no kind is refused."""
    if not isinstance(value, str):
        return value
    try:
        text = clean_text(value, multiline=False)
    except TextError as e:
        raise PydanticCustomError(e.code, e.message) from None
    kind = mitigation_kind(text)
    if kind is None or kind == MitigationKind.other:
        raise PydanticCustomError(
            "mitigation_kind",
            "say which mitigation it is: it must start with one of "
            + ", ".join(k.value.replace("_", " ") for k in MITIGATION_KINDS)
            + " (e.g. 'remote camera, operator behind a shield')",
        )
    return {"kind": kind.value, "note": text}


#: The kinds a command may name (``other`` exists only in old logs).
MITIGATION_KINDS = tuple(k for k in MitigationKind if k != MitigationKind.other)


class MitigationIn(_Strict):
    """One mitigation of a scene's firearm plan: its kind, and the shots it covers.

    Given as plain text, its first words name the kind: "cheated angle: ...", "remote
    camera", "shield", "mirror", "non-firing replica". A non-firing replica covers a shot
    only when the firearm issued for it is one (muzzle-plan)."""

    kind: Literal["replica", "remote_camera", "shield", "offset_angle", "mirror"] = Field(
        description="Which mitigation: replica (non-firing), remote_camera, shield, "
        "offset_angle (a cheated angle) or mirror"
    )
    note: ShortText = Field("", description="In plain words, e.g. 15 degrees off the line")
    shots: list[Positive] = Field(
        default_factory=list, max_length=200, description="Shot numbers it covers; none: every shot"
    )


class ScheduleScene(CommandBase):
    """Schedule a scene on a shoot day, with its firearm plan (firearms, shots, muzzle, people).

    Who: an admin, producer, 1st AD or handler. A firearm is issued only for a scheduled scene
    whose plan lists it (scene-bound); muzzles at a person or camera and blanks closer than the
    minimum distance need mitigation and sign-offs (muzzle-plan, blank-distance).
    """

    type: Literal["schedule_scene"]
    scene: Id = Field(description="New scene id, e.g. sc-12")
    shoot_day: Id = Field(description="Id of the shoot day, e.g. day-1")
    unit: Id = Field(description="Id of the unit shooting it, e.g. main")
    set: Id = Field(description="Id of the set, on that unit, e.g. church")
    title: Name = Field(description="What happens, e.g. Sheriff draws on the preacher")
    firearms: list[PlanFirearmIn] = Field(
        default_factory=list,
        max_length=50,
        description='Firearms in the plan, as JSON, e.g. {"firearm": "colt-1", "rounds": "dummy"}',
    )
    shots: list[ShotIn] = Field(
        default_factory=list,
        max_length=200,
        description='Shots, as JSON, e.g. {"number": 1, "muzzle": "clear", '
        '"closest_distance_ft": 25, "blanks": true}',
    )
    mitigations: list[Annotated[MitigationIn, BeforeValidator(_mitigation_from_text)]] = Field(
        default_factory=list,
        max_length=20,
        description="Each mitigation, starting with its kind, e.g. remote camera (or as "
        'JSON: {"kind": "shield", "shots": [2]})',
    )
    cast_crew: list[Id] = Field(
        default_factory=list,
        max_length=500,
        description="Ids of everyone in the scene's cast and crew",
    )

    @model_validator(mode="after")
    def _shots_numbered_once(self) -> ScheduleScene:
        numbers = [s.number for s in self.shots]
        if len(numbers) != len(set(numbers)):
            raise ValueError("shot numbers must be unique")
        for m in self.mitigations:
            unknown = sorted(set(m.shots) - set(numbers))
            if unknown:
                raise ValueError(
                    f"a {m.kind.replace('_', ' ')} mitigation names shot "
                    f"{', '.join(map(str, unknown))}, which is not in the plan"
                )
        return self


class SignOffPlan(CommandBase):
    """Sign off a scene's firearm plan in your role (handler, 1st AD or safety contact).

    Plans pointing a muzzle at a person or the camera, or firing blanks closer than the
    minimum distance, need all three sign-offs before issue (muzzle-plan, blank-distance).
    """

    type: Literal["sign_off_plan"]
    scene: Id = Field(description="Id of the scene, e.g. sc-20")
    as_role: SignOffRole = Field(description="The role you sign in (you must have it)")


class HoldSafetyMeeting(CommandBase):
    """Record a safety meeting for a shoot day or a scene, with who attended and who was absent.

    Who: a 1st AD, handler or safety contact. Needed each day firearms are used and before
    each scene that uses them; people recorded absent cannot be on that set (safety-meeting).
    """

    type: Literal["hold_safety_meeting"]
    shoot_day: Id = Field(description="Id of the shoot day, e.g. day-1")
    scene: Id | None = Field(
        None, description="Id of the scene it is for; leave out for the day's meeting"
    )
    attendees: list[Id] = Field(
        min_length=1, max_length=500, description="Ids of the people who attended"
    )
    absent: list[Id] = Field(
        default_factory=list,
        max_length=500,
        description="Ids of the people on the list who did not attend",
    )
    topics: ShortText = Field("", description="What was covered, in a few words")


class WrapScene(CommandBase):
    """Mark a scene as wrapped: firearms still with performers raise an alert.

    Who: a 1st AD or handler. Collect every firearm (collect-after-take).
    """

    type: Literal["wrap_scene"]
    scene: Id = Field(description="Id of the scene, e.g. sc-12")


# ------------------------------------------------------------------ handling


class Inspect(CommandBase):
    """Show a firearm clear (or check the barrel): record every chamber and the barrel.

    Who: the handler holding it, in front of the performer and the 1st AD, who confirm with
    their PIN. Needed within minutes before issue (show-clear-before-issue), after any break
    in custody (recheck-after-break) and before blanks follow dummies
    (barrel-check-before-blanks).
    """

    type: Literal["inspect"]
    firearm: Id = Field(description="Id of the firearm, e.g. colt-1")
    chambers: list[Literal["empty", "dummy", "blank", "spent", "live", "obstructed"]] = Field(
        default_factory=list,
        max_length=100,
        description="What each position holds, from position 1 on, one entry per "
        "position, e.g. empty,empty,dummy",
    )
    barrel_clear: bool = Field(description="You looked through the barrel and it is clear")
    function_check: bool = Field(
        False, description="A function check was done too (needed after a misfire)"
    )


class Issue(CommandBase):
    """Hand a firearm to a performer for a scene, after showing it clear in front of them.

    Who: a handler checked in on the set (armorer-only-handoff, handler-present). The performer
    (and the scene's 1st AD) confirm with their PIN that they watched the show-clear.
    Rules: show-clear-before-issue, recheck-after-break, scene-bound, performer-trained,
    safety-meeting, muzzle-plan, stop-work.
    """

    type: Literal["issue"]
    firearm: Id = Field(description="Id of the firearm, e.g. colt-1")
    to: Id = Field(description="Id of the performer receiving it, e.g. alec")
    scene: Id | None = Field(
        None, description="Id of today's scene it is for, e.g. sc-12 (an issue needs one)"
    )


class Collect(CommandBase):
    """Take a firearm back from whoever holds it, after each take or when the scene wraps.

    Who: a handler checked in on the set (armorer-only-handoff, collect-after-take).
    """

    type: Literal["collect"]
    firearm: Id = Field(description="Id of the firearm, e.g. colt-1")


class Transfer(CommandBase):
    """Pass a firearm you hold to another person.

    Who: a handler. A performer never passes a firearm on: it goes back to a handler
    (no-performer-transfer).
    """

    type: Literal["transfer"]
    firearm: Id = Field(description="Id of the firearm, e.g. colt-1")
    to: Id = Field(description="Id of the person receiving it, e.g. sam")


class Load(CommandBase):
    """Load rounds from a lot into chosen chambers of a firearm, right before a take that fires.

    Who: a handler checked in on the set (armorer-only-handoff, handler-present). Blanks need
    the scene and shot of a take that fires (load-at-take). Rules: no-live-ammo,
    dummy-verified, barrel-check-before-blanks, blank-distance, safety-meeting, stop-work.
    """

    type: Literal["load"]
    firearm: Id = Field(description="Id of the firearm, e.g. colt-2")
    lot: Id = Field(description="Id of the lot the rounds come from, e.g. blank-45")
    positions: list[Position] = Field(
        min_length=1,
        max_length=100,
        description="Chamber positions to load, numbered from 1, e.g. 1,2,3",
    )
    scene: Id | None = Field(
        None,
        description="Id of the scene, e.g. sc-20 (default: the scene the firearm is issued for)",
    )
    shot: Positive | None = Field(
        None, description="Number of the take in the scene's plan, e.g. 1 (required for blanks)"
    )
    container: Id | None = Field(
        None,
        description="Id of the open container the rounds come from; leave out if you hold them",
    )

    @model_validator(mode="after")
    def _positions_once(self) -> Load:
        if len(self.positions) != len(set(self.positions)):
            raise ValueError("positions must not repeat")
        return self


class Unload(CommandBase):
    """Take every round and spent case out of a firearm.

    Who: a handler (armorer-only-handoff). Unfired rounds go to an open container, or stay
    with you; spent cases are counted (round-accounting).
    """

    type: Literal["unload"]
    firearm: Id = Field(description="Id of the firearm, e.g. colt-2")
    container: Id | None = Field(
        None,
        description="Id of the open container the unfired rounds go into; leave out to keep them",
    )


class Discharge(CommandBase):
    """Record rounds fired in a take: which chamber positions fired.

    Who: the person holding the firearm, or a handler. Anything unexpected (a click, a squib,
    a shot that should not have been) is reported as an incident instead (report-incident),
    which anyone can do.
    """

    type: Literal["discharge"]
    firearm: Id = Field(description="Id of the firearm, e.g. colt-2")
    positions: list[Position] = Field(
        min_length=1,
        max_length=100,
        description="Chamber positions that fired, numbered from 1, e.g. 1,2",
    )
    scene: Id | None = Field(None, description="Id of the scene, e.g. sc-20")
    shot: Positive | None = Field(None, description="Number of the take in the scene's plan")

    @model_validator(mode="after")
    def _positions_once(self) -> Discharge:
        if len(self.positions) != len(set(self.positions)):
            raise ValueError("positions must not repeat")
        return self


# ------------------------------------------------------------------ incidents


class ReportIncident(CommandBase):
    """Report an incident: misfire, squib, unexpected discharge, malfunction, injury, near miss.

    Anyone can report. A misfire, squib, unexpected discharge or malfunction quarantines the
    firearm and stops firearm use on the unit until cleared (misfire-quarantine).
    """

    type: Literal["report_incident"]
    kind: Literal[
        "misfire", "squib", "unexpected_discharge", "malfunction", "injury", "near_miss"
    ] = Field(description="What happened")
    firearm: Id | None = Field(None, description="Id of the firearm involved, e.g. colt-2")
    lot: Id | None = Field(None, description="Id of the lot involved, e.g. blank-45")
    unit: Id | None = Field(None, description="Id of the unit; leave out to use the firearm's")
    description: Text = Field(description="What happened, in plain words")


class ReportLiveRound(CommandBase):
    """Report a live round found on the production: everything stops at once.

    Anyone can report. Firearm use stops on the whole production and the firearm and lots it
    could have come from are quarantined (no-live-ammo).
    """

    type: Literal["report_live_round"]
    description: Text = Field(description="Where and how it was found, in plain words")
    firearm: Id | None = Field(None, description="Id of the firearm it was in or near, e.g. colt-1")
    lot: Id | None = Field(None, description="Id of the lot it was found in, e.g. dummy-45")
    unit: Id | None = Field(None, description="Id of the unit where it was found")


class CallStopWork(CommandBase):
    """Call stop-work: no firearm is issued on the unit (or production) until it is cleared.

    Anyone can call it (stop-work). A handler and the safety contact clear it
    (clear-stop-work).
    """

    type: Literal["call_stop_work"]
    reason: Text = Field(description="Why, in plain words")
    unit: Id | None = Field(
        None, description="Id of the unit that stops; leave out to stop the whole production"
    )


class ClearStopWork(CommandBase):
    """Clear a stop-work so firearm use can resume.

    Who: a handler and the safety contact, one acting and the other confirming with their PIN.
    """

    type: Literal["clear_stop_work"]
    stop_work: Id = Field(description="Id of the stop-work, e.g. sw-40-0")
    note: Why = Field(
        description="Why it is safe to resume: what was done about it, in a few words (required)"
    )


class ReleaseQuarantine(CommandBase):
    """Return a quarantined firearm or lot to service (name exactly one).

    Who: a handler and the safety contact, one acting and the other confirming with their PIN.
    A firearm quarantined after a misfire first needs a barrel inspection and function check
    (inspect with barrel clear and function check; misfire-quarantine).
    """

    type: Literal["release_quarantine"]
    firearm: Id | None = Field(None, description="Id of the firearm, e.g. colt-2")
    lot: Id | None = Field(None, description="Id of the lot, e.g. blank-45")
    note: Why = Field(description="Why it is safe again, in a few words (required)")

    @model_validator(mode="after")
    def _one_thing(self) -> ReleaseQuarantine:
        if (self.firearm is None) == (self.lot is None):
            raise ValueError("name exactly one of firearm or lot")
        return self


class RaiseConcern(CommandBase):
    """Raise a safety concern; act as anonymous to keep your name out of it.

    Anyone can. The safety contact is alerted at once; the safety contact or a producer
    must answer it within the production's limit (default 4 hours), or every issue on the
    production is refused until it is answered (concern-answered).
    """

    type: Literal["raise_concern"]
    text: Text = Field(description="The concern, in plain words")
    unit: Id | None = Field(None, description="Id of the unit it is about, e.g. main")


class AcknowledgeConcern(CommandBase):
    """Answer a safety concern.

    Who: the safety contact or a producer. Answering resolves the concern's alert. One left
    unanswered past the production's limit (default 4 hours) blocks every issue
    (concern-answered).
    """

    type: Literal["acknowledge_concern"]
    concern: Id = Field(description="Id of the concern, e.g. concern-7")
    answer: Text = Field(description="Your answer: what will be done, in plain words")


class ResolveAlert(CommandBase):
    """Resolve an open alert, saying what was done.

    Who: a person with a role the alert names, or the safety contact.
    """

    type: Literal["resolve_alert"]
    alert: Id = Field(description="Id of the alert, e.g. alert-41-2")
    resolution: Text = Field(description="What was done about it, in plain words")


class CheckAlerts(CommandBase):
    """Check the time limits now (ammunition out, firearm not collected, concern unanswered).

    Raises any alert that is due (ammo-secured, collect-after-take, concern-answered).
    """

    type: Literal["check_alerts"]


class ReconcileCounts(CommandBase):
    """Count a lot's rounds in stock; any difference from the expected count is recorded.

    Who: a handler. A difference blocks further issue until the armorer resolves it with an
    explanation, confirmed by the safety contact's PIN (round-accounting).
    """

    type: Literal["reconcile_counts"]
    lot: Id = Field(description="Id of the lot, e.g. blank-45")
    counted: Count = Field(description="Rounds counted in stock (not in firearms)")
    cases_recovered: Count = Field(0, description="Spent cases recovered since the last count")
    explanation: ShortText = Field(
        "", description="Why the count differs (resolving it is the armorer's)"
    )


# ------------------------------------------------------------------ the day


class StartMealBreak(CommandBase):
    """Start a meal break on a unit; every firearm must be inspected again after it.

    Who: a 1st AD, handler or producer. Refused while ammunition is out of a locked container
    (ammo-secured); the break voids earlier inspections (recheck-after-break).
    """

    type: Literal["start_meal_break"]
    unit: Id = Field(description="Id of the unit, e.g. main")


class EndMealBreak(CommandBase):
    """End a unit's meal break.

    Who: a 1st AD, handler or producer.
    """

    type: Literal["end_meal_break"]
    unit: Id = Field(description="Id of the unit, e.g. main")


class WrapDay(CommandBase):
    """Wrap a shoot day, once ammunition is locked up and every lot is counted.

    Who: a 1st AD, handler or producer (ammo-secured, round-accounting).
    """

    type: Literal["wrap_day"]
    shoot_day: Id = Field(description="Id of the shoot day, e.g. day-1")


Command = Annotated[
    CreateProduction
    | AddUnit
    | AddSet
    | AddShootDay
    | AddPerson
    | GrantRole
    | RevokeRole
    | RecordCredential
    | SetPin
    | ResetPin
    | AddContainer
    | ReceiveFirearm
    | ReturnFirearm
    | ReceiveLot
    | ReturnLot
    | VerifyDummyLot
    | LockContainer
    | UnlockContainer
    | TakeFromContainer
    | PutInContainer
    | CheckIn
    | CheckOut
    | RecordTraining
    | RecordConsent
    | WithdrawConsent
    | ScheduleScene
    | SignOffPlan
    | HoldSafetyMeeting
    | WrapScene
    | Inspect
    | Issue
    | Collect
    | Transfer
    | Load
    | Unload
    | Discharge
    | ReportIncident
    | ReportLiveRound
    | CallStopWork
    | ClearStopWork
    | ReleaseQuarantine
    | RaiseConcern
    | AcknowledgeConcern
    | ResolveAlert
    | CheckAlerts
    | ReconcileCounts
    | StartMealBreak
    | EndMealBreak
    | WrapDay,
    Field(discriminator="type"),
]

_ADAPTER: TypeAdapter[Command] = TypeAdapter(Command)

#: command type name -> model class, read off the ``Command`` union: the union is the one
#: list of commands (a ``CommandBase`` subclass not in it is no command; a test checks).
COMMAND_TYPES: dict[str, type[CommandBase]] = {
    get_args(cls.model_fields["type"].annotation)[0]: cls for cls in get_args(get_args(Command)[0])
}


class CommandError(ValueError):
    """Malformed command input. ``errors`` is a list of (field, message)."""

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{f}: {m}" if f else m for f, m in errors))

    def lines(self) -> list[str]:
        return [f"{f}: {m}" if f else m for f, m in self.errors]


def _shown(name: str) -> str:
    """A field name as sent, safe to show and to encode: an unknown field or a dict key
    may hold control characters or a lone surrogate; those are written as escapes."""
    if name.isprintable() and not _UNSHOWABLE.search(name):
        return name
    return "".join(
        ch if ch.isprintable() and not _UNSHOWABLE.match(ch) else ascii(ch)[1:-1] for ch in name
    )


_UNSHOWABLE = re.compile("[\ud800-\udfff]")


def _field(loc: tuple[Any, ...]) -> str:
    parts = [_shown(str(p)) for p in loc]
    if parts and parts[0] in COMMAND_TYPES:
        parts = parts[1:]  # drop the union tag pydantic puts first
    return ".".join(parts)


def _unreadable_keys(value: Any, loc: tuple[str, ...]) -> Any:
    """(field, message) for every object key that is not valid Unicode text (a lone
    surrogate): Pydantic reports those without naming the field."""
    if isinstance(value, dict):
        for k, v in value.items():
            name = k if isinstance(k, str) else repr(k)
            if not isinstance(k, str) or _UNSHOWABLE.search(k):
                yield (
                    ".".join(_shown(p) for p in (*loc, name)),
                    "field names must be valid Unicode text",
                )
            else:
                yield from _unreadable_keys(v, (*loc, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _unreadable_keys(v, (*loc, str(i)))


def parse_command(data: Any) -> CommandBase:
    """A command from a dict, or :class:`CommandError` with one line per wrong field."""
    if isinstance(data, CommandBase):
        return data
    if not isinstance(data, dict):
        raise CommandError([("", "a command must be an object with a 'type' field")])
    t = data.get("type")
    if not isinstance(t, str) or t not in COMMAND_TYPES:
        raise CommandError(
            [("type", f"unknown command type {t!r}; one of: " + ", ".join(sorted(COMMAND_TYPES)))]
        )
    try:
        return _ADAPTER.validate_python(data)
    except ValidationError as e:
        bad_keys = list(_unreadable_keys(data, ()))
        if bad_keys:
            raise CommandError(bad_keys) from None
        errors = []
        for err in e.errors(include_url=False):
            msg = err["msg"]
            if err["type"] == "extra_forbidden":
                msg = "unknown field (not part of this command)"
            elif err["type"] == "missing":
                msg = "required"
            elif err["type"] in ("too_long", "too_short") and isinstance(err.get("input"), str):
                ctx = err.get("ctx") or {}
                if err["type"] == "too_long":
                    msg = f"must be at most {ctx.get('max_length')} characters"
                else:
                    msg = (
                        f"must be at least {ctx.get('min_length')} characters"
                        if ctx.get("min_length", 1) > 1
                        else "must not be empty"
                    )
            elif err["type"] == "string_pattern_mismatch":
                pattern = str((err.get("ctx") or {}).get("pattern", ""))
                msg = (
                    "must be 4 to 8 digits"
                    if "0-9]{4" in pattern
                    else "must be a tag: letters, digits, '.', '_' or '-' (up to 64, no spaces)"
                )
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
