"""Issue 11, points 1-6: the incidents' variants that were allowed and must be refused.

Each test shows the unsafe variant refused by the right rule id, and the safe way through
allowed (rules both ways). The replays in scenarios/variants-*.yaml play the same
variants end to end.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from coldset.domain.commands import CommandError, parse_command
from coldset.domain.model import replace
from coldset.domain.sample import PRODUCTION, western

from ..conftest import DAY, PINS, Sim
from . import issue_cmd, meeting, ok, pin, ready, reasons, run, show_clear, take_out, verdicts

YESTERDAY = (DAY - timedelta(days=1)).isoformat()
NEXT_YEAR = (DAY + timedelta(days=365)).isoformat()


def add_handler(
    w: Sim, pid: str = "pat", expires: str = YESTERDAY, role: str = "property_master"
) -> None:
    """A property master (a handler role) whose permit is valid through ``expires``."""
    ok(
        w,
        {
            "type": "add_person",
            "actor": "maria",
            "person": pid,
            "name": "Pat Quill",
            "roles": [role],
            "pin": "5555",
        },
    )
    ok(
        w,
        {
            "type": "record_credential",
            "actor": "lee",
            "person": pid,
            "kind": "entertainment_firearms_permit",
            "number": "EFP-PAT",
            "issuer": "State",
            "expires": expires,
        },
    )


def blocking(d: Any) -> set[str]:
    return {v.rule for v in d.verdicts if v.blocks}


# ------------------------------------------------------------------ 1. who may receive


def test_transfer_to_a_handler_whose_permit_expired_yesterday_is_refused(western_sim: Sim) -> None:
    """handler-credentials: a handler passing a revolver to a property master whose permit
    expired the day before is refused, naming the receiver; once the permit is current the
    same transfer is allowed."""
    w = western_sim
    add_handler(w)
    take_out(w)
    d = run(w, {"type": "transfer", "actor": "hana", "firearm": "colt-1", "to": "pat"})
    assert d.status == "refused" and blocking(d) == {"handler-credentials"}
    why = reasons(d, "handler-credentials")
    assert "Pat Quill (pat) cannot receive colt-1" in why and YESTERDAY in why
    ok(
        w,
        {
            "type": "record_credential",
            "actor": "lee",
            "person": "pat",
            "kind": "entertainment_firearms_permit",
            "number": "EFP-PAT-2",
            "issuer": "State",
            "expires": NEXT_YEAR,
        },
    )
    ok(w, {"type": "transfer", "actor": "hana", "firearm": "colt-1", "to": "pat"})
    assert w.state.holder("colt-1") == "pat"


def test_issue_to_an_expired_handler_is_refused(western_sim: Sim) -> None:
    """handler-credentials: an issue to a handler (allowed as a receiver by
    armorer-only-handoff) whose permit has expired is refused for the receiver."""
    w = western_sim
    add_handler(w)
    meeting(w, "sc-12")
    ok(
        w,
        {
            "type": "hold_safety_meeting",
            "actor": "dave",
            "shoot_day": "day-1",
            "scene": "sc-12",
            "attendees": ["pat", "hana", "dave", "alec", "lee"],
        },
    )
    take_out(w)
    conf = [{"person": "pat", "pin": "5555"}]
    ok(
        w,
        {
            "type": "inspect",
            "actor": "hana",
            "firearm": "colt-1",
            "chambers": ["empty"] * 6,
            "barrel_clear": True,
            "confirmations": [*conf, pin("dave")],
        },
    )
    d = run(w, {**issue_cmd(), "to": "pat", "confirmations": conf})
    assert "handler-credentials" in blocking(d)
    assert "Pat Quill (pat) cannot receive" in reasons(d, "handler-credentials")


def test_a_performer_handing_back_to_an_expired_handler_is_refused(western_sim: Sim) -> None:
    """handler-credentials: the receiver counts whoever acts: a performer giving the
    revolver back to a property master with an expired permit is refused (before, the rule
    looked only at the actor, a performer, and let it through); back to the armorer it is
    allowed."""
    w = western_sim
    add_handler(w)
    ok(w, ready(w))
    d = run(w, {"type": "transfer", "actor": "alec", "firearm": "colt-1", "to": "pat"})
    assert d.status == "refused" and blocking(d) == {"handler-credentials"}
    ok(w, {"type": "transfer", "actor": "alec", "firearm": "colt-1", "to": "hana"})


def test_collect_by_an_expired_handler_is_refused(western_sim: Sim) -> None:
    """handler-credentials: collect puts the firearm in the collector's hands, so a
    handler with an expired permit cannot collect it either."""
    w = western_sim
    add_handler(w)
    ok(w, ready(w))
    d = run(w, {"type": "collect", "actor": "pat", "firearm": "colt-1"})
    assert "handler-credentials" in blocking(d)


# ------------------------------------------------------------------ 2. other duties


def _props_truck(w: Sim) -> None:
    ok(
        w,
        {
            "type": "add_set",
            "actor": "maria",
            "set": "props-truck",
            "unit": "main",
            "name": "Props truck",
        },
    )


def test_handler_cannot_go_to_the_props_truck_while_the_actor_holds_the_revolver(
    western_sim: Sim,
) -> None:
    """armorer-dedicated: while the revolver is with the actor in the church, the armorer
    checking in at the props truck of the same unit is refused (before, only another unit
    counted); with another handler checked in on the church, or once the revolver is
    collected, the move is allowed."""
    w = western_sim
    _props_truck(w)
    ok(w, ready(w))
    move = {"type": "check_in", "actor": "hana", "unit": "main", "set": "props-truck"}
    d = run(w, move)
    assert d.status == "refused" and blocking(d) == {"armorer-dedicated"}
    why = reasons(d, "armorer-dedicated")
    assert "Props truck" in why and "colt-1 is with Alec Barrow (alec) on Old church" in why
    ok(w, {"type": "collect", "actor": "hana", "firearm": "colt-1"})
    ok(w, {"type": "unlock_container", "actor": "hana", "container": "safe-main"})
    ok(w, {"type": "lock_container", "actor": "hana", "container": "safe-main"})
    ok(w, move)


def test_another_handler_on_the_set_frees_the_armorer_but_handler_present_sees_where(
    western_sim: Sim,
) -> None:
    """armorer-dedicated lets the armorer go when another handler is checked in on the
    performer's set; handler-present then sees the armorer at the props truck and refuses
    their collect in the church, while the handler on the set collects."""
    w = western_sim
    _props_truck(w)
    add_handler(w, expires=NEXT_YEAR)
    ok(w, ready(w))
    ok(w, {"type": "check_in", "actor": "pat", "unit": "main", "set": "church"})
    ok(w, {"type": "check_in", "actor": "hana", "unit": "main", "set": "props-truck"})
    d = run(w, {"type": "collect", "actor": "hana", "firearm": "colt-1"})
    assert blocking(d) == {"handler-present"}
    assert "checked in on props-truck" in reasons(d, "handler-present")
    ok(w, {"type": "collect", "actor": "pat", "firearm": "colt-1"})


# ------------------------------------------------------------------ 3. meetings


def evening_before() -> Sim:
    """The western set up at 18:00 the evening before the shoot day (Denver), its safety
    meetings included, "for tomorrow"; the clock then moves to 08:00 on the day."""
    s = Sim(start=datetime(2025, 3, 3, 1, 0, tzinfo=UTC))  # 2025-03-02 18:00 MST
    for cmd in western(DAY, PINS):
        s.ok(cmd)
    s.clock.advance(seconds=14 * 3600)  # 2025-03-03 08:00 MST
    return s


def test_a_meeting_held_the_evening_before_does_not_count() -> None:
    """safety-meeting: meetings recorded for the shoot day but held at 18:00 the evening
    before do not satisfy it the next morning (before, they matched by shoot-day id); a
    meeting held that morning does."""
    w = evening_before()
    take_out(w)
    show_clear(w)
    d = run(w, issue_cmd())
    assert d.status == "refused" and blocking(d) == {"safety-meeting"}
    why = reasons(d, "safety-meeting")
    assert "2025-03-02 18:00" in why and "not during its shoot day 2025-03-03" in why
    ok(
        w,
        {
            "type": "hold_safety_meeting",
            "actor": "dave",
            "shoot_day": "day-1",
            "scene": "sc-12",
            "attendees": ["alec", "dave", "hana", "lee"],
        },
    )
    ok(w, issue_cmd())


def test_a_meeting_without_the_handler_does_not_count(western_sim: Sim) -> None:
    """safety-meeting: the people who handle the firearm attend: a same-day meeting for
    the scene that the issuing handler did not attend (and is not recorded absent from)
    does not let them issue."""
    w = evening_before()
    take_out(w)
    show_clear(w)
    ok(
        w,
        {
            "type": "hold_safety_meeting",
            "actor": "dave",
            "shoot_day": "day-1",
            "scene": "sc-12",
            "attendees": ["alec", "dave", "lee"],
        },
    )
    d = run(w, issue_cmd())
    assert blocking(d) == {"safety-meeting"}
    assert "Hana Reyes (hana) did not attend" in reasons(d, "safety-meeting")


# ------------------------------------------------------------------ 4. unplanned discharge


def _loaded(w: Sim) -> None:
    """colt-2 issued to Frances for sc-20 and loaded with two blanks for shot 1."""
    take_out(w, "colt-2", keep={"blank-45": 6})
    show_clear(w, "colt-2", watchers=("frances", "dave"))
    ok(w, issue_cmd("colt-2", "frances", "sc-20"))
    ok(
        w,
        {
            "type": "load",
            "actor": "hana",
            "firearm": "colt-2",
            "lot": "blank-45",
            "positions": [1, 2],
            "scene": "sc-20",
            "shot": 1,
        },
    )


LOAD_AGAIN = {
    "type": "load",
    "actor": "hana",
    "firearm": "colt-2",
    "lot": "blank-45",
    "positions": [1, 2],
    "scene": "sc-20",
    "shot": 1,
}


@pytest.mark.parametrize(
    "fields",
    [
        {},  # no scene, no take (the Cover Up shot)
        {"scene": "sc-20"},  # a scene but no take
        {"scene": "sc-20", "shot": 9},  # a shot the plan does not have
        {"scene": "sc-12", "shot": 2},  # a scene that does not plan colt-2
    ],
    ids=["no-scene", "no-take", "unknown-shot", "other-scene"],
)
def test_a_discharge_outside_a_planned_take_stops_the_unit_and_quarantines(
    western_sim: Sim, fields: dict[str, Any]
) -> None:
    """unplanned-discharge: a blank fired outside a planned take is recorded (evidence) with
    a stop-work on the unit and the firearm quarantined; loading it again is refused by
    the rule, naming it."""
    w = western_sim
    _loaded(w)
    d = ok(
        w,
        {"type": "discharge", "actor": "frances", "firearm": "colt-2", "positions": [1], **fields},
    )
    assert verdicts(d, "unplanned-discharge") == ["stop_work"]
    assert w.state.firearms["colt-2"].quarantined
    assert [(s.scope, s.rule) for s in w.state.open_stop_works()] == [
        ("main", "unplanned-discharge")
    ]
    d = run(w, LOAD_AGAIN)
    assert d.status == "refused" and "unplanned-discharge" in blocking(d)
    assert "stop-work" not in blocking(d)  # the stop names what happened


def test_a_planned_take_is_not_an_unplanned_discharge(western_sim: Sim) -> None:
    """unplanned-discharge: the take the plan lists fires with no verdict and no stop."""
    w = western_sim
    _loaded(w)
    d = ok(
        w,
        {
            "type": "discharge",
            "actor": "frances",
            "firearm": "colt-2",
            "positions": [1],
            "scene": "sc-20",
            "shot": 1,
        },
    )
    assert verdicts(d, "unplanned-discharge") == []
    assert not w.state.open_stop_works() and not w.state.firearms["colt-2"].quarantined


def test_an_injury_with_a_firearm_stops_and_quarantines_until_released(western_sim: Sim) -> None:
    """unplanned-discharge: an injury reported against a firearm stops the unit and
    quarantines it (before, injury quarantined nothing); release is refused until a barrel
    inspection and function check are recorded after it, then allowed; an injury with no
    firearm named stops nothing."""
    w = western_sim
    d = ok(
        w,
        {
            "type": "report_incident",
            "actor": "lee",
            "kind": "injury",
            "description": "a grip cut his hand on a c-stand",
        },
    )
    assert verdicts(d, "unplanned-discharge") == [] and not w.state.open_stop_works()
    _loaded(w)
    d = ok(
        w,
        {
            "type": "report_incident",
            "actor": "frances",
            "kind": "injury",
            "firearm": "colt-2",
            "description": "powder burn on the other actor's arm",
        },
    )
    assert verdicts(d, "unplanned-discharge") == ["stop_work"]
    assert w.state.firearms["colt-2"].quarantined
    release = {
        "type": "release_quarantine",
        "actor": "hana",
        "firearm": "colt-2",
        "note": "barrel inspected and function checked",
        "confirmations": [pin("lee")],
    }
    ok(w, {"type": "collect", "actor": "hana", "firearm": "colt-2"})
    ok(w, {"type": "unload", "actor": "hana", "firearm": "colt-2"})
    d = run(w, release)
    assert blocking(d) == {"unplanned-discharge"}
    assert "barrel inspection" in reasons(d, "unplanned-discharge")
    ok(
        w,
        {
            "type": "inspect",
            "actor": "hana",
            "firearm": "colt-2",
            "chambers": ["empty"] * 6,
            "barrel_clear": True,
            "function_check": True,
        },
    )
    ok(w, release)
    assert not w.state.firearms["colt-2"].quarantined


# ------------------------------------------------------------------ 5. distinct sign-offs


def _camera_scene(
    w: Sim, scene: str = "sc-30", mitigations: list[Any] | None = None, muzzle: str = "camera"
) -> None:
    ok(
        w,
        {
            "type": "schedule_scene",
            "actor": "dave",
            "scene": scene,
            "shoot_day": "day-1",
            "unit": "main",
            "set": "church",
            "title": "Draw toward the lens",
            "firearms": [{"firearm": "colt-1"}, {"firearm": "replica-1"}],
            "shots": [{"number": 1, "kind": "take", "muzzle": muzzle, "closest_distance_ft": 6}],
            "mitigations": ["remote camera, operator behind a shield"]
            if mitigations is None
            else mitigations,
            "cast_crew": ["alec", "dave", "hana", "lee"],
        },
    )
    meeting(w, scene)


def test_one_person_in_two_roles_cannot_sign_twice(western_sim: Sim) -> None:
    """muzzle-plan: a person who is 1st AD and safety contact, having signed as 1st AD, is
    refused as safety contact (before, two people gave three sign-offs); the safety
    contact who is another person signs, and the issue goes through."""
    w = western_sim
    ok(w, {"type": "grant_role", "actor": "maria", "person": "dave", "role": "safety_contact"})
    _camera_scene(w)
    ok(w, {"type": "sign_off_plan", "actor": "hana", "scene": "sc-30", "as_role": "handler"})
    ok(w, {"type": "sign_off_plan", "actor": "dave", "scene": "sc-30", "as_role": "first_ad"})
    d = run(
        w, {"type": "sign_off_plan", "actor": "dave", "scene": "sc-30", "as_role": "safety_contact"}
    )
    assert d.status == "refused" and blocking(d) == {"muzzle-plan"}
    assert "three distinct people" in reasons(d, "muzzle-plan")
    ok(w, {"type": "sign_off_plan", "actor": "lee", "scene": "sc-30", "as_role": "safety_contact"})
    ok(w, ready(w, scene="sc-30"))


def test_a_plan_signed_twice_by_one_person_in_an_old_log_still_lacks_a_signoff(
    western_sim: Sim,
) -> None:
    """muzzle-plan: a plan whose record already holds two sign-offs by one person (written
    before sign-offs were checked) counts that person once at issue."""
    w = western_sim
    _camera_scene(w)
    sc = w.state.scenes["sc-30"]
    w.state.scenes = w.state.scenes.set(
        "sc-30",
        replace(sc, signoffs={"handler": "hana", "first_ad": "dave", "safety_contact": "dave"}),
    )
    d = run(w, ready(w, scene="sc-30"))
    assert blocking(d) == {"muzzle-plan"}
    why = reasons(d, "muzzle-plan")
    assert "safety contact" in why and "which counts once" in why


# ------------------------------------------------------------------ 6. mitigations


def _signed(w: Sim, scene: str = "sc-30") -> None:
    for actor, role in (("hana", "handler"), ("dave", "first_ad"), ("lee", "safety_contact")):
        ok(w, {"type": "sign_off_plan", "actor": actor, "scene": scene, "as_role": role})


def test_a_replica_mitigation_does_not_justify_a_real_revolver(western_sim: Sim) -> None:
    """muzzle-plan: a plan whose only mitigation is "non-firing replica" does not let the
    real revolver be issued for the shot (before, any mitigation text did); the replica
    itself is issued."""
    w = western_sim
    _camera_scene(w, mitigations=["non-firing replica"])
    _signed(w)
    d = run(w, ready(w, scene="sc-30"))
    assert d.status == "refused" and blocking(d) == {"muzzle-plan"}
    assert "non-firing replica" in reasons(d, "muzzle-plan")
    assert "real firearm" in reasons(d, "muzzle-plan")
    ok(w, {"type": "unlock_container", "actor": "hana", "container": "safe-main"})
    ok(w, {"type": "lock_container", "actor": "hana", "container": "safe-main"})
    take_out(w, "replica-1")
    ok(w, issue_cmd("replica-1", scene="sc-30"))


def test_a_remote_camera_does_not_mitigate_a_muzzle_at_a_person(western_sim: Sim) -> None:
    """muzzle-plan: a mitigation is checked against what it must protect: a remote camera
    keeps nobody behind the lens, but does nothing for a muzzle pointed at a person; a
    cheated angle does."""
    w = western_sim
    _camera_scene(w, "sc-31", mitigations=["remote camera"], muzzle="person")
    _signed(w, "sc-31")
    d = run(w, ready(w, scene="sc-31"))
    assert blocking(d) == {"muzzle-plan"} and "no mitigation" in reasons(d, "muzzle-plan")
    _camera_scene(
        w,
        "sc-32",
        mitigations=[{"kind": "offset_angle", "note": "15 degrees off", "shots": [1]}],
        muzzle="person",
    )
    _signed(w, "sc-32")
    show_clear(w)
    ok(w, issue_cmd(scene="sc-32"))


def test_a_mitigation_must_say_what_it_is() -> None:
    """schedule_scene: a mitigation in words that names no kind, or one naming a shot the
    plan does not have, is malformed (nothing is written); "cheated angle: ..." is read as
    an offset angle with its words."""
    base = {
        "type": "schedule_scene",
        "production": PRODUCTION,
        "actor": "dave",
        "scene": "s",
        "shoot_day": "d",
        "unit": "u",
        "set": "x",
        "title": "t",
        "shots": [{"number": 1, "muzzle": "camera", "closest_distance_ft": 5}],
    }
    with pytest.raises(CommandError, match="say which mitigation"):
        parse_command({**base, "mitigations": ["be careful"]})
    with pytest.raises(CommandError, match="shot 4"):
        parse_command({**base, "mitigations": [{"kind": "shield", "shots": [4]}]})
    cmd = parse_command({**base, "mitigations": ["Cheated angle: 15 degrees off the line"]})
    m = cmd.mitigations[0]  # type: ignore[attr-defined]
    assert (m.kind, m.note) == ("offset_angle", "Cheated angle: 15 degrees off the line")


def test_a_props_task_while_the_revolver_is_out_is_refused(western_sim: Sim) -> None:
    """armorer-dedicated: a handler checking in for a non-firearms task (props) on the very
    set where the actor holds the revolver is refused; with another handler there on
    firearms duty it is allowed."""
    w = western_sim
    add_handler(w, expires=NEXT_YEAR)
    ok(w, ready(w))
    props = {"type": "check_in", "actor": "hana", "unit": "main", "set": "church", "task": "props"}
    d = run(w, props)
    assert d.status == "refused" and blocking(d) == {"armorer-dedicated"}
    assert "'props'" in reasons(d, "armorer-dedicated")
    ok(w, {"type": "check_in", "actor": "pat", "unit": "main", "set": "church"})
    ok(w, props)
    assert dict(w.state.duties) == {"hana": "props"}


def test_a_handler_on_another_task_does_not_handle_firearms(western_sim: Sim) -> None:
    """armorer-dedicated: a handler checked in for props with nothing out may do it, but
    cannot open the firearms safe while on it; checked in again as the firearms handler
    (no task), they can."""
    w = western_sim
    ok(w, {"type": "check_in", "actor": "hana", "unit": "main", "set": "church", "task": "props"})
    d = run(w, {"type": "unlock_container", "actor": "hana", "container": "safe-main"})
    assert d.status == "refused" and blocking(d) == {"armorer-dedicated"}
    assert "another task (props)" in reasons(d, "armorer-dedicated")
    ok(w, {"type": "check_in", "actor": "hana", "unit": "main", "set": "church"})
    assert "hana" not in w.state.duties
    ok(w, {"type": "unlock_container", "actor": "hana", "container": "safe-main"})


def test_a_mitigation_for_one_shot_does_not_cover_another(western_sim: Sim) -> None:
    """muzzle-plan: a shield recorded for shot 2 only leaves shot 1 (at the camera)
    unmitigated; recorded for every shot, it covers both."""
    w = western_sim
    for scene, shots in (("sc-33", [2]), ("sc-34", [])):
        ok(
            w,
            {
                "type": "schedule_scene",
                "actor": "dave",
                "scene": scene,
                "shoot_day": "day-1",
                "unit": "main",
                "set": "church",
                "title": "Two draws",
                "firearms": [{"firearm": "colt-1"}],
                "shots": [
                    {"number": 1, "muzzle": "camera", "closest_distance_ft": 6},
                    {"number": 2, "muzzle": "camera", "closest_distance_ft": 6},
                ],
                "mitigations": [{"kind": "shield", "shots": shots}],
                "cast_crew": ["alec", "dave", "hana", "lee"],
            },
        )
        meeting(w, scene)
        _signed(w, scene)
    d = run(w, ready(w, scene="sc-33"))
    assert blocking(d) == {"muzzle-plan"}
    assert "no mitigation for shot 1" in reasons(d, "muzzle-plan")
    ok(w, issue_cmd(scene="sc-34"))
