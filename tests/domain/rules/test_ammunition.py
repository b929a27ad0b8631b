"""A. Ammunition rules: each one refuses the unsafe step and lets the right one through."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from coldset.domain.model import Lot, LotCounts, RoundKind

from ..conftest import Sim
from . import issue_cmd, ok, pin, ready, reasons, run, show_clear, take_out, verdicts, western_with


def lot_cmd(lot: str, kind: str, **fields: Any) -> dict[str, Any]:
    return {
        "type": "receive_lot",
        "actor": "hana",
        "lot": lot,
        "kind": kind,
        "caliber": ".45 Colt",
        "maker": "Stembridge",
        "count": 50,
        "receipt_date": "2025-03-01",
        "receipt_source": "Stembridge Gun Rentals",
        "container": "safe-main",
        **fields,
    }


def load_cmd(
    lot: str, firearm: str = "colt-1", positions: tuple[int, ...] = (1, 2), **fields: Any
) -> dict[str, Any]:
    return {
        "type": "load",
        "actor": "hana",
        "firearm": firearm,
        "lot": lot,
        "positions": list(positions),
        "scene": "sc-12",
        "shot": 2,
        **fields,
    }


# ------------------------------------------------------------------ no-live-ammo


def test_live_lot_is_refused_with_its_numbers(western_sim: Sim) -> None:
    """no-live-ammo: receiving 50 live rounds is refused, absolutely, and names the lot."""
    d = run(western_sim, lot_cmd("live-1", "live"))
    assert d.status == "refused" and verdicts(d, "no-live-ammo") == ["block"]
    assert "live-1" in reasons(d, "no-live-ammo") and "50 rounds" in reasons(d, "no-live-ammo")
    override = {
        **lot_cmd("live-1", "live"),
        "override": {"reason": "props", "confirmers": [pin("lee")]},
    }
    assert run(western_sim, override).status == "refused"
    assert "live-1" not in western_sim.state.lots


def test_blank_lot_is_received(western_sim: Sim) -> None:
    """no-live-ammo: a blank lot passes."""
    d = ok(western_sim, lot_cmd("blank-b", "blank", load="full load"))
    assert verdicts(d, "no-live-ammo") == []


def test_section_9155_exemption_allows_live_rounds() -> None:
    """no-live-ammo: a production created with a §9155 exemption may receive and load
    live rounds."""
    w = western_with(exemption="range_training")
    d = ok(w, lot_cmd("live-1", "live"))
    assert verdicts(d, "no-live-ammo") == []
    take_out(w, keep={"live-1": 2})
    d = run(w, load_cmd("live-1"))
    assert verdicts(d, "no-live-ammo") == []


def test_live_lot_in_the_state_cannot_be_loaded(western_sim: Sim) -> None:
    """no-live-ammo: even a live lot that got into the records is never loaded."""
    w = western_sim
    take_out(w)
    live = Lot(
        "live-x",
        RoundKind.live,
        ".45 Colt",
        "Unknown",
        counts=LotCounts(received=6),
        where={"person:hana": 6},
    )
    w.state.lots = w.state.lots.set("live-x", live)
    d = run(w, load_cmd("live-x"))
    assert d.status == "refused" and verdicts(d, "no-live-ammo") == ["block"]


def test_live_round_found_quarantines_every_suspect(western_sim: Sim) -> None:
    """no-live-ammo: a live round found in the dummy lot stops the production and
    quarantines the lot and the revolver loaded from it."""
    w = western_sim
    take_out(w, keep={"dummy-45": 2})
    ok(w, load_cmd("dummy-45"))
    d = ok(
        w,
        {
            "type": "report_live_round",
            "actor": "frances",
            "lot": "dummy-45",
            "description": "a round in the dummy box has a shiny primer",
        },
    )
    assert verdicts(d, "no-live-ammo") == ["stop_work"]
    s = w.state
    assert [sw.scope for sw in s.open_stop_works()] == ["production"]
    assert s.lots["dummy-45"].quarantined and s.firearms["colt-1"].quarantined
    assert not s.firearms["colt-2"].quarantined
    assert "Frances Fisher-Kahn (frances)" in reasons(d, "no-live-ammo")


def test_live_round_seen_at_inspection_stops_work(western_sim: Sim) -> None:
    """no-live-ammo: an inspection that records a live round stops the production."""
    w = western_sim
    take_out(w)
    d = ok(
        w,
        {
            "type": "inspect",
            "actor": "hana",
            "firearm": "colt-1",
            "chambers": ["live"] + ["empty"] * 5,
            "barrel_clear": True,
        },
    )
    assert verdicts(d, "no-live-ammo") == ["stop_work"]
    assert w.state.firearms["colt-1"].quarantined
    assert "position 1" in reasons(d, "no-live-ammo")


def test_clean_inspection_raises_nothing(western_sim: Sim) -> None:
    """no-live-ammo: an inspection of empty chambers is just recorded."""
    w = western_sim
    take_out(w)
    d = show_clear(w)
    assert verdicts(d, "no-live-ammo") == [] and w.state.open_stop_works() == []


def test_quarantined_lot_is_not_loaded_until_released(western_sim: Sim) -> None:
    """no-live-ammo: no round of a quarantined lot is loaded; after release it may be."""
    w = western_sim
    take_out(w, keep={"dummy-45": 2})
    w.state.lots = w.state.lots.set("dummy-45", replace(w.state.lots["dummy-45"], quarantined=True))
    d = run(w, load_cmd("dummy-45"))
    assert verdicts(d, "no-live-ammo") == ["block"]
    assert "quarantined" in reasons(d, "no-live-ammo")
    ok(
        w,
        {
            "type": "release_quarantine",
            "actor": "hana",
            "lot": "dummy-45",
            "note": "checked",
            "confirmations": [pin("lee")],
        },
    )
    d = run(w, load_cmd("dummy-45"))
    assert verdicts(d, "no-live-ammo") == []


def test_firearm_quarantined_for_a_live_round_is_not_loaded(western_sim: Sim) -> None:
    """no-live-ammo: after the stop-work is cleared, the quarantined revolver still takes no
    rounds until it is released."""
    w = western_sim
    take_out(w, keep={"dummy-45": 2})
    d = ok(
        w,
        {
            "type": "report_live_round",
            "actor": "alec",
            "firearm": "colt-1",
            "description": "a live round fell out of colt-1",
        },
    )
    (sw,) = w.state.open_stop_works()
    ok(
        w,
        {
            "type": "clear_stop_work",
            "actor": "hana",
            "stop_work": sw.id,
            "note": "checked",
            "confirmations": [pin("lee")],
        },
    )
    d = run(w, load_cmd("dummy-45"))
    assert verdicts(d, "no-live-ammo") == ["block"]
    assert "colt-1 is quarantined" in reasons(d, "no-live-ammo")
    ok(
        w,
        {
            "type": "release_quarantine",
            "actor": "hana",
            "firearm": "colt-1",
            "note": "checked",
            "confirmations": [pin("lee")],
        },
    )
    ok(
        w,
        {
            "type": "release_quarantine",
            "actor": "hana",
            "lot": "dummy-45",
            "note": "checked",
            "confirmations": [pin("lee")],
        },
    )
    d = ok(w, load_cmd("dummy-45"))
    assert verdicts(d, "no-live-ammo") == []


def test_quarantined_firearm_issue_is_a_refusal_naming_the_rule(western_sim: Sim) -> None:
    """no-live-ammo: issuing the revolver quarantined for a live round, after the stop-work
    was cleared, is REFUSED by no-live-ammo (a safety refusal in the record, naming its
    rule), not rejected as stale state; once released it is issued."""
    w = western_sim
    take_out(w)
    ok(
        w,
        {
            "type": "report_live_round",
            "actor": "alec",
            "firearm": "colt-1",
            "description": "a live round fell out of colt-1",
        },
    )
    (sw,) = w.state.open_stop_works()
    ok(
        w,
        {
            "type": "clear_stop_work",
            "note": "checked and safe",
            "actor": "hana",
            "stop_work": sw.id,
            "confirmations": [pin("lee")],
        },
    )
    show_clear(w)
    d = run(w, issue_cmd())
    assert d.status == "refused", (d.status, d.error_kind, d.error)
    assert verdicts(d, "no-live-ammo") == ["block"]
    assert "colt-1 is quarantined" in reasons(d, "no-live-ammo")
    assert d.entry is not None and d.entry["outcome"] == "refused"
    ok(
        w,
        {
            "type": "release_quarantine",
            "note": "checked and safe",
            "actor": "hana",
            "firearm": "colt-1",
            "confirmations": [pin("lee")],
        },
    )
    show_clear(w)
    d = ok(w, issue_cmd())
    assert verdicts(d, "no-live-ammo") == []


def test_every_quarantine_refuses_by_a_rule() -> None:
    """Whatever rule quarantined a firearm, issuing or loading it is refused by a rule:
    the rule that quarantined it when that rule checks issue and load, else stop-work
    (never a stale-state rejection)."""
    w = western_with()
    take_out(w)
    w.state.firearms = w.state.firearms.set(
        "colt-1",
        replace(w.state.firearms["colt-1"], quarantined=True, quarantine_rule="some-future-rule"),
    )
    show_clear(w)
    d = run(w, issue_cmd())
    assert d.status == "refused" and verdicts(d, "stop-work") == ["block"]
    assert "colt-1 is quarantined" in reasons(d, "stop-work")


# ------------------------------------------------------------------ dummy-verified


def test_home_made_dummies_are_refused(western_sim: Sim) -> None:
    """dummy-verified: dummies made on the production (The Crow) are refused."""
    d = run(western_sim, lot_cmd("dummy-home", "dummy", dummy_source="made_on_production"))
    assert d.status == "refused" and verdicts(d, "dummy-verified") == ["block"]
    assert "pulled bullets" in reasons(d, "dummy-verified")


def test_dummies_of_unknown_origin_are_refused(western_sim: Sim) -> None:
    """dummy-verified: a dummy lot must say it is commercial."""
    d = run(western_sim, lot_cmd("dummy-x", "dummy"))
    assert verdicts(d, "dummy-verified") == ["block"]


def test_commercial_dummies_are_received(western_sim: Sim) -> None:
    """dummy-verified: a commercial dummy lot is received."""
    d = ok(western_sim, lot_cmd("dummy-b", "dummy", dummy_source="commercial"))
    assert verdicts(d, "dummy-verified") == []


def test_unverified_dummies_are_not_loaded(western_sim: Sim) -> None:
    """dummy-verified: a commercial lot is loaded only after a recorded, passed check."""
    w = western_sim
    ok(w, lot_cmd("dummy-b", "dummy", dummy_source="commercial"))
    take_out(w, keep={"dummy-b": 2})
    d = run(w, load_cmd("dummy-b"))
    assert d.status == "refused" and verdicts(d, "dummy-verified") == ["block"]
    assert "no recorded verification" in reasons(d, "dummy-verified")
    ok(
        w,
        {
            "type": "verify_dummy_lot",
            "actor": "hana",
            "lot": "dummy-b",
            "method": "rattle",
            "sample": 50,
            "result": "pass",
        },
    )
    d = ok(w, load_cmd("dummy-b"))
    assert verdicts(d, "dummy-verified") == []


def test_failed_verification_blocks_loading(western_sim: Sim) -> None:
    """dummy-verified: a lot that failed its check is never loaded."""
    w = western_sim
    ok(w, lot_cmd("dummy-b", "dummy", dummy_source="commercial"))
    ok(
        w,
        {
            "type": "verify_dummy_lot",
            "actor": "hana",
            "lot": "dummy-b",
            "method": "side_hole",
            "sample": 10,
            "result": "fail",
        },
    )
    take_out(w, keep={"dummy-b": 2})
    d = run(w, load_cmd("dummy-b"))
    assert verdicts(d, "dummy-verified") == ["block"]
    assert "failed its verification" in reasons(d, "dummy-verified")


def test_five_of_fifty_checked_does_not_verify_the_box(western_sim: Sim) -> None:
    """dummy-verified: shaking 5 rounds of a box of 50 lets at most those 5 be loaded;
    a sixth is refused, naming the count checked. Checking the other 45 (see-through
    bodies) completes the box, and it then loads like any fully checked lot."""
    w = western_sim
    ok(w, lot_cmd("dummy-b", "dummy", dummy_source="commercial"))
    ok(
        w,
        {
            "type": "verify_dummy_lot",
            "actor": "hana",
            "lot": "dummy-b",
            "method": "rattle",
            "sample": 5,
            "result": "pass",
        },
    )
    take_out(w, keep={"dummy-b": 12})
    d = ok(w, load_cmd("dummy-b", positions=(1, 2, 3, 4, 5)))
    assert verdicts(d, "dummy-verified") == []
    d = run(w, load_cmd("dummy-b", positions=(6,)))
    assert d.status == "refused" and verdicts(d, "dummy-verified") == ["block"]
    assert "Only 5 of the 50 rounds" in reasons(d, "dummy-verified")
    ok(
        w,
        {
            "type": "verify_dummy_lot",
            "actor": "hana",
            "lot": "dummy-b",
            "method": "see_through",
            "sample": 45,
            "result": "pass",
        },
    )
    assert w.state.lots["dummy-b"].dummies_checked == 50
    d = ok(w, load_cmd("dummy-b", positions=(6,)))
    assert verdicts(d, "dummy-verified") == []


def test_a_fully_checked_lot_reloads_freely(western_sim: Sim) -> None:
    """dummy-verified: a lot whose every round was checked loads again after an unload
    (its count checked is the whole lot, not used up by loading)."""
    w = western_sim
    take_out(w, keep={"dummy-45": 6})
    for _ in range(10):  # 60 loads of a 50-round lot, all checked
        ok(w, load_cmd("dummy-45", positions=(1, 2, 3, 4, 5, 6)))
        ok(w, {"type": "unload", "actor": "hana", "firearm": "colt-1"})


def test_more_rounds_checked_than_the_lot_holds_is_refused(western_sim: Sim) -> None:
    """verify_dummy_lot: a sample larger than the lot is rejected and nothing is written."""
    w = western_sim
    ok(w, lot_cmd("dummy-b", "dummy", dummy_source="commercial"))
    d = run(
        w,
        {
            "type": "verify_dummy_lot",
            "actor": "hana",
            "lot": "dummy-b",
            "method": "drilled",
            "sample": 51,
            "result": "pass",
        },
    )
    assert d.status == "rejected" and "has 50 rounds" in (d.error or "")
    assert w.state.lots["dummy-b"].verification is None


# ------------------------------------------------------------------ round-accounting


def _short_count(w: Sim, **fields: Any) -> None:
    ok(w, {"type": "reconcile_counts", "actor": "hana", "lot": "blank-45", "counted": 95, **fields})


def test_count_discrepancy_blocks_every_issue(western_sim: Sim) -> None:
    """round-accounting: 5 blanks missing at the count blocks the next issue."""
    w = western_sim
    _short_count(w)
    d = run(w, ready(w))
    assert d.status == "refused"
    assert verdicts(d, "round-accounting") == ["block_overridable"]
    why = reasons(d, "round-accounting")
    assert "blank-45" in why and "counted 95, expected 100 (5 missing)" in why


def test_matching_count_lets_issue_through(western_sim: Sim) -> None:
    """round-accounting: a count that matches blocks nothing."""
    w = western_sim
    ok(w, {"type": "reconcile_counts", "actor": "hana", "lot": "blank-45", "counted": 100})
    d = ok(w, ready(w))
    assert verdicts(d, "round-accounting") == []


def test_resolved_discrepancy_lets_issue_through(western_sim: Sim) -> None:
    """round-accounting: the armorer recounts with an explanation, the safety contact
    confirms, and issuing resumes."""
    w = western_sim
    _short_count(w)
    _short_count(
        w,
        explanation="5 blanks fired in the sc-20 rehearsal, not logged",
        confirmations=[pin("lee")],
    )
    d = ok(w, ready(w))
    assert verdicts(d, "round-accounting") == []


def test_discrepancy_override_needs_armorer_and_safety_contact(western_sim: Sim) -> None:
    """round-accounting: an override by the armorer and the safety contact passes; one by
    the armorer and the 1st AD is refused."""
    w = western_sim
    _short_count(w)
    cmd = ready(w)
    bad = {**cmd, "override": {"reason": "count later", "confirmers": [pin("dave")]}}
    d = run(w, bad)
    assert d.status == "refused" and d.entry is not None
    assert d.entry["error"]["kind"] == "override-invalid"
    assert "armorer" in d.entry["error"]["message"]
    good = {**cmd, "override": {"reason": "count after the take", "confirmers": [pin("lee")]}}
    ok(w, good)
    (o,) = w.state.overrides.values()
    assert o.rules == ("round-accounting",) and o.confirmers == ("lee",)


# ------------------------------------------------------------------ ammo-secured


def test_open_ammo_container_alerts_after_grace(western_sim: Sim) -> None:
    """ammo-secured: the safe left open with the blanks out alerts after 2 minutes."""
    w = western_sim
    ok(w, {"type": "unlock_container", "actor": "hana", "container": "safe-main"})
    w.clock.advance(minutes=w.state.settings.ammo_grace_min + 1)
    d = ok(w, {"type": "check_alerts", "actor": "lee"})
    assert verdicts(d, "ammo-secured") == ["alert"]
    (alert,) = [a for a in w.state.open_alerts() if a.rule == "ammo-secured"]
    assert alert.subject == "container:safe-main"
    assert "100 rounds of lot blank-45" in alert.reason
    d = ok(w, {"type": "check_alerts", "actor": "lee"})  # still open: not raised twice
    assert len([a for a in w.state.open_alerts() if a.rule == "ammo-secured"]) == 1


def test_ammo_locked_back_in_time_raises_nothing(western_sim: Sim) -> None:
    """ammo-secured: within the grace period, and once locked, there is no alert."""
    w = western_sim
    ok(w, {"type": "unlock_container", "actor": "hana", "container": "safe-main"})
    w.clock.advance(minutes=1)
    d = ok(w, {"type": "check_alerts", "actor": "lee"})
    assert verdicts(d, "ammo-secured") == []
    ok(w, {"type": "lock_container", "actor": "hana", "container": "safe-main"})
    w.clock.advance(minutes=30)
    d = ok(w, {"type": "check_alerts", "actor": "lee"})
    assert verdicts(d, "ammo-secured") == []


def test_grace_period_comes_from_the_settings() -> None:
    """ammo-secured: with a 10-minute grace period, 3 minutes open is fine."""
    w = western_with(ammo_grace_min=10)
    ok(w, {"type": "unlock_container", "actor": "hana", "container": "safe-main"})
    w.clock.advance(minutes=3)
    d = ok(w, {"type": "check_alerts", "actor": "lee"})
    assert verdicts(d, "ammo-secured") == []


def test_rounds_kept_in_hand_after_lock_up_alert(western_sim: Sim) -> None:
    """ammo-secured: rounds left in a pocket after the safe is locked are an alert."""
    w = western_sim
    take_out(w, keep={"blank-45": 6})
    d = ok(w, {"type": "check_alerts", "actor": "lee"})
    assert verdicts(d, "ammo-secured") == ["alert"]
    assert "6 rounds of lot blank-45" in reasons(d, "ammo-secured")


def test_no_meal_break_with_ammo_on_the_cart(western_sim: Sim) -> None:
    """ammo-secured: Rust's lunch with rounds on an open cart is refused; locked, it goes."""
    w = western_sim
    ok(w, {"type": "unlock_container", "actor": "hana", "container": "safe-main"})
    d = run(w, {"type": "start_meal_break", "actor": "dave", "unit": "main"})
    assert d.status == "refused" and verdicts(d, "ammo-secured") == ["block"]
    assert "meal break on main" in reasons(d, "ammo-secured")
    ok(w, {"type": "lock_container", "actor": "hana", "container": "safe-main"})
    d = ok(w, {"type": "start_meal_break", "actor": "dave", "unit": "main"})
    assert verdicts(d, "ammo-secured") == []


def test_other_units_ammo_does_not_block_this_units_break(western_sim: Sim) -> None:
    """ammo-secured: the second unit's open safe does not stop the main unit's lunch."""
    w = western_sim
    ok(w, {"type": "unlock_container", "actor": "sam", "container": "safe-second"})
    d = ok(w, {"type": "start_meal_break", "actor": "dave", "unit": "main"})
    assert verdicts(d, "ammo-secured") == []


def test_no_wrap_with_unsecured_ammo(western_sim: Sim) -> None:
    """ammo-secured: the day does not wrap with rounds in someone's hand."""
    w = western_sim
    take_out(w, keep={"blank-45": 6})
    d = run(w, {"type": "wrap_day", "actor": "dave", "shoot_day": "day-1"})
    assert d.status == "refused" and verdicts(d, "ammo-secured") == ["block"]
    ok(w, {"type": "unlock_container", "actor": "hana", "container": "safe-main"})
    ok(w, {"type": "lock_container", "actor": "hana", "container": "safe-main"})
    d = ok(w, {"type": "wrap_day", "actor": "dave", "shoot_day": "day-1"})
    assert verdicts(d, "ammo-secured") == []


def test_ammunition_and_custody_failures_reported_together(western_sim: Sim) -> None:
    """A count discrepancy plus the 1st AD issuing an uninspected gun: every failing rule,
    from both sections, is in the refusal."""
    w = western_sim
    _short_count(w)
    take_out(w)
    d = run(w, issue_cmd(actor="dave"))
    assert d.status == "refused"
    assert {"round-accounting", "armorer-only-handoff", "show-clear-before-issue"} <= {
        v.rule for v in d.verdicts
    }


def test_only_the_armorer_resolves_a_discrepancy(western_sim: Sim) -> None:
    """round-accounting: the assistant armorer may count, but resolving the difference is the
    armorer's (wrong-role, recorded; the discrepancy stays and issue stays blocked)."""
    w = western_sim
    d = ok(w, {"type": "reconcile_counts", "actor": "sam", "lot": "blank-45", "counted": 95})
    assert w.state.lots["blank-45"].discrepancy == -5  # counting is any handler's
    d = run(
        w,
        {
            "type": "reconcile_counts",
            "actor": "sam",
            "lot": "blank-45",
            "counted": 95,
            "explanation": "5 fired in rehearsal",
            "confirmations": [pin("lee")],
        },
    )
    assert d.status == "rejected" and d.error_kind == "wrong-role"
    assert d.entry is not None and "armorer" in (d.error or "")
    lot = w.state.lots["blank-45"]
    assert lot.discrepancy == -5 and lot.counts.adjusted == 0
    assert verdicts(run(w, ready(w)), "round-accounting") == ["block_overridable"]


def test_armorer_cannot_confirm_her_own_resolution(western_sim: Sim) -> None:
    """round-accounting: an armorer who is also the safety contact still needs a second
    person to confirm; with the safety contact's PIN it resolves."""
    w = western_sim
    ok(w, {"type": "grant_role", "actor": "maria", "person": "hana", "role": "safety_contact"})
    _short_count(w)
    d = run(
        w,
        {
            "type": "reconcile_counts",
            "actor": "hana",
            "lot": "blank-45",
            "counted": 95,
            "explanation": "5 fired in rehearsal",
            "confirmations": [pin("hana")],
        },
    )
    assert d.status == "rejected" and d.error_kind == "wrong-role"
    assert w.state.lots["blank-45"].discrepancy == -5
    d = ok(
        w,
        {
            "type": "reconcile_counts",
            "actor": "hana",
            "lot": "blank-45",
            "counted": 95,
            "explanation": "5 fired in rehearsal",
            "confirmations": [pin("lee")],
        },
    )
    (e,) = d.events
    assert e["resolved"] and e["confirmed_by"] == ["lee"] and e["by"] == "hana"
    assert w.state.lots["blank-45"].discrepancy == 0


# ------------------------------------------------------------------ round-accounting at wrap

WRAP = {"type": "wrap_day", "actor": "dave", "shoot_day": "day-1"}


def _handle_dummies(w: Sim) -> None:
    """Load two dummies into colt-1, unload them, and lock everything back in the safe."""
    take_out(w, keep={"dummy-45": 2})
    ok(w, load_cmd("dummy-45"))
    ok(w, {"type": "unload", "actor": "hana", "firearm": "colt-1"})
    ok(w, {"type": "unlock_container", "actor": "hana", "container": "safe-main"})
    ok(w, {"type": "lock_container", "actor": "hana", "container": "safe-main"})


def test_wrap_refused_until_a_moved_lot_is_counted(western_sim: Sim) -> None:
    """round-accounting: dummies were loaded and unloaded today and not counted since, so the
    day does not wrap; a count that agrees lets it wrap."""
    w = western_sim
    _handle_dummies(w)
    lot = w.state.lots["dummy-45"]
    assert lot.unreconciled and lot.moved_at and lot.reconciled_index is not None
    assert not w.state.lots["blank-45"].unreconciled  # received (counted), not moved
    d = run(w, WRAP)
    assert d.status == "refused" and verdicts(d, "round-accounting") == ["block_overridable"]
    why = reasons(d, "round-accounting")
    assert "dummy-45" in why and "blank-45" not in why and "reconcile_counts" in why
    assert w.state.shoot_days["day-1"].wrapped_at is None
    ok(w, {"type": "reconcile_counts", "actor": "hana", "lot": "dummy-45", "counted": 50})
    lot = w.state.lots["dummy-45"]
    assert not lot.unreconciled and lot.reconciled_at == w.state.last_at
    d = ok(w, WRAP)
    assert verdicts(d, "round-accounting") == []


def test_count_before_the_last_movement_does_not_count(western_sim: Sim) -> None:
    """round-accounting: a count in the same instant but before the last load (log order)
    leaves the lot unreconciled."""
    w = western_sim
    take_out(w, keep={"dummy-45": 2})
    w.ok({"type": "reconcile_counts", "actor": "hana", "lot": "dummy-45", "counted": 50})
    w.ok(load_cmd("dummy-45"))  # same instant, later in the log
    ok(w, {"type": "unload", "actor": "hana", "firearm": "colt-1", "container": None})
    w.ok({"type": "reconcile_counts", "actor": "hana", "lot": "dummy-45", "counted": 50})
    assert not w.state.lots["dummy-45"].unreconciled
    w.ok(load_cmd("dummy-45", positions=(3,)))
    assert w.state.lots["dummy-45"].unreconciled


def test_unresolved_difference_blocks_the_wrap(western_sim: Sim) -> None:
    """round-accounting: a count that is off and not resolved also blocks the wrap."""
    w = western_sim
    _short_count(w)
    d = run(w, WRAP)
    assert verdicts(d, "round-accounting") == ["block_overridable"]
    assert "not resolved" in reasons(d, "round-accounting")


def test_wrap_override_needs_armorer_and_safety_contact(western_sim: Sim) -> None:
    """round-accounting: the wrap passes with an override by the armorer and the safety
    contact; the armorer and the 1st AD are not enough."""
    w = western_sim
    _handle_dummies(w)
    bad = {
        **WRAP,
        "override": {"reason": "count first thing tomorrow", "confirmers": [pin("hana")]},
    }
    d = run(w, bad)
    assert d.status == "refused" and d.entry is not None
    assert d.entry["error"]["kind"] == "override-invalid"
    good = {
        **WRAP,
        "actor": "hana",
        "override": {"reason": "count first thing tomorrow", "confirmers": [pin("lee")]},
    }
    ok(w, good)
    (o,) = w.state.overrides.values()
    assert o.rules == ("round-accounting",) and o.command == "wrap_day"


def test_wrap_of_a_day_without_movements_passes(western_sim: Sim) -> None:
    """round-accounting: lots only received (a receipt is a count) do not hold up the wrap."""
    d = ok(western_sim, WRAP)
    assert verdicts(d, "round-accounting") == []
