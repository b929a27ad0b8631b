"""D. Scenes and set rules: each one refuses the unsafe step and lets the right one through."""

from __future__ import annotations

from typing import Any

from ..conftest import Sim
from . import issue_cmd, ok, ready, reasons, run, show_clear, take_out, verdicts, western_with

CAST = ["alec", "frances", "dave", "hana", "lee"]


def schedule(
    w: Sim,
    scene: str,
    firearm: str = "colt-1",
    shots: list[dict[str, Any]] | None = None,
    sign: tuple[str, ...] = ("handler", "first_ad", "safety_contact"),
    **plan: Any,
) -> None:
    """Schedule ``scene`` on the church set today with one firearm, signed off by ``sign``."""
    entry: dict[str, Any] = {"firearm": firearm}
    entry.update({k: plan.pop(k) for k in ("rounds", "load", "close_range_load") if k in plan})
    ok(
        w,
        {
            "type": "schedule_scene",
            "actor": "dave",
            "scene": scene,
            "shoot_day": "day-1",
            "unit": "main",
            "set": "church",
            "title": f"Scene {scene}",
            "firearms": [entry],
            "shots": shots
            or [{"number": 1, "muzzle": "clear", "target": "wall", "closest_distance_ft": 25}],
            "cast_crew": CAST,
            **plan,
        },
    )
    by = {"handler": "hana", "first_ad": "dave", "safety_contact": "lee"}
    for role in sign:
        ok(w, {"type": "sign_off_plan", "actor": by[role], "scene": scene, "as_role": role})


def meeting(
    w: Sim, scene: str, attendees: list[str] | None = None, absent: list[str] | None = None
) -> None:
    ok(
        w,
        {
            "type": "hold_safety_meeting",
            "actor": "dave",
            "shoot_day": "day-1",
            "scene": scene,
            "attendees": attendees or CAST,
            "absent": absent or [],
        },
    )


def blanks_out(w: Sim, firearm: str = "colt-2", to: str = "frances") -> None:
    """``firearm`` out with six blanks in Hana's hand, shown clear to ``to``."""
    take_out(w, firearm, keep={"blank-45": 6})
    show_clear(w, firearm, watchers=(to, "dave"))


# ------------------------------------------------------------------ safety-meeting


def test_no_issue_before_the_scene_safety_meeting(western_sim: Sim) -> None:
    """safety-meeting: a scene scheduled without its meeting gets no firearm; once its cast
    and crew are briefed the issue passes."""
    w = western_sim
    take_out(w)
    show_clear(w)
    schedule(w, "sc-30")
    d = run(w, issue_cmd(scene="sc-30"))
    assert d.status == "refused"
    assert verdicts(d, "safety-meeting") == ["block"]
    assert "No safety meeting has been held for scene sc-30" in reasons(d, "safety-meeting")
    meeting(w, "sc-30")
    d = ok(w, issue_cmd(scene="sc-30"))
    assert verdicts(d, "safety-meeting") == []


def test_absentee_cannot_be_on_the_set(western_sim: Sim) -> None:
    """safety-meeting: Alec, recorded absent, is not issued a firearm for the scene; a second
    meeting that briefs him lets it through."""
    w = western_sim
    take_out(w)
    show_clear(w)
    schedule(w, "sc-30")
    meeting(w, "sc-30", attendees=["frances", "dave", "hana", "lee"], absent=["alec"])
    d = run(w, issue_cmd(scene="sc-30"))
    assert verdicts(d, "safety-meeting") == ["block"]
    assert "Alec Barrow (alec) was recorded absent" in reasons(d, "safety-meeting")
    meeting(w, "sc-30", attendees=["alec"])
    d = ok(w, issue_cmd(scene="sc-30"))
    assert verdicts(d, "safety-meeting") == []


def test_meeting_must_account_for_the_whole_cast(western_sim: Sim) -> None:
    """safety-meeting: a meeting that neither lists Frances as attending nor as absent
    does not cover the scene."""
    w = western_sim
    take_out(w)
    show_clear(w)
    schedule(w, "sc-30")
    meeting(w, "sc-30", attendees=["alec", "dave", "hana", "lee"])
    d = run(w, issue_cmd(scene="sc-30"))
    assert verdicts(d, "safety-meeting") == ["block"]
    assert "did not record frances" in reasons(d, "safety-meeting")


# ------------------------------------------------------------------ muzzle-plan

AT_CAMERA = [
    {
        "number": 1,
        "kind": "rehearsal",
        "muzzle": "camera",
        "target": "lens",
        "closest_distance_ft": 25,
    }
]


def test_muzzle_at_camera_without_mitigation_or_signoffs(western_sim: Sim) -> None:
    """muzzle-plan: a rehearsal pointing at the camera with no mitigation and no sign-offs is
    refused (the Rust rehearsal)."""
    w = western_sim
    take_out(w)
    show_clear(w)
    schedule(w, "sc-31", shots=AT_CAMERA, sign=())
    meeting(w, "sc-31")
    d = run(w, issue_cmd(scene="sc-31"))
    assert d.status == "refused"
    assert verdicts(d, "muzzle-plan") == ["block"]
    why = reasons(d, "muzzle-plan")
    assert "camera" in why and "no mitigation" in why
    assert "handler, 1st AD and safety contact" in why


def test_muzzle_at_camera_needs_all_three_signoffs(western_sim: Sim) -> None:
    """muzzle-plan: with a mitigation but without the safety contact's sign-off it is still
    refused; with all three it passes."""
    w = western_sim
    take_out(w)
    show_clear(w)
    schedule(
        w,
        "sc-32",
        shots=AT_CAMERA,
        sign=("handler", "first_ad"),
        mitigations=["remote camera, operator behind a shield"],
    )
    meeting(w, "sc-32")
    d = run(w, issue_cmd(scene="sc-32"))
    assert verdicts(d, "muzzle-plan") == ["block"]
    assert "signed off by the safety contact" in reasons(d, "muzzle-plan")
    ok(w, {"type": "sign_off_plan", "actor": "lee", "scene": "sc-32", "as_role": "safety_contact"})
    d = ok(w, issue_cmd(scene="sc-32"))
    assert verdicts(d, "muzzle-plan") == []


def test_muzzle_clear_needs_nothing_more(western_sim: Sim) -> None:
    """muzzle-plan: the sample's sc-12 points at the floor and wall: no verdict."""
    w = western_sim
    d = ok(w, ready(w))
    assert verdicts(d, "muzzle-plan") == []


# ------------------------------------------------------------------ blank-distance

CLOSE = [
    {
        "number": 1,
        "muzzle": "clear",
        "target": "past the outlaw",
        "closest_distance_ft": 10,
        "blanks": True,
    }
]


def test_blanks_closer_than_the_minimum_are_refused(western_sim: Sim) -> None:
    """blank-distance: blanks 10 ft from a person (minimum 20) with no close-range load in
    the plan cannot be issued for."""
    w = western_sim
    blanks_out(w)
    schedule(w, "sc-33", "colt-2", shots=CLOSE, rounds="blank", load="1/4 load")
    meeting(w, "sc-33")
    d = run(w, issue_cmd("colt-2", "frances", "sc-33"))
    assert d.status == "refused"
    assert verdicts(d, "blank-distance") == ["block"]
    why = reasons(d, "blank-distance")
    assert "minimum of 20 ft" in why and "shot 1 (10 ft)" in why
    assert "no specialty close-range load" in why


def test_close_range_load_named_and_signed_passes(western_sim: Sim) -> None:
    """blank-distance: the plan names the close-range load and is signed off: issue and a
    load of that load pass; a lot of another load is refused."""
    w = western_sim
    blanks_out(w)
    schedule(w, "sc-34", "colt-2", shots=CLOSE, rounds="blank", close_range_load="1/4 load")
    meeting(w, "sc-34")
    d = ok(w, issue_cmd("colt-2", "frances", "sc-34"))
    assert verdicts(d, "blank-distance") == []
    d = ok(
        w,
        {
            "type": "load",
            "actor": "hana",
            "firearm": "colt-2",
            "lot": "blank-45",
            "positions": [1],
            "scene": "sc-34",
            "shot": 1,
        },
    )
    assert verdicts(d, "blank-distance") == []


def test_wrong_load_for_a_close_range_shot(western_sim: Sim) -> None:
    """blank-distance: the plan names a 1/8 load; the 1/4-load lot is refused for the shot."""
    w = western_sim
    blanks_out(w)
    schedule(w, "sc-35", "colt-2", shots=CLOSE, rounds="blank", close_range_load="1/8 load")
    meeting(w, "sc-35")
    ok(w, issue_cmd("colt-2", "frances", "sc-35"))
    d = run(
        w,
        {
            "type": "load",
            "actor": "hana",
            "firearm": "colt-2",
            "lot": "blank-45",
            "positions": [1],
            "scene": "sc-35",
            "shot": 1,
        },
    )
    assert verdicts(d, "blank-distance") == ["block"]
    assert "not the close-range load '1/8 load'" in reasons(d, "blank-distance")


def test_blank_distance_comes_from_the_settings() -> None:
    """blank-distance: a production whose minimum is 8 ft accepts the 10 ft shot."""
    w = western_with(blank_distance_ft=8)
    blanks_out(w)
    schedule(w, "sc-33", "colt-2", shots=CLOSE, rounds="blank", load="1/4 load")
    meeting(w, "sc-33")
    d = ok(w, issue_cmd("colt-2", "frances", "sc-33"))
    assert verdicts(d, "blank-distance") == []


# ------------------------------------------------------------------ load-at-take


def _load(scene: str | None, shot: int | None, firearm: str = "colt-2") -> dict[str, Any]:
    cmd: dict[str, Any] = {
        "type": "load",
        "actor": "hana",
        "firearm": firearm,
        "lot": "blank-45",
        "positions": [1],
    }
    if scene:
        cmd["scene"] = scene
    if shot:
        cmd["shot"] = shot
    return cmd


def test_blanks_for_the_firing_take_pass(western_sim: Sim) -> None:
    """load-at-take: blanks for sc-20's firing take, on its day, pass."""
    w = western_sim
    blanks_out(w)
    ok(w, issue_cmd("colt-2", "frances", "sc-20"))
    d = ok(w, _load("sc-20", 1))
    assert verdicts(d, "load-at-take") == []


def test_blanks_without_a_take_are_refused(western_sim: Sim) -> None:
    """load-at-take: blanks with no scene or no shot named are refused."""
    w = western_sim
    blanks_out(w)
    d = run(w, _load(None, None))
    assert verdicts(d, "load-at-take") == ["block"]
    assert "name the scene and take" in reasons(d, "load-at-take")
    d = run(w, _load("sc-20", None))
    assert verdicts(d, "load-at-take") == ["block"]


def test_blanks_for_a_rehearsal_or_a_non_firing_take_are_refused(western_sim: Sim) -> None:
    """load-at-take: sc-12 shot 1 is a rehearsal and shot 2 does not fire: no blanks."""
    w = western_sim
    take_out(w, keep={"blank-45": 6})
    d = run(w, _load("sc-12", 1, "colt-1"))
    assert verdicts(d, "load-at-take") == ["block"]
    assert "rehearsal" in reasons(d, "load-at-take")
    d = run(w, _load("sc-12", 2, "colt-1"))
    assert verdicts(d, "load-at-take") == ["block"]
    assert "does not fire blanks" in reasons(d, "load-at-take")


def test_no_blanks_loaded_during_the_meal_break(western_sim: Sim) -> None:
    """load-at-take: loading before lunch is what Rust did; during the break it is refused,
    after it the same load passes."""
    w = western_sim
    ok(w, {"type": "start_meal_break", "actor": "dave", "unit": "main"})
    d = run(w, _load("sc-20", 1))
    assert verdicts(d, "load-at-take") == ["block"]
    assert "meal break" in reasons(d, "load-at-take")
    ok(w, {"type": "end_meal_break", "actor": "dave", "unit": "main"})
    blanks_out(w)
    ok(w, issue_cmd("colt-2", "frances", "sc-20"))
    d = ok(w, _load("sc-20", 1))
    assert verdicts(d, "load-at-take") == []
