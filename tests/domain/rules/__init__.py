"""Helpers for the rule tests: the sample western, driven step by step.

Every helper does the step the right way (so it passes every rule) and moves the
fixed clock on by a few seconds first, so "before" and "after" are never the
same instant.
"""

from __future__ import annotations

from typing import Any

from coldset.domain.pipeline import Decision
from coldset.domain.sample import western

from ..conftest import DAY, PINS, Sim

STEP_SECONDS = 10


def western_with(**create: Any) -> Sim:
    """The sample western, created with other settings (e.g. ``ammo_grace_min=10``)."""
    s = Sim()
    cmds = western(DAY, PINS)
    cmds[0] = {**cmds[0], **create}
    for cmd in cmds:
        s.ok(cmd)
    return s


def pin(person: str) -> dict[str, str]:
    return {"person": person, "pin": PINS[person]}


def verdicts(d: Decision, rule: str) -> list[str]:
    """The kinds of verdict ``rule`` gave on decision ``d``."""
    return [v.kind for v in d.verdicts if v.rule == rule]


def reasons(d: Decision, rule: str) -> str:
    return " | ".join(v.reason for v in d.verdicts if v.rule == rule)


def run(w: Sim, cmd: dict[str, Any]) -> Decision:
    w.clock.advance(seconds=STEP_SECONDS)
    return w.run(cmd)


def ok(w: Sim, cmd: dict[str, Any]) -> Decision:
    w.clock.advance(seconds=STEP_SECONDS)
    return w.ok(cmd)


def take_out(
    w: Sim,
    firearm: str = "colt-1",
    actor: str = "hana",
    container: str = "safe-main",
    keep: dict[str, int] | None = None,
) -> None:
    """Open the container, keep ``firearm`` (and ``keep`` rounds), lock the rest back in.

    The day's scene safety meetings are held first: they come before any issue or load.
    """
    for scene in sorted(w.state.scenes):
        meeting(w, scene)
    ok(w, {"type": "unlock_container", "actor": actor, "container": container})
    held = w.state.rounds_held(actor)
    others = [f for f in w.state.held_by(actor) if f != firearm]
    rounds = {lid: n - (keep or {}).get(lid, 0) for lid, n in held.items()}
    ok(
        w,
        {
            "type": "lock_container",
            "actor": actor,
            "container": container,
            "firearms": others,
            "rounds": {k: v for k, v in rounds.items() if v},
        },
    )


def show_clear(
    w: Sim,
    firearm: str = "colt-1",
    actor: str = "hana",
    watchers: tuple[str, ...] = ("alec", "dave"),
    **fields: Any,
) -> Decision:
    cap = w.state.firearms[firearm].capacity
    cmd = {
        "type": "inspect",
        "actor": actor,
        "firearm": firearm,
        "chambers": ["empty"] * cap,
        "barrel_clear": True,
        "confirmations": [pin(p) for p in watchers],
        **fields,
    }
    return ok(w, cmd)


def issue_cmd(
    firearm: str = "colt-1",
    to: str = "alec",
    scene: str | None = "sc-12",
    actor: str = "hana",
    **fields: Any,
) -> dict[str, Any]:
    cmd = {
        "type": "issue",
        "actor": actor,
        "firearm": firearm,
        "to": to,
        "confirmations": [pin(to)],
        **fields,
    }
    if scene is not None:
        cmd["scene"] = scene
    return cmd


def meeting(w: Sim, scene: str) -> None:
    """Hold the scene's safety meeting with its whole cast and crew, once."""
    if any(m.scene == scene for m in w.state.meetings.values()):
        return
    sc = w.state.scenes[scene]
    ok(
        w,
        {
            "type": "hold_safety_meeting",
            "actor": "dave",
            "shoot_day": sc.shoot_day,
            "scene": scene,
            "attendees": list(sc.cast_crew),
            "topics": "firearms in " + scene,
        },
    )


def ready(
    w: Sim,
    firearm: str = "colt-1",
    to: str = "alec",
    scene: str | None = "sc-12",
    actor: str = "hana",
    **fields: Any,
) -> dict[str, Any]:
    """Take ``firearm`` out and show it clear; return the issue command that should pass."""
    take_out(w, firearm, actor)
    show_clear(w, firearm, actor, watchers=(to, "dave"))
    return issue_cmd(firearm, to, scene, actor, **fields)
