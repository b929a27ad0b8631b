"""B. Custody rules (SAFETY_RULES.md section B).

Who may hand a firearm over, to whom, after which inspection, for which scene,
and when it must come back. ``single-custody`` is mostly a property of the
state (see docs/domain.md); the rule refuses the one command that would leave
a firearm with nobody on set: a handler checking out while holding it.
"""

from __future__ import annotations

from coldset.domain.commands import (
    CheckAlerts,
    CheckOut,
    Collect,
    Discharge,
    Issue,
    Load,
    Transfer,
    Unload,
    UnlockContainer,
    WrapScene,
)
from coldset.domain.model import NON_FIRING_TYPES, Firearm
from coldset.domain.rules import RuleContext, Verdict, misapplied, rule
from coldset.domain.rules.wording import gun_name, local_time, minutes_since, person_name
from coldset.domain.shootday import describe, now_words, within_shoot_day
from coldset.domain.state import State

# ------------------------------------------------------------------ wording helpers


def _performer_only(state: State, pid: str | None) -> bool:
    return state.has_role(pid, "performer") and not state.is_handler(pid)


def _holder(state: State, fid: str) -> str | None:
    f = state.firearms.get(fid)
    return f.custody.ref if f is not None and f.custody.kind == "person" else None


# ------------------------------------------------------------------ armorer-only-handoff

_DOING = {
    Issue: "issue a firearm",
    Collect: "collect a firearm",
    Load: "load a firearm",
    Unload: "unload a firearm",
    UnlockContainer: "open a container",
}


@rule(
    "armorer-only-handoff",
    applies_to=(Issue, Collect, Load, Unload, UnlockContainer, Transfer),
    source="Cal. Labor Code §9153(a); Rust (2021: the 1st AD handed the revolver over)",
)
def armorer_only_handoff(ctx: RuleContext) -> list[Verdict]:
    """Only a handler issues, collects, loads, unloads or opens a container."""
    cmd, state = ctx.command, ctx.state
    actor = cmd.actor
    if isinstance(cmd, Transfer):
        if state.is_handler(cmd.to) or _performer_only(state, actor):
            return []  # back to a handler is right; a performer is no-performer-transfer's
        return [
            ctx.block(
                f"{person_name(state, actor)} cannot pass {gun_name(state, cmd.firearm)} to "
                f"{person_name(state, cmd.to)}: a firearm reaches a performer only by a handler's "
                "issue after a show-clear, and goes back only to a handler. Give it to the handler."
            )
        ]
    if not state.is_handler(actor):
        what = _DOING.get(type(cmd), "do this")
        thing = (
            f"container {cmd.container}: opening it puts its firearms and ammunition in "
            "the opener's custody"
            if isinstance(cmd, UnlockContainer)
            else gun_name(state, getattr(cmd, "firearm", ""))
        )
        return [
            ctx.block(
                f"Only a qualified handler (armorer, assistant armorer or property master) may "
                f"{what}; {person_name(state, actor)} is not one. Refused: {thing}. "
                "Call the handler."
            )
        ]
    if isinstance(cmd, Issue) and not (
        state.has_role(cmd.to, "performer") or state.is_handler(cmd.to)
    ):
        return [
            ctx.block(
                f"{person_name(state, cmd.to)} is not a performer: "
                f"{gun_name(state, cmd.firearm)} is issued only to the performer who uses it "
                "in the scene, never to a go-between."
            )
        ]
    return []


# ------------------------------------------------------------------ no-performer-transfer


@rule("no-performer-transfer", applies_to=(Transfer,), source="Cal. Labor Code §9153(a)")
def no_performer_transfer(ctx: RuleContext) -> list[Verdict]:
    """A performer never passes a firearm on; it goes back to a handler."""
    cmd, state = ctx.command, ctx.state
    if not isinstance(cmd, Transfer):
        raise misapplied(ctx)
    if state.is_handler(cmd.to):
        return []
    holder = _holder(state, cmd.firearm)
    if not (_performer_only(state, cmd.actor) or _performer_only(state, holder)):
        return []
    performer = cmd.actor if _performer_only(state, cmd.actor) else holder
    return [
        ctx.block(
            f"{person_name(state, performer)} is a performer and cannot pass "
            f"{gun_name(state, cmd.firearm)} to {person_name(state, cmd.to)}. It goes back to a "
            "handler, who issues it again after a show-clear."
        )
    ]


# ------------------------------------------------------------------ single-custody


@rule(
    "single-custody",
    applies_to=(CheckOut,),
    source="Rust (2021: guns on a rolling cart outside the church)",
)
def single_custody(ctx: RuleContext) -> list[Verdict]:
    """A handler does not leave the set while firearms are in their custody."""
    cmd, state = ctx.command, ctx.state
    if not isinstance(cmd, CheckOut):
        raise misapplied(ctx)
    held = [fid for fid in state.held_by(cmd.actor) if not state.firearms[fid].disposed]
    if not held:
        return []
    return [
        ctx.block(
            f"{person_name(state, cmd.actor)} still holds {', '.join(held)}. Every firearm is in a "
            "locked container or with one named person on set: lock them away or hand them to "
            "another handler before checking out."
        )
    ]


# ------------------------------------------------------------------ show-clear-before-issue


def _needs_show_clear(f: Firearm | None) -> bool:
    return f is not None and f.type not in NON_FIRING_TYPES


@rule(
    "show-clear-before-issue",
    applies_to=(Issue,),
    source='Safety Bulletin #1; Actors\' Equity; Rust (2021: "cold gun" called without a check)',
)
def show_clear_before_issue(ctx: RuleContext) -> list[Verdict]:
    """Issue only after the issuing handler's recent, complete inspection, watched by the
    performer (and the scene's 1st AD)."""
    cmd, state = ctx.command, ctx.state
    if not isinstance(cmd, Issue):
        raise misapplied(ctx)
    f = state.firearms.get(cmd.firearm)
    if not _needs_show_clear(f):
        return []  # unknown, or a non-firing replica / rubber prop
    assert f is not None
    gun = gun_name(state, f.id)
    insp = state.inspections.get(f.last_inspection or "")
    if insp is None:
        return [
            ctx.block(
                f"{gun} has not been shown clear: inspect every chamber and the "
                f"barrel in front of {person_name(state, cmd.to)}, then issue it."
            )
        ]
    problems = []
    if insp.by != cmd.actor:
        problems.append(
            f"the last inspection was by {person_name(state, insp.by)}, not by "
            f"{person_name(state, cmd.actor)} who is issuing it"
        )
    if len(insp.chambers) != f.capacity:
        problems.append(
            f"the inspection recorded {len(insp.chambers)} positions; {f.id} has {f.capacity}"
        )
    bad = [f"{i + 1}: {c}" for i, c in enumerate(insp.chambers) if c in ("live", "obstructed")]
    if bad:
        problems.append(f"the inspection found {', '.join(bad)}")
    if not insp.barrel_clear:
        problems.append("the barrel was not recorded clear")
    watched = set(insp.witnesses) | ({x.person for x in cmd.confirmations} & ctx.confirmed)
    if cmd.to not in watched:
        problems.append(
            f"{person_name(state, cmd.to)} has not confirmed with their PIN that they "
            "watched the show-clear"
        )
    scene = state.scenes.get(cmd.scene or "")
    ads = [p for p in (scene.cast_crew if scene else ()) if state.has_role(p, "first_ad")]
    if ads and not watched & set(ads):
        problems.append(
            f"the scene's 1st AD ({', '.join(person_name(state, a) for a in ads)}) has "
            "not confirmed with their PIN"
        )
    if problems:
        return [
            ctx.block(
                f"{gun} cannot be issued: "
                + "; ".join(problems)
                + ". Show it clear again, with them watching."
            )
        ]
    window = ctx.settings.inspection_window_min
    age = minutes_since(ctx.now, insp.at)
    if age is None or age > window:
        shown = f"{int(age)} minutes ago" if age is not None else "at an unknown time"
        return [
            ctx.block_overridable(
                f"{gun} was shown clear {shown}; the window is {window} minutes. Show it clear "
                "again just before the handoff (or override: handler and 1st AD).",
                "handler",
                "first_ad",
            )
        ]
    return []


# ------------------------------------------------------------------ recheck-after-break


@rule("recheck-after-break", applies_to=(Issue,), source="Rust (2021: no recheck after lunch)")
def recheck_after_break(ctx: RuleContext) -> list[Verdict]:
    """A break in custody since the last inspection voids it (by log order, not time)."""
    cmd, state = ctx.command, ctx.state
    if not isinstance(cmd, Issue):
        raise misapplied(ctx)
    f = state.firearms.get(cmd.firearm)
    if not _needs_show_clear(f):
        return []
    assert f is not None
    insp = state.inspections.get(f.last_inspection or "")
    if insp is None or not state.custody_changed_since_inspection(f.id):
        return []  # never inspected is show-clear-before-issue's refusal
    return [
        ctx.block(
            f"{gun_name(state, f.id)} changed hands or was locked up, or a meal "
            f"break came, after its last inspection by {person_name(state, insp.by)}; "
            "that inspection no longer counts. "
            f"Inspect it again before issuing it to {person_name(state, cmd.to)}."
        )
    ]


# ------------------------------------------------------------------ collect-after-take


def _take(scene: str | None, shot: int | None) -> str:
    if shot is None:
        return f"a take of scene {scene}" if scene else "a take"
    return f"take {shot}" + (f" of scene {scene}" if scene else "")


@rule(
    "collect-after-take",
    applies_to=(CheckAlerts, WrapScene, Discharge),
    source="Cover Up (1984, Jon-Erik Hexum: gun left with the actor between takes); "
    "rental-house rules",
)
def collect_after_take(ctx: RuleContext) -> list[Verdict]:
    """A firearm goes back to the handler after each take: one still with a performer
    after its take has fired, after its scene wraps, or past the limit alerts."""
    cmd, state = ctx.command, ctx.state
    limit = ctx.settings.collect_limit_min
    out: list[Verdict] = []
    if isinstance(cmd, Discharge):
        f = state.firearms.get(cmd.firearm)
        if (
            f is None
            or f.custody.kind != "person"
            or state.is_handler(f.custody.ref)
            or f.fired_at is None
            or (cmd.shot is not None and cmd.shot == f.fired_shot)
        ):
            return []
        return [
            ctx.alert(
                f"{gun_name(state, f.id)} fired again with {person_name(state, f.custody.ref)}: "
                f"it already fired in {_take(f.issued_for, f.fired_shot)} at "
                f"{local_time(state, f.fired_at)} and was not given back to the handler. The "
                "handler collects it after every take.",
                subject=f"firearm:{f.id}",
                roles=("handler", "first_ad"),
            )
        ]
    for fid, f in sorted(state.firearms.items()):
        if f.disposed or f.custody.kind != "person" or state.is_handler(f.custody.ref):
            continue
        holder = person_name(state, f.custody.ref)
        scene = state.scenes.get(f.issued_for or "")
        if isinstance(cmd, WrapScene):
            if f.issued_for != cmd.scene:
                continue
            why = f"scene {cmd.scene} is wrapping"
        elif f.fired_at is not None:
            why = (
                f"its take has fired ({_take(f.issued_for, f.fired_shot)}, at "
                f"{local_time(state, f.fired_at)})"
            )
        elif scene is not None and scene.wrapped_at:
            why = f"scene {scene.id} has wrapped"
        else:
            held = minutes_since(ctx.now, f.issued_at or f.custody_changed_at)
            if held is None or held <= limit:
                continue
            why = f"it has been out for {int(held)} minutes (the limit is {limit})"
        out.append(
            ctx.alert(
                f"{gun_name(state, fid)} is still with {holder} and {why}. The handler collects it "
                "now.",
                subject=f"firearm:{fid}",
                roles=("handler", "first_ad"),
            )
        )
    return out


# ------------------------------------------------------------------ scene-bound


@rule(
    "scene-bound",
    applies_to=(Issue,),
    source="Rust (2021: reported target practice); Safety Bulletin #1 (no horseplay)",
)
def scene_bound(ctx: RuleContext) -> list[Verdict]:
    """Issue only for a scene scheduled on the current shoot day (call to wrap, across
    midnight if it runs so) whose firearm plan lists the firearm."""
    cmd, state = ctx.command, ctx.state
    if not isinstance(cmd, Issue):
        raise misapplied(ctx)
    gun = gun_name(state, cmd.firearm)
    if cmd.scene is None:
        return [
            ctx.block(
                f"{gun} can only be issued for a scene: no target practice, no plinking. Name the "
                "scene (an unscheduled insert names its scene and needs the handler and the "
                "safety contact to override)."
            )
        ]
    scene = state.scenes.get(cmd.scene)
    if scene is None:
        return []
    problems = []
    day = state.shoot_days.get(scene.shoot_day)
    if day is not None and day.wrapped_at:
        problems.append(f"shoot day {day.id} has wrapped")
    elif day is None or not within_shoot_day(state, day.id, ctx.now):
        problems.append(
            f"scene {scene.id} is scheduled for shoot day "
            f"{describe(state, scene.shoot_day)}, not the current one (it is now "
            f"{now_words(state, ctx.now)})"
        )
    if scene.wrapped_at:
        problems.append(f"scene {scene.id} has wrapped")
    planned = sorted(scene.plan.firearm_ids())
    if cmd.firearm not in planned:
        problems.append(
            f"the firearm plan of scene {scene.id} does not list {cmd.firearm} "
            f"(it lists {', '.join(planned) or 'no firearm'})"
        )
    if not problems:
        return []
    return [
        ctx.block_overridable(
            f"{gun} cannot be issued for scene {scene.id}: "
            + "; ".join(problems)
            + ". Add it to the current shoot day's plan, or override as an unscheduled insert "
            "(handler and safety contact).",
            "handler",
            "safety_contact",
        )
    ]
