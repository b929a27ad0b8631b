"""D. Scenes and set rules (SAFETY_RULES.md section D): meetings, muzzle plans, blanks."""

from __future__ import annotations

from datetime import datetime

from coldset.domain.commands import Issue, Load, SignOffPlan
from coldset.domain.model import (
    MITIGATES,
    NON_FIRING_TYPES,
    Mitigation,
    MitigationKind,
    MuzzleDirection,
    PlanFirearm,
    RoundKind,
    Scene,
    Shot,
    ShotKind,
    SignOffRole,
)
from coldset.domain.rules import RuleContext, Verdict, misapplied, rule
from coldset.domain.rules.people import scene_for
from coldset.domain.rules.wording import local_time, person_name
from coldset.domain.shootday import describe, now_words, within_shoot_day
from coldset.domain.state import State


def shots_for(scene: Scene, firearm: str) -> list[Shot]:
    """The shots of the plan that use ``firearm`` (a shot naming no firearm uses every one)."""
    return [s for s in scene.plan.shots if s.firearm in (None, firearm)]


def plan_entry(scene: Scene, firearm: str) -> PlanFirearm | None:
    return next((p for p in scene.plan.firearms if p.firearm == firearm), None)


def missing_signoffs(scene: Scene) -> list[str]:
    """The sign-off roles (handler, 1st AD, safety contact) the scene's plan still lacks.

    The three come from three distinct people: a role signed by someone who already
    signed in another role (one person who is both 1st AD and safety contact) does not
    count, as an override's confirmers do not."""
    seen: set[str] = set()
    out = []
    for r in SignOffRole:
        who = scene.signoffs.get(r.value)
        if who is None or who in seen:
            out.append(r.value)
        else:
            seen.add(who)
    return out


def twice_signed(state: State, scene: Scene) -> str:
    """Words for the people who signed the plan in more than one role ("" when none)."""
    by: dict[str, list[str]] = {}
    for r in SignOffRole:
        who = scene.signoffs.get(r.value)
        if who is not None:
            by.setdefault(who, []).append(r.value)
    return "; ".join(
        f"{person_name(state, p)} signed as {_roles(rs)}, which counts once"
        for p, rs in sorted(by.items())
        if len(rs) > 1
    )


def _roles(roles: list[str]) -> str:
    names = [r.replace("_", " ").replace("first ad", "1st AD") for r in roles]
    return ", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else names[0]


def _norm(text: str | None) -> str:
    return "".join(ch for ch in (text or "").lower() if ch.isalnum())


# ------------------------------------------------------------------ safety-meeting


@rule(
    "safety-meeting",
    applies_to=(Issue, Load),
    source="Safety Bulletin #1; NM OHSB citation of Rust Movie Productions (2022, "
    "no daily safety meetings)",
)
def safety_meeting(ctx: RuleContext) -> list[Verdict]:
    """A meeting is held each day firearms are used and before each scene that uses them;
    the scene's cast and crew attend, and anyone recorded absent stays off its set."""
    cmd, state = ctx.command, ctx.state
    if not isinstance(cmd, Issue | Load):
        raise misapplied(ctx)
    sc = scene_for(state, cmd)
    if sc is None:
        if isinstance(cmd, Load):
            return []  # loading without a scene: load-at-take decides
        days = [d for d in state.shoot_days.values() if within_shoot_day(state, d, ctx.now)]
        held = [
            m
            for m in state.meetings.values()
            if any(within_shoot_day(state, d, m.at) for d in days)
        ]
        there = {p for m in held for p in m.attendees}
        handling = [cmd.actor] + ([cmd.to] if isinstance(cmd, Issue) else [])
        missing = [person_name(state, p) for p in dict.fromkeys(handling) if p not in there]
        if held and not missing:
            return []
        if held:
            return [
                ctx.block(
                    f"{' and '.join(missing)} did not attend today's safety meeting: "
                    f"{cmd.firearm} is handled only by people briefed today "
                    "(hold_safety_meeting with them)."
                )
            ]
        return [
            ctx.block(
                f"No safety meeting has been held today ({ctx.today.isoformat()}): "
                f"{cmd.firearm} is not issued on a day without one "
                "(hold_safety_meeting with everyone on set)."
            )
        ]
    day = state.shoot_days.get(sc.shoot_day)
    for_scene = [m for m in state.meetings.values() if m.scene == sc.id]
    meetings = [m for m in for_scene if day is not None and within_shoot_day(state, day, m.at)]
    scene = f"scene {sc.id} ({sc.title})"
    if not meetings:
        on_day = f"its shoot day {day.date if day else sc.shoot_day}"
        if for_scene:
            when = ", ".join(local_time(state, m.at) for m in for_scene)
            return [
                ctx.block(
                    f"The safety meeting for {scene} was held at {when}, not during "
                    f"{on_day}: a meeting counts only on the shoot day it briefs. "
                    f"Hold it again today with its cast and crew (hold_safety_meeting, "
                    f"scene {sc.id}) before any firearm is issued or loaded for it."
                )
            ]
        daily = day is not None and any(
            within_shoot_day(state, day, m.at) for m in state.meetings.values()
        )
        return [
            ctx.block(
                f"No safety meeting has been held for {scene}"
                + ("" if daily else f" nor during {on_day}")
                + f": hold one with its cast and crew (hold_safety_meeting, scene "
                f"{sc.id}) before any firearm is issued or loaded for it."
            )
        ]
    attended = {p for m in meetings for p in m.attendees}
    absent = {p for m in meetings for p in m.absent} - attended
    problems = []
    unrecorded = [p for p in sc.cast_crew if p not in attended and p not in absent]
    if unrecorded:
        problems.append(
            f"the meeting did not record {', '.join(unrecorded)} (everyone on the "
            "scene's cast and crew list attends or is recorded absent)"
        )
    on_set = [cmd.actor]
    other = (
        cmd.to
        if isinstance(cmd, Issue)
        else (state.holder(cmd.firearm) if cmd.firearm in state.firearms else None)
    )
    if other and other != cmd.actor:
        on_set.append(other)
    for pid in on_set:
        if pid in absent:
            problems.append(
                f"{person_name(state, pid)} was recorded absent from it and cannot "
                "be on the set for this scene"
            )
        elif pid not in attended:
            problems.append(f"{person_name(state, pid)} did not attend it")
    if not problems:
        return []
    return [
        ctx.block(
            f"Safety meeting for {scene}: {'; '.join(problems)}. Brief them in a "
            "safety meeting for the scene (hold_safety_meeting) first."
        )
    ]


# ------------------------------------------------------------------ muzzle-plan

#: rules whose block lifts once the scene's plan is complete and signed off by the
#: handler, the 1st AD and the safety contact ("block until signed"): no override
UNTIL_SIGNED = frozenset({"muzzle-plan", "blank-distance"})

_AT = {MuzzleDirection.person: "a person", MuzzleDirection.camera: "the camera position"}


def _covering(sc: Scene, shot: Shot, real: bool) -> tuple[list[Mitigation], list[Mitigation]]:
    """The plan's mitigations for ``shot`` that keep its muzzle off what it points at, split
    into those that count for the firearm issued and the replicas that do not (``real``: a
    firearm that can fire is issued, so a non-firing replica mitigates nothing)."""
    fit = [
        m for m in sc.plan.mitigations if m.covers(shot.number) and m.kind in MITIGATES[shot.muzzle]
    ]
    if not real:
        return fit, []
    return (
        [m for m in fit if m.kind != MitigationKind.replica],
        [m for m in fit if m.kind == MitigationKind.replica],
    )


def _signoff_twice(ctx: RuleContext, cmd: SignOffPlan) -> list[Verdict]:
    state = ctx.state
    sc = state.scenes.get(cmd.scene)
    if sc is None:
        return []
    other = [r for r, p in sc.signoffs.items() if p == cmd.actor and r != cmd.as_role.value]
    if not other:
        return []
    return [
        ctx.block(
            f"{person_name(state, cmd.actor)} has already signed the plan of scene "
            f"{sc.id} as the {_roles(other)}: the handler, 1st AD and safety contact "
            "sign-offs come from three distinct people. Another person with the "
            f"{_roles([cmd.as_role.value])} role signs it."
        )
    ]


@rule(
    "muzzle-plan",
    applies_to=(Issue, SignOffPlan),
    source="Safety Bulletin #1 (never point a firearm at anyone); Rust (2021, pointed toward "
    "the camera)",
)
def muzzle_plan(ctx: RuleContext) -> list[Verdict]:
    """A shot pointing at a person or the camera needs a recorded mitigation that fits what is
    issued, and the sign-offs of three distinct people — the handler, the 1st AD and the
    safety contact — before any issue for the scene. One person never signs twice."""
    cmd, state = ctx.command, ctx.state
    if isinstance(cmd, SignOffPlan):
        return _signoff_twice(ctx, cmd)
    if not isinstance(cmd, Issue):
        raise misapplied(ctx)
    sc = scene_for(state, cmd)
    if sc is None:
        return []
    risky = [s for s in shots_for(sc, cmd.firearm) if s.muzzle in _AT]
    if not risky:
        return []
    f = state.firearms.get(cmd.firearm)
    real = not (f is not None and f.type in NON_FIRING_TYPES)
    problems = []
    bare: list[int] = []
    replica_only: list[int] = []
    for shot in risky if real else ():  # a non-firing replica issued is its own mitigation
        fit, replicas = _covering(sc, shot, real)
        if not fit:
            (replica_only if replicas else bare).append(shot.number)
    if bare:
        problems.append(
            f"no mitigation for {_at_words(bare, risky)} is recorded (a cheated "
            "angle, remote camera, shield, mirror or non-firing replica)"
        )
    if replica_only:
        problems.append(
            f"the only mitigation for {_at_words(replica_only, risky)} is a "
            f"non-firing replica, and {cmd.firearm} is a real firearm: issue the "
            "replica, or record a mitigation that works with a real one"
        )
    unsigned = missing_signoffs(sc)
    if unsigned:
        twice = twice_signed(state, sc)
        problems.append(
            f"the plan is not yet signed off by the {_roles(unsigned)}"
            + (f" ({twice})" if twice else "")
        )
    if not problems:
        return []
    shots = "; ".join(
        f"shot {s.number} ({s.kind.value}) points at {_AT[s.muzzle]}"
        + (f" ({s.target})" if s.target else "")
        for s in risky
    )
    return [
        ctx.block(
            f"Scene {sc.id}: {shots} with {cmd.firearm}, and {' and '.join(problems)}."
            " Nothing is issued for the scene until then."
        )
    ]


def _at_words(numbers: list[int], risky: list[Shot]) -> str:
    if len(numbers) == len(risky) == 1:
        return "it"
    return "shot " + ", ".join(map(str, numbers))


# ------------------------------------------------------------------ blank-distance


def _blank_load(state: State, cmd: Issue | Load) -> bool:
    if isinstance(cmd, Issue):
        return True
    lot = state.lots.get(cmd.lot)
    return lot is not None and lot.kind == RoundKind.blank


@rule(
    "blank-distance",
    applies_to=(Issue, Load),
    source="Safety Bulletin #1; Cover Up (1984, Jon-Erik Hexum)",
)
def blank_distance(ctx: RuleContext) -> list[Verdict]:
    """Blanks fire only with the production's minimum distance to any person, unless the plan
    names a specialty close-range load and has the three sign-offs."""
    cmd, state = ctx.command, ctx.state
    if not isinstance(cmd, Issue | Load):
        raise misapplied(ctx)
    sc = scene_for(state, cmd)
    if sc is None or not _blank_load(state, cmd):
        return []
    shots = [s for s in shots_for(sc, cmd.firearm) if s.blanks]
    if isinstance(cmd, Load) and cmd.shot is not None:
        shots = [s for s in shots if s.number == cmd.shot]
    minimum = ctx.settings.blank_distance_ft
    close = [s for s in shots if s.closest_distance_ft < minimum]
    if not close:
        return []
    entry = plan_entry(sc, cmd.firearm)
    named = entry.close_range_load if entry is not None else None
    problems = []
    if not named:
        problems.append(f"the plan names no specialty close-range load for {cmd.firearm}")
    elif isinstance(cmd, Load):
        lot = state.lots[cmd.lot]
        if _norm(lot.load) != _norm(named):
            problems.append(
                f"lot {lot.id} is {lot.load or 'an unnamed load'!r}, not the "
                f"close-range load {named!r} the plan names"
            )
    unsigned = missing_signoffs(sc)
    if unsigned:
        twice = twice_signed(state, sc)
        problems.append(
            f"the plan is not yet signed off by the {_roles(unsigned)}"
            + (f" ({twice})" if twice else "")
        )
    if not problems:
        return []
    shot_list = ", ".join(f"shot {s.number} ({s.closest_distance_ft} ft)" for s in close)
    return [
        ctx.block(
            f"Scene {sc.id}: {cmd.firearm} fires blanks closer to a person than the "
            f"minimum of {minimum} ft ({shot_list}), and {' and '.join(problems)}. "
            "Move the people back, or name a close-range load and get the handler, "
            "1st AD and safety contact sign-offs."
        )
    ]


# ------------------------------------------------------------------ load-at-take


def _why_not_now(state: State, cmd: Load, sc: Scene, now: datetime) -> str | None:
    if cmd.shot is None:
        return f"name the take (shot) of scene {sc.id} the blanks are for"
    shot = next((s for s in sc.plan.shots if s.number == cmd.shot), None)
    if shot is None:
        return f"scene {sc.id} has no shot {cmd.shot} in its firearm plan"
    if shot.kind == ShotKind.rehearsal:
        return (
            f"shot {shot.number} of scene {sc.id} is a rehearsal: rehearsals use "
            "non-firing replicas or firearms shown clear, never blanks"
        )
    if not shot.blanks:
        return (
            f"shot {shot.number} of scene {sc.id} does not fire blanks in the plan; "
            "load blanks only for a take that fires"
        )
    if shot.firearm is not None and shot.firearm != cmd.firearm:
        return f"shot {shot.number} of scene {sc.id} is planned for {shot.firearm}"
    if plan_entry(sc, cmd.firearm) is None:
        return f"{cmd.firearm} is not in the firearm plan of scene {sc.id}"
    if sc.wrapped_at:
        return f"scene {sc.id} wrapped at {local_time(state, sc.wrapped_at)}"
    day = state.shoot_days.get(sc.shoot_day)
    if day is not None and not within_shoot_day(state, day.id, now):
        return (
            f"scene {sc.id} is scheduled for shoot day {describe(state, day.id)}, not "
            f"now ({now_words(state, now)}); load immediately before the take"
        )
    if sc.unit in state.meal_breaks:
        return (
            f"unit {sc.unit} is on a meal break since "
            f"{local_time(state, state.meal_breaks[sc.unit])}; load when the take is "
            "ready, not before or during the break"
        )
    return None


@rule(
    "load-at-take",
    applies_to=(Load,),
    source="Safety Bulletin #1 (do not load until ready to shoot)",
)
def load_at_take(ctx: RuleContext) -> list[Verdict]:
    """Blanks are loaded only for a take that fires, immediately before it."""
    cmd, state = ctx.command, ctx.state
    if not isinstance(cmd, Load):
        raise misapplied(ctx)
    lot = state.lots.get(cmd.lot)
    if lot is None or lot.kind != RoundKind.blank:
        return []
    sc = scene_for(state, cmd)
    if sc is None:
        why: str | None = "name the scene and take (scene, shot) the blanks are for"
    else:
        why = _why_not_now(state, cmd, sc, ctx.now)
    if why is None:
        return []
    return [ctx.block(f"Blanks from lot {lot.id} are not loaded into {cmd.firearm} now: {why}.")]
