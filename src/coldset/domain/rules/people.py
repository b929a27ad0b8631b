"""C. People rules (SAFETY_RULES.md section C): who may receive, handle and supervise firearms.

The helpers at the top (:func:`scene_for`, :func:`unit_for`, :func:`person_name`,
:func:`local_time`) are shared with :mod:`.scenes` and :mod:`.incidents`.
"""

from __future__ import annotations

from coldset.domain.commands import (
    CheckIn,
    CheckOut,
    Collect,
    CommandBase,
    Inspect,
    Issue,
    Load,
    ReceiveFirearm,
    ReceiveLot,
    ReconcileCounts,
    RecordTraining,
    ReturnFirearm,
    ReturnLot,
    SignOffPlan,
    Transfer,
    Unload,
    UnlockContainer,
    VerifyDummyLot,
)
from coldset.domain.model import (
    NON_FIRING_TYPES,
    CredentialKind,
    Person,
    Role,
    Scene,
    SignOffRole,
)
from coldset.domain.rules import RuleContext, Verdict, misapplied, rule
from coldset.domain.rules.wording import person_name
from coldset.domain.state import State

# ------------------------------------------------------------------ shared helpers


def scene_for(state: State, cmd: CommandBase) -> Scene | None:
    """The scene a command is about: the one it names, else the one its firearm is issued for."""
    sid = getattr(cmd, "scene", None)
    if sid is None:
        f = state.firearms.get(getattr(cmd, "firearm", None) or "")
        sid = f.issued_for if f is not None else None
    return state.scenes.get(sid or "")


def unit_for(state: State, cmd: CommandBase) -> str | None:
    """The unit a command acts on: its scene's, else its firearm's, else its container's."""
    sc = scene_for(state, cmd)
    if sc is not None:
        return sc.unit
    fid = getattr(cmd, "firearm", None)
    if fid is not None and fid in state.firearms:
        f = state.firearms[fid]
        if f.custody.kind == "container" and f.custody.ref not in state.containers:
            return None
        return state.firearm_unit(fid)
    box = state.containers.get(getattr(cmd, "container", None) or "")
    if box is not None:
        return box.unit
    unit = getattr(cmd, "unit", None)
    return unit if isinstance(unit, str) else None


def _label(value: str) -> str:
    return value.replace("_", " ")


# ------------------------------------------------------------------ performer-trained


@rule(
    "performer-trained",
    applies_to=(Issue,),
    source="Safety Bulletin #1 (training, no coercion); Cal. Labor Code §9156; Rust (2021)",
)
def performer_trained(ctx: RuleContext) -> list[Verdict]:
    """A performer receives a firearm only after recorded training for its type and consent.

    Non-firing replicas and rubber/resin props are not firearms and need neither.
    """
    cmd, state = ctx.command, ctx.state
    if not isinstance(cmd, Issue):
        raise misapplied(ctx)
    f, p = state.firearms.get(cmd.firearm), state.people.get(cmd.to)
    if f is None or p is None or f.type in NON_FIRING_TYPES:
        return []
    what = f"{f.id} ({f.manufacturer} {f.model}, a {_label(f.type.value)})"
    if Role.performer not in p.roles:
        return []  # a non-performer: armorer-only-handoff's fault (one fault, one rule)
    missing = []
    if not any(t.weapon_type == f.type for t in p.training):
        missing.append(f"no training on the {_label(f.type.value)} given by a handler")
    if not any(c.weapon_type == f.type for c in p.consents):
        missing.append(
            f"no consent from them to handle a {_label(f.type.value)} "
            "(record_consent, with their own PIN)"
        )
    if not missing:
        return []
    return [
        ctx.block(
            f"{person_name(state, p.id)} cannot receive {what}: "
            f"{' and '.join(missing)} on this production. Record it first."
        )
    ]


# ------------------------------------------------------------------ handler-credentials

#: Credential kinds every handler must hold, current on the day (Cal. LC §9153(b)).
REQUIRED_CREDENTIALS: tuple[CredentialKind, ...] = (CredentialKind.entertainment_firearms_permit,)

#: Commands that are a handler's work (custody, ammunition, training, sign-off as handler).
#: Locking firearms away and checking out are left open: they only make the set safer.
HANDLER_ACTIONS = (
    Inspect,
    Issue,
    Collect,
    Transfer,
    Load,
    Unload,
    UnlockContainer,
    ReceiveFirearm,
    ReturnFirearm,
    ReceiveLot,
    ReturnLot,
    VerifyDummyLot,
    CheckIn,
    RecordTraining,
    ReconcileCounts,
    SignOffPlan,
)


def credential_problems(p: Person, today: str) -> list[str]:
    """What is wrong with ``p``'s handler credentials on ``today`` (empty: all current)."""
    problems = [
        f"no {_label(k.value)} on record"
        for k in REQUIRED_CREDENTIALS
        if not any(c.kind == k for c in p.credentials)
    ]
    for kind in sorted({c.kind for c in p.credentials}):
        held = [c for c in p.credentials if c.kind == kind]
        if not any(c.expires >= today for c in held):
            last = max(held, key=lambda c: c.expires)
            problems.append(f"{_label(kind.value)} {last.number} expired on {last.expires}")
    return problems


def receiver_of(cmd: CommandBase) -> str | None:
    """The person a command puts a firearm in the custody of, other than the actor
    (issue and transfer name them; collect, opening a container and the rest put it in
    the actor's own hands)."""
    if isinstance(cmd, Issue | Transfer):
        return cmd.to
    return None


@rule("handler-credentials", applies_to=HANDLER_ACTIONS, source="Cal. Labor Code §9153(b)")
def handler_credentials(ctx: RuleContext) -> list[Verdict]:
    """A handler acts only with current credentials: a permit, and every credential on record
    (safety course, federal licence) current on the day. A firearm goes into a handler's
    custody (issue, transfer) only when the receiver's credentials are current too."""
    cmd, state = ctx.command, ctx.state
    today = ctx.today.isoformat()
    out: list[Verdict] = []
    acting = state.is_handler(cmd.actor) and not (
        isinstance(cmd, SignOffPlan) and cmd.as_role != SignOffRole.handler
    )
    # not a handler at all: armorer-only-handoff and the role checks refuse it
    if acting:
        p = state.people[cmd.actor]
        problems = credential_problems(p, today)
        if problems:
            out.append(
                ctx.block(
                    f"{person_name(state, p.id)} cannot act as a handler today ({today}): "
                    f"{'; '.join(problems)}. Record a current credential (record_credential) "
                    "or have a handler with current credentials do it."
                )
            )
    to = receiver_of(cmd)
    if to is not None and to != cmd.actor and state.is_handler(to):
        # a non-handler receiver is armorer-only-handoff's or performer-trained's fault
        problems = credential_problems(state.people[to], today)
        if problems:
            gun = getattr(cmd, "firearm", "")
            out.append(
                ctx.block(
                    f"{person_name(state, to)} cannot receive {gun} today ({today}): "
                    f"{'; '.join(problems)}. A firearm goes only to a person qualified to hold it "
                    "now: record a current credential (record_credential) or give it to a handler "
                    "with current credentials."
                )
            )
    return out


# ------------------------------------------------------------------ armorer-dedicated


def _verb(cmd: CommandBase) -> str:
    return cmd.command_type.replace("_", " ")


@rule(
    "armorer-dedicated",
    applies_to=(CheckIn, CheckOut, UnlockContainer, Issue, Load, Collect, Inspect, Unload),
    source="Cal. Labor Code §9153(a); Rust (2021, armorer told to prioritise props); "
    "The Crow (1993, specialist sent home early)",
)
def armorer_dedicated(ctx: RuleContext) -> list[Verdict]:
    """While a unit has firearms out, its handler stays on it; a unit opening a container
    needs its own handler checked in."""
    cmd, state = ctx.command, ctx.state
    if not state.is_handler(cmd.actor):
        return []
    who = person_name(state, cmd.actor)
    home = state.checked_in.get(cmd.actor)
    home_unit = home[0] if home else None
    if isinstance(cmd, CheckIn) and cmd.task:
        return _task_check_in(ctx, cmd)
    duty = state.duties.get(cmd.actor)
    if duty and isinstance(cmd, Issue | Load | UnlockContainer | Inspect):
        return [
            ctx.block(
                f"{who} is checked in for another task ({duty}), not as the "
                f"firearms handler, and cannot {_verb(cmd)} while on it: a handler "
                "with firearms out has no other duty. Check in as the firearms "
                "handler (check_in with no task) or let the unit's handler do it."
            )
        ]
    own_fid = getattr(cmd, "firearm", None)
    if home_unit is None and not isinstance(cmd, UnlockContainer):
        return []
    target = unit_for(state, cmd)
    box = state.containers.get(cmd.container) if isinstance(cmd, UnlockContainer) else None
    away = box.unit if box is not None else target
    if not isinstance(cmd, CheckIn | CheckOut) and (away is None or away == home_unit):
        return []  # acting on its own unit (the common case: no need to look further)
    out = [f for f in state.firearms_out(home_unit) if f != own_fid] if home_unit else []

    if isinstance(cmd, CheckIn | CheckOut):
        if home_unit is None:
            return []
        if isinstance(cmd, CheckIn) and cmd.unit == home_unit:
            return _other_set(ctx, cmd, home_unit, out)
        held = [f for f in out if state.holder(f) == cmd.actor]
        if isinstance(cmd, CheckIn) and held:
            return [
                ctx.block(
                    f"{who} holds {', '.join(held)} on unit {home_unit} and cannot "
                    f"move to unit {cmd.unit} with them: lock them away "
                    "(lock_container) or pass them to the unit's other handler first."
                )
            ]
        # checking out with firearms in hand is single-custody's fault: one fault, one rule
        left = [f for f in out if f not in held]
        others = [h for h in state.handler_on(home_unit) if h != cmd.actor]
        if left and not others:
            going = "check out" if isinstance(cmd, CheckOut) else f"move to unit {cmd.unit}"
            return [
                ctx.block(
                    f"Firearms of unit {home_unit} are out of lock-up "
                    f"({', '.join(left)}) and {who} is its only handler checked in: "
                    f"they cannot {going} until those firearms are back in lock-up or "
                    f"another handler checks in on {home_unit}."
                )
            ]
        return []

    if box is not None and box.unit:
        if home_unit and home_unit != box.unit and out:
            return [
                ctx.block(
                    f"{who} is the handler of unit {home_unit}, where "
                    f"{', '.join(out)} {'is' if len(out) == 1 else 'are'} out of "
                    f"lock-up, and cannot open {box.name} ({box.id}) of unit "
                    f"{box.unit} as well. Lock unit {home_unit}'s firearms away first, "
                    f"or let unit {box.unit}'s own handler open it."
                )
            ]
        if not state.handler_on(box.unit) and home_unit != box.unit:
            return [
                ctx.block(
                    f"{box.name} ({box.id}) belongs to unit {box.unit}, and no handler "
                    f"is checked in on {box.unit}: a unit that takes firearms out needs "
                    f"its own handler checked in on it. Check in on {box.unit} first "
                    "(check_in)."
                )
            ]
        return []
    if home_unit and target and target != home_unit and out:
        return [
            ctx.block(
                f"{who} is the handler of unit {home_unit}, where {', '.join(out)} "
                f"{'is' if len(out) == 1 else 'are'} out of lock-up, and cannot "
                f"{_verb(cmd)} {own_fid} on unit {target} as well. Lock unit "
                f"{home_unit}'s firearms away first, or let unit {target}'s own "
                "handler do it."
            )
        ]
    return []


def _set_of(state: State, fid: str) -> str | None:
    """The set a firearm is out on: that of the scene it is issued for."""
    sc = state.scenes.get(state.firearms[fid].issued_for or "")
    return sc.set if sc is not None else None


def _task_check_in(ctx: RuleContext, cmd: CheckIn) -> list[Verdict]:
    """A handler taking on a non-firearms task (props, ...) while a firearm of that unit, or
    of the unit they handle, is out: refused unless another handler, on firearms duty, is
    checked in on every set where one is."""
    state = ctx.state
    home = state.checked_in.get(cmd.actor)
    units = {cmd.unit} | ({home[0]} if home else set())
    left = []
    for unit in sorted(units):
        for fid in state.firearms_out(unit):
            holder, where = state.holder(fid), _set_of(state, fid)
            watched = holder != cmd.actor and any(
                h != cmd.actor
                and h not in state.duties
                and at[0] == unit
                and (where is None or at[1] == where)
                for h, at in state.checked_in.items()
            )
            if not watched:
                left.append(f"{fid} is with {person_name(state, holder)}")
    if not left:
        return []
    return [
        ctx.block(
            f"{person_name(state, cmd.actor)} cannot check in for {cmd.task!r} "
            f"while {'; '.join(left)}: a handler has no other duty while a firearm "
            "is out. Collect and lock the firearms away first, or have another "
            "handler check in on the set as its firearms handler."
        )
    ]


def _other_set(ctx: RuleContext, cmd: CheckIn, unit: str, out: list[str]) -> list[Verdict]:
    """A handler moving to another set of their own unit (the props truck, the next set)
    while a firearm of the unit is out with someone else on a set where no other handler
    is checked in: they would leave it unwatched (Rust: the armorer at the props truck)."""
    state = ctx.state
    left = []
    for fid in out:
        holder = state.holder(fid)
        where = _set_of(state, fid)
        if holder in (None, cmd.actor) or where is None or where == cmd.set:
            continue
        watched = any(
            h != cmd.actor and h not in state.duties and at == (unit, where)
            for h, at in state.checked_in.items()
        )
        if not watched:
            left.append((fid, holder, where))
    if not left:
        return []
    gone = state.sets[cmd.set].name if cmd.set in state.sets else cmd.set
    what = "; ".join(
        f"{fid} is with {person_name(state, holder)} on "
        f"{state.sets[w].name if w in state.sets else w}"
        for fid, holder, w in left
    )
    return [
        ctx.block(
            f"{person_name(state, cmd.actor)} is the handler of unit {unit} and "
            f"cannot take on another set or task ({gone}) while {what}: a handler "
            "has no other duty while a firearm is out. Collect it and lock it away "
            "first, or have another handler check in on that set."
        )
    ]


# ------------------------------------------------------------------ handler-present


@rule(
    "handler-present",
    applies_to=(Issue, Load, Collect),
    source="Rust (2021, armorer not in the church); The Crow (1993, specialist sent home)",
)
def handler_present(ctx: RuleContext) -> list[Verdict]:
    """Issue, load and collect happen only with the handler checked in on that unit's set."""
    cmd, state = ctx.command, ctx.state
    sc = scene_for(state, cmd)
    unit = sc.unit if sc is not None else unit_for(state, cmd)
    set_ = sc.set if sc is not None else None
    set_name = state.sets[set_].name if set_ is not None and set_ in state.sets else set_
    where = (
        f"the set {set_name} ({set_}, unit {unit}) of scene {sc.id}"
        if sc is not None
        else f"unit {unit}"
        if unit
        else "a set"
    )
    fid = getattr(cmd, "firearm", "")

    def here(u: str, s: str) -> bool:
        return (unit is None or u == unit) and (set_ is None or s == set_)

    if state.is_handler(cmd.actor):
        at = state.checked_in.get(cmd.actor)
        if at is not None and here(*at):
            return []
        now = f"is checked in on {at[1]} (unit {at[0]})" if at else "is not checked in on any set"
        return [
            ctx.block(
                f"{person_name(state, cmd.actor)} {now}: {_verb(cmd)} of {fid} "
                f"happens only with the handler checked in on {where}. Check in "
                "there first (check_in)."
            )
        ]
    if any(here(u, s) for h, (u, s) in state.checked_in.items() if h not in state.duties):
        return []
    return [
        ctx.block(
            f"No handler is checked in on {where}: {fid} cannot be "
            f"{'issued' if isinstance(cmd, Issue) else _verb(cmd) + 'ed'} without "
            "the handler on the set."
        )
    ]
