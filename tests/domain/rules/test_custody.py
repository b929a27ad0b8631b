"""B. Custody rules: each one refuses the unsafe step and lets the right one through."""

from __future__ import annotations

from ..conftest import Sim
from . import (
    issue_cmd,
    meeting,
    ok,
    pin,
    ready,
    reasons,
    run,
    show_clear,
    take_out,
    verdicts,
    western_with,
)

# ------------------------------------------------------------------ armorer-only-handoff


def test_first_ad_cannot_issue(western_sim: Sim) -> None:
    """armorer-only-handoff: the 1st AD handing a revolver to a performer is refused."""
    w = western_sim
    ready(w)
    d = run(w, issue_cmd(actor="dave"))
    assert d.status == "refused"
    assert verdicts(d, "armorer-only-handoff") == ["block"]
    assert "Dave Halloran (dave)" in reasons(d, "armorer-only-handoff")


def test_handler_issues_after_show_clear(western_sim: Sim) -> None:
    """armorer-only-handoff: the armorer's issue to a trained performer passes."""
    w = western_sim
    d = ok(w, ready(w))
    assert verdicts(d, "armorer-only-handoff") == []
    assert w.state.holder("colt-1") == "alec"


def test_only_handlers_open_containers_load_unload_collect(western_sim: Sim) -> None:
    """armorer-only-handoff: a producer cannot open the safe; a performer cannot load or
    unload; the 1st AD cannot collect. The handler can do each."""
    w = western_sim
    d = run(w, {"type": "unlock_container", "actor": "maria", "container": "safe-main"})
    assert verdicts(d, "armorer-only-handoff") == ["block"]
    assert w.state.containers["safe-main"].locked
    take_out(w, keep={"dummy-45": 6})
    load = {
        "type": "load",
        "firearm": "colt-1",
        "lot": "dummy-45",
        "positions": [1, 2],
        "scene": "sc-12",
        "shot": 2,
    }
    d = run(w, {**load, "actor": "alec"})
    assert verdicts(d, "armorer-only-handoff") == ["block"]
    d = ok(w, {**load, "actor": "hana"})
    assert verdicts(d, "armorer-only-handoff") == []
    d = run(w, {"type": "unload", "actor": "alec", "firearm": "colt-1"})
    assert verdicts(d, "armorer-only-handoff") == ["block"]
    ok(w, {"type": "unload", "actor": "hana", "firearm": "colt-1"})
    show_clear(w)
    ok(w, issue_cmd())
    d = run(w, {"type": "collect", "actor": "dave", "firearm": "colt-1"})
    assert verdicts(d, "armorer-only-handoff") == ["block"]
    d = ok(w, {"type": "collect", "actor": "hana", "firearm": "colt-1"})
    assert verdicts(d, "armorer-only-handoff") == []


def test_issue_only_to_a_performer(western_sim: Sim) -> None:
    """armorer-only-handoff: the handler cannot issue to the 1st AD as a go-between."""
    w = western_sim
    ready(w, to="dave")
    d = run(w, issue_cmd(to="dave"))
    assert verdicts(d, "armorer-only-handoff") == ["block"]
    assert "not a performer" in reasons(d, "armorer-only-handoff")


def test_handler_passes_to_handler_not_to_ad(western_sim: Sim) -> None:
    """armorer-only-handoff: a transfer from a handler goes only to another handler."""
    w = western_sim
    take_out(w)
    d = run(w, {"type": "transfer", "actor": "hana", "firearm": "colt-1", "to": "dave"})
    assert verdicts(d, "armorer-only-handoff") == ["block"]
    d = ok(w, {"type": "transfer", "actor": "hana", "firearm": "colt-1", "to": "sam"})
    assert verdicts(d, "armorer-only-handoff") == []
    assert w.state.holder("colt-1") == "sam"


# ------------------------------------------------------------------ no-performer-transfer


def test_performer_cannot_pass_the_gun_on(western_sim: Sim) -> None:
    """no-performer-transfer: Alec cannot hand the revolver to Jensen."""
    w = western_sim
    ok(w, ready(w))
    d = run(w, {"type": "transfer", "actor": "alec", "firearm": "colt-1", "to": "jensen"})
    assert d.status == "refused"
    assert verdicts(d, "no-performer-transfer") == ["block"]
    assert verdicts(d, "armorer-only-handoff") == []  # one fault, one rule
    assert w.state.holder("colt-1") == "alec"


def test_performer_gives_it_back_to_the_handler(western_sim: Sim) -> None:
    """no-performer-transfer: handing it back to the armorer passes."""
    w = western_sim
    ok(w, ready(w))
    d = ok(w, {"type": "transfer", "actor": "alec", "firearm": "colt-1", "to": "hana"})
    assert verdicts(d, "no-performer-transfer") == []
    assert w.state.holder("colt-1") == "hana"


# ------------------------------------------------------------------ single-custody


def test_handler_cannot_check_out_holding_firearms(western_sim: Sim) -> None:
    """single-custody: checking out with colt-1 in hand would leave it with nobody on set."""
    w = western_sim
    take_out(w)
    d = run(w, {"type": "check_out", "actor": "hana", "unit": "main"})
    assert verdicts(d, "single-custody") == ["block"]
    assert "colt-1" in reasons(d, "single-custody")
    ok(w, {"type": "unlock_container", "actor": "hana", "container": "cart-main"})
    ok(w, {"type": "lock_container", "actor": "hana", "container": "cart-main"})
    d = ok(w, {"type": "check_out", "actor": "hana", "unit": "main"})
    assert verdicts(d, "single-custody") == []


def test_every_firearm_has_exactly_one_place(western_sim: Sim) -> None:
    """single-custody: through unlock, issue, transfer back and lock-up, each firearm is
    either listed in one locked container or held by one person."""
    w = western_sim
    ok(w, ready(w))
    ok(w, {"type": "transfer", "actor": "alec", "firearm": "colt-1", "to": "hana"})
    ok(w, {"type": "unlock_container", "actor": "sam", "container": "safe-second"})
    s = w.state
    for fid, f in s.firearms.items():
        boxes = [c.id for c in s.containers.values() if fid in c.firearms]
        if f.custody.kind == "container":
            assert boxes == [f.custody.ref] and s.containers[f.custody.ref].locked, fid
        else:
            assert f.custody.kind == "person" and f.custody.ref in s.people and boxes == [], fid


# ------------------------------------------------------------------ show-clear-before-issue


def test_no_issue_without_show_clear(western_sim: Sim) -> None:
    """show-clear-before-issue: a revolver never inspected is not issued."""
    w = western_sim
    take_out(w)
    d = run(w, issue_cmd())
    assert d.status == "refused"
    assert verdicts(d, "show-clear-before-issue") == ["block"]
    assert "not been shown clear" in reasons(d, "show-clear-before-issue")


def test_show_clear_needs_the_performer_and_the_ad(western_sim: Sim) -> None:
    """show-clear-before-issue: the performer and the scene's 1st AD confirm they watched."""
    w = western_sim
    take_out(w)
    show_clear(w, watchers=())
    d = run(w, {**issue_cmd(), "confirmations": []})
    assert verdicts(d, "show-clear-before-issue") == ["block"]
    why = reasons(d, "show-clear-before-issue")
    assert "Alec Barrow (alec)" in why and "1st AD" in why
    show_clear(w, watchers=("alec", "dave"))
    d = ok(w, issue_cmd())
    assert verdicts(d, "show-clear-before-issue") == []


def test_show_clear_must_find_the_barrel_clear(western_sim: Sim) -> None:
    """show-clear-before-issue: an inspection that did not find the barrel clear does not
    count."""
    w = western_sim
    take_out(w)
    show_clear(w, barrel_clear=False)
    d = run(w, issue_cmd())
    assert verdicts(d, "show-clear-before-issue") == ["block"]
    assert "barrel" in reasons(d, "show-clear-before-issue")


def test_show_clear_by_another_handler_does_not_count(western_sim: Sim) -> None:
    """show-clear-before-issue: the issuing handler inspects it themselves."""
    w = western_sim
    ok(w, {"type": "check_in", "actor": "sam", "unit": "main", "set": "church"})
    take_out(w, actor="sam")
    show_clear(w, actor="sam")
    ok(w, {"type": "transfer", "actor": "sam", "firearm": "colt-1", "to": "hana"})
    d = run(w, issue_cmd())
    assert verdicts(d, "show-clear-before-issue") == ["block"]
    assert "Sam Whitaker (sam)" in reasons(d, "show-clear-before-issue")


def test_stale_show_clear_needs_handler_and_ad_override(western_sim: Sim) -> None:
    """show-clear-before-issue: past the window it is refused; an override by the handler
    and the 1st AD passes; one by the safety contact instead of the AD does not."""
    w = western_sim
    cmd = ready(w)
    w.clock.advance(minutes=w.state.settings.inspection_window_min + 1)
    d = run(w, cmd)
    assert verdicts(d, "show-clear-before-issue") == ["block_overridable"]
    assert "window is 5 minutes" in reasons(d, "show-clear-before-issue")
    wrong = {**cmd, "override": {"reason": "camera reset", "confirmers": [pin("lee")]}}
    d = run(w, wrong)
    assert d.status == "refused"
    assert d.entry is not None and d.entry["error"]["kind"] == "override-invalid"
    right = {**cmd, "override": {"reason": "camera reset", "confirmers": [pin("dave")]}}
    d = ok(w, right)
    assert [o.rules for o in w.state.overrides.values()] == [("show-clear-before-issue",)]


def test_inspection_window_comes_from_the_settings() -> None:
    """show-clear-before-issue: a production with a 10-minute window accepts a 6-minute-old
    show-clear."""
    w = western_with(inspection_window_min=10)
    cmd = ready(w)
    w.clock.advance(minutes=6)
    d = ok(w, cmd)
    assert verdicts(d, "show-clear-before-issue") == []


def test_non_firing_replica_needs_no_show_clear(western_sim: Sim) -> None:
    """show-clear-before-issue: a non-firing replica is not inspected like a firearm."""
    w = western_sim
    take_out(w, "replica-1")
    d = run(w, issue_cmd("replica-1"))
    assert verdicts(d, "show-clear-before-issue") == []


# ------------------------------------------------------------------ recheck-after-break


def test_meal_break_voids_the_inspection(western_sim: Sim) -> None:
    """recheck-after-break: a show-clear before lunch does not count after it."""
    w = western_sim
    take_out(w)
    show_clear(w)
    ok(w, {"type": "start_meal_break", "actor": "dave", "unit": "main"})
    ok(w, {"type": "end_meal_break", "actor": "dave", "unit": "main"})
    d = run(w, issue_cmd())
    assert d.status == "refused"
    assert verdicts(d, "recheck-after-break") == ["block"]
    show_clear(w)
    d = ok(w, issue_cmd())
    assert verdicts(d, "recheck-after-break") == []


def test_collected_gun_is_rechecked_before_the_next_issue(western_sim: Sim) -> None:
    """recheck-after-break: after the performer had it, it is inspected again."""
    w = western_sim
    ok(w, ready(w))
    ok(w, {"type": "collect", "actor": "hana", "firearm": "colt-1"})
    d = run(w, issue_cmd())
    assert verdicts(d, "recheck-after-break") == ["block"]


# ------------------------------------------------------------------ collect-after-take


def _fired_take(w: Sim) -> None:
    """colt-2 with Frances for sc-20, two blanks loaded, take 1 fired one (at 10 s ago)."""
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
    ok(
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


def test_fired_take_still_with_the_performer_alerts_at_once(western_sim: Sim) -> None:
    """collect-after-take: once its take has fired, a firearm still with the performer is
    flagged at the next check (seconds later, not 30 minutes), naming the take."""
    w = western_sim
    _fired_take(w)
    d = ok(w, {"type": "check_alerts", "actor": "lee"})
    assert verdicts(d, "collect-after-take") == ["alert"]
    assert "its take has fired (take 1 of scene sc-20" in reasons(d, "collect-after-take")
    (alert,) = [a for a in w.state.open_alerts() if a.rule == "collect-after-take"]
    assert alert.subject == "firearm:colt-2" and alert.roles == ("handler", "first_ad")


def test_fired_take_collected_raises_nothing(western_sim: Sim) -> None:
    """collect-after-take: collected right after its take fired, there is no alert; an
    issued firearm that has not fired is not flagged before the limit."""
    w = western_sim
    _fired_take(w)
    ok(w, {"type": "collect", "actor": "hana", "firearm": "colt-2"})
    d = ok(w, {"type": "check_alerts", "actor": "lee"})
    assert verdicts(d, "collect-after-take") == []
    assert w.state.firearms["colt-2"].fired_at is None


def test_second_take_fired_without_collection_alerts(western_sim: Sim) -> None:
    """collect-after-take: a second take fired while the performer kept the firearm after
    the first raises the alert on that discharge; more rounds in the same take do not."""
    w = western_sim
    _fired_take(w)
    d = ok(
        w,
        {
            "type": "discharge",
            "actor": "frances",
            "firearm": "colt-2",
            "positions": [2],
            "scene": "sc-20",
            "shot": 1,
        },
    )
    assert verdicts(d, "collect-after-take") == []
    ok(
        w,
        {
            "type": "load",
            "actor": "hana",
            "firearm": "colt-2",
            "lot": "blank-45",
            "positions": [3],
            "scene": "sc-20",
            "shot": 1,
        },
    )
    d = ok(w, {"type": "discharge", "actor": "frances", "firearm": "colt-2", "positions": [3]})
    assert verdicts(d, "collect-after-take") == ["alert"]
    assert "fired again with Frances" in reasons(d, "collect-after-take")


def test_gun_left_with_the_actor_alerts(western_sim: Sim) -> None:
    """collect-after-take: past the limit, an alert to the handler and the 1st AD."""
    w = western_sim
    ok(w, ready(w))
    w.clock.advance(minutes=w.state.settings.collect_limit_min + 1)
    d = ok(w, {"type": "check_alerts", "actor": "hana"})
    assert verdicts(d, "collect-after-take") == ["alert"]
    (alert,) = [a for a in w.state.open_alerts() if a.rule == "collect-after-take"]
    assert alert.subject == "firearm:colt-1" and alert.roles == ("handler", "first_ad")
    assert "Alec Barrow (alec)" in alert.reason


def test_gun_collected_in_time_raises_nothing(western_sim: Sim) -> None:
    """collect-after-take: within the limit, or once collected, there is no alert."""
    w = western_sim
    ok(w, ready(w))
    w.clock.advance(minutes=w.state.settings.collect_limit_min - 5)
    d = ok(w, {"type": "check_alerts", "actor": "hana"})
    assert verdicts(d, "collect-after-take") == []
    ok(w, {"type": "collect", "actor": "hana", "firearm": "colt-1"})
    w.clock.advance(minutes=120)
    d = ok(w, {"type": "check_alerts", "actor": "hana"})
    assert verdicts(d, "collect-after-take") == []


def test_collect_limit_comes_from_the_settings() -> None:
    """collect-after-take: a 60-minute production limit is not reached at 31 minutes."""
    w = western_with(collect_limit_min=60)
    ok(w, ready(w))
    w.clock.advance(minutes=31)
    d = ok(w, {"type": "check_alerts", "actor": "hana"})
    assert verdicts(d, "collect-after-take") == []


def test_wrapping_the_scene_with_a_gun_out_alerts(western_sim: Sim) -> None:
    """collect-after-take: wrapping sc-12 while Alec still has colt-1 raises the alert;
    wrapping after the collect does not."""
    w = western_sim
    ok(w, ready(w))
    d = ok(w, {"type": "wrap_scene", "actor": "dave", "scene": "sc-12"})
    assert verdicts(d, "collect-after-take") == ["alert"]
    d = ok(w, {"type": "wrap_scene", "actor": "dave", "scene": "sc-20"})
    assert verdicts(d, "collect-after-take") == []


# ------------------------------------------------------------------ scene-bound


def test_no_issue_without_a_scene(western_sim: Sim) -> None:
    """scene-bound: no scene named (target practice) is refused outright."""
    w = western_sim
    d = run(w, ready(w, scene=None))
    assert verdicts(d, "scene-bound") == ["block"]


def test_issue_for_a_scene_whose_plan_lacks_the_firearm(western_sim: Sim) -> None:
    """scene-bound: colt-1 is not in sc-20's plan; handler + safety contact may override
    (an unscheduled insert), handler + 1st AD may not."""
    w = western_sim
    cmd = ready(w, scene="sc-20")
    d = run(w, cmd)
    assert verdicts(d, "scene-bound") == ["block_overridable"]
    assert "lists colt-2" in reasons(d, "scene-bound")
    bad = {**cmd, "override": {"reason": "insert", "confirmers": [pin("dave")]}}
    d = run(w, bad)
    assert d.status == "refused" and d.entry is not None
    assert d.entry["error"]["kind"] == "override-invalid"
    good = {
        **cmd,
        "override": {"reason": "insert: close-up of the holster", "confirmers": [pin("lee")]},
    }
    d = ok(w, good)
    assert verdicts(d, "scene-bound") == ["block_overridable"]  # recorded, overridden
    assert any(e["type"] == "override_recorded" for e in d.events)


def test_issue_for_tomorrows_scene_is_refused(western_sim: Sim) -> None:
    """scene-bound: a scene scheduled on another shoot day does not count today."""
    w = western_sim
    ok(w, {"type": "add_shoot_day", "actor": "dave", "shoot_day": "day-2", "date": "2025-03-04"})
    ok(
        w,
        {
            "type": "schedule_scene",
            "actor": "dave",
            "scene": "sc-30",
            "shoot_day": "day-2",
            "unit": "main",
            "set": "church",
            "title": "Tomorrow",
            "firearms": [{"firearm": "colt-1"}],
            "shots": [{"number": 1, "muzzle": "clear", "closest_distance_ft": 30}],
            "cast_crew": ["alec", "dave", "hana", "lee"],
        },
    )
    d = run(w, ready(w, scene="sc-30"))
    assert verdicts(d, "scene-bound") == ["block_overridable"]
    assert "day-2 (2025-03-04 00:00 to 2025-03-05 00:00), not the current one" in reasons(
        d, "scene-bound"
    )


def test_issue_for_todays_planned_scene_passes(western_sim: Sim) -> None:
    """scene-bound: colt-1 for sc-12, today, in the plan."""
    w = western_sim
    d = ok(w, ready(w))
    assert verdicts(d, "scene-bound") == []


# ------------------------------------------------------------------ several at once


def test_every_failing_rule_is_reported(western_sim: Sim) -> None:
    """The 1st AD issuing an uninspected revolver with no scene fails three rules at once,
    and all three are in the refusal and in the log entry."""
    w = western_sim
    take_out(w)
    d = run(w, issue_cmd(actor="dave", scene=None))
    assert d.status == "refused"
    want = {"armorer-only-handoff", "show-clear-before-issue", "scene-bound"}
    assert want <= {v.rule for v in d.verdicts}
    assert d.entry is not None and want <= {v["rule"] for v in d.entry["verdicts"]}
    assert w.state.holder("colt-1") == "hana"


def test_one_override_covers_every_overridable_rule(western_sim: Sim) -> None:
    """A stale show-clear for an unplanned firearm needs both overrides' roles: handler,
    1st AD and safety contact; with all three it passes."""
    w = western_sim
    cmd = ready(w, scene="sc-20")
    w.clock.advance(minutes=10)
    partial = {**cmd, "override": {"reason": "insert", "confirmers": [pin("lee")]}}
    assert run(w, partial).status == "refused"
    full = {**cmd, "override": {"reason": "insert", "confirmers": [pin("lee"), pin("dave")]}}
    ok(w, full)
    (o,) = w.state.overrides.values()
    assert o.rules == ("scene-bound", "show-clear-before-issue")


def test_same_instant_collect_and_reissue_needs_a_new_inspection(western_sim: Sim) -> None:
    """recheck-after-break: inspect, issue, collect and re-issue all in the same instant (a
    batch, a replay on a fixed clock): the collect still comes after the inspection in the
    log, so the re-issue without a new inspection is refused."""
    w = western_sim
    take_out(w)
    show_clear(w, watchers=("alec", "dave"))
    w.ok(issue_cmd())  # no clock advance from here on
    w.ok({"type": "collect", "actor": "hana", "firearm": "colt-1"})
    d = w.run(issue_cmd())
    assert d.status == "refused"
    assert verdicts(d, "recheck-after-break") == ["block"]
    f = w.state.firearms["colt-1"]
    assert f.custody_changed_at == w.state.inspections[f.last_inspection or ""].at
    w.ok(
        {
            "type": "inspect",
            "actor": "hana",
            "firearm": "colt-1",
            "chambers": ["empty"] * 6,
            "barrel_clear": True,
            "confirmations": [pin("alec"), pin("dave")],
        }
    )
    d = w.ok(issue_cmd())
    assert verdicts(d, "recheck-after-break") == []


def test_unlock_inspect_issue_in_the_same_instant_passes(western_sim: Sim) -> None:
    """recheck-after-break / show-clear-before-issue: unlock, inspect and issue in the same
    instant, in that order, is a proper show-clear after the custody change."""
    w = western_sim
    meeting(w, "sc-12")
    w.clock.advance(seconds=10)
    w.ok({"type": "unlock_container", "actor": "hana", "container": "safe-main"})
    w.ok(
        {
            "type": "inspect",
            "actor": "hana",
            "firearm": "colt-1",
            "chambers": ["empty"] * 6,
            "barrel_clear": True,
            "confirmations": [pin("alec"), pin("dave")],
        }
    )
    d = w.ok(issue_cmd())
    assert verdicts(d, "recheck-after-break") == []
    assert verdicts(d, "show-clear-before-issue") == []
