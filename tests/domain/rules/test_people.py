"""C. People rules: each one refuses the unsafe step and lets the right one through."""

from __future__ import annotations

from typing import Any

from ..conftest import DAY, Sim
from . import issue_cmd, ok, pin, ready, reasons, run, show_clear, take_out, verdicts


def add_performer(w: Sim, pid: str = "newbie", name: str = "Nell Newbie") -> None:
    """A performer on sc-12's cast, briefed in a safety meeting for it, but not trained."""
    ok(
        w,
        {
            "type": "add_person",
            "actor": "maria",
            "person": pid,
            "name": name,
            "roles": ["performer"],
            "pin": "4321",
        },
    )
    ok(
        w,
        {
            "type": "hold_safety_meeting",
            "actor": "dave",
            "shoot_day": "day-1",
            "scene": "sc-12",
            "attendees": [pid, "hana", "dave"],
        },
    )


def ready_for(w: Sim, pid: str = "newbie", pin_: str = "4321") -> dict[str, Any]:
    """colt-1 out and shown clear to ``pid`` (not in the fixture's PINS); the issue command."""
    take_out(w)
    conf = [{"person": pid, "pin": pin_}]
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
    return {**issue_cmd(to="dave"), "to": pid, "confirmations": conf}


def credential(w: Sim, person: str, kind: str, expires: str, number: str = "X-1") -> None:
    ok(
        w,
        {
            "type": "record_credential",
            "actor": "lee",
            "person": person,
            "kind": kind,
            "number": number,
            "issuer": "ATF",
            "expires": expires,
        },
    )


# ------------------------------------------------------------------ performer-trained


def test_untrained_performer_is_refused_until_training_and_consent(western_sim: Sim) -> None:
    """performer-trained: no training and no consent is refused, naming both; training alone
    is still refused for the missing consent; with both the issue passes."""
    w = western_sim
    add_performer(w)
    cmd = ready_for(w)
    d = run(w, cmd)
    assert d.status == "refused"
    assert verdicts(d, "performer-trained") == ["block"]
    why = reasons(d, "performer-trained")
    assert "Nell Newbie (newbie)" in why and "colt-1" in why
    assert "no training" in why and "no consent" in why
    ok(
        w,
        {
            "type": "record_training",
            "actor": "hana",
            "performer": "newbie",
            "weapon_type": "single_action_revolver",
        },
    )
    d = run(w, cmd)
    assert verdicts(d, "performer-trained") == ["block"]
    assert "no training" not in reasons(d, "performer-trained")
    ok(
        w,
        {
            "type": "record_consent",
            "actor": "newbie",
            "performer": "newbie",
            "weapon_type": "single_action_revolver",
        },
    )
    d = ok(w, cmd)
    assert verdicts(d, "performer-trained") == []
    assert w.state.holder("colt-1") == "newbie"


def test_training_on_another_weapon_type_does_not_count(western_sim: Sim) -> None:
    """performer-trained: lever-action training does not cover a single-action revolver."""
    w = western_sim
    add_performer(w)
    for type_ in ("record_training", "record_consent"):
        actor = "hana" if type_ == "record_training" else "newbie"
        ok(w, {"type": type_, "actor": actor, "performer": "newbie", "weapon_type": "lever_action"})
    d = run(w, ready_for(w))
    assert verdicts(d, "performer-trained") == ["block"]
    assert "single action revolver" in reasons(d, "performer-trained")


def test_trained_performer_receives_the_revolver(western_sim: Sim) -> None:
    """performer-trained: Alec, trained and consenting on the revolver, gets it."""
    w = western_sim
    d = ok(w, ready(w))
    assert verdicts(d, "performer-trained") == []


def _withdraw(actor: str = "alec", **kw: Any) -> dict[str, Any]:
    return {
        "type": "withdraw_consent",
        "actor": actor,
        "performer": "alec",
        "weapon_type": "single_action_revolver",
        **kw,
    }


def test_a_withdrawn_consent_stops_the_next_issue_until_given_again(western_sim: Sim) -> None:
    """performer-trained: Alec withdraws his consent to the revolver (with a reason, which is
    recorded); the next issue to him is refused for the missing consent, not the training;
    once he consents again it goes through."""
    w = western_sim
    d = ok(w, _withdraw(reason="I am not comfortable after the misfire"))
    assert d.events == [
        {
            "type": "consent_withdrawn",
            "performer": "alec",
            "weapon_type": "single_action_revolver",
            "reason": "I am not comfortable after the misfire",
        }
    ]
    assert all(
        x.weapon_type.value != "single_action_revolver" for x in w.state.people["alec"].consents
    )
    d = run(w, ready(w))
    assert d.status == "refused" and verdicts(d, "performer-trained") == ["block"]
    why = reasons(d, "performer-trained")
    assert "no consent" in why and "no training" not in why
    ok(
        w,
        {
            "type": "record_consent",
            "actor": "alec",
            "performer": "alec",
            "weapon_type": "single_action_revolver",
        },
    )
    d = run(w, issue_cmd())
    assert d.status == "allowed", d.error or reasons(d, "performer-trained")


def test_only_the_performer_withdraws_their_consent(western_sim: Sim) -> None:
    """No one withdraws it for them: the armorer alone is rejected (wrong role); with the
    performer's own PIN on the armorer's tablet it is done."""
    w = western_sim
    d = run(w, _withdraw(actor="hana"))
    assert d.status == "rejected" and d.error_kind == "wrong-role"
    assert "only the performer" in (d.error or "")
    ok(w, _withdraw(actor="hana", confirmations=[pin("alec")]))


def test_withdrawing_a_consent_never_given_changes_nothing(western_sim: Sim) -> None:
    w = western_sim
    d = run(w, _withdraw(weapon_type="shotgun"))
    assert d.status == "rejected" and d.error_kind == "stale-state"
    assert "nothing to withdraw" in (d.error or "")


# ------------------------------------------------------------------ handler-credentials


def test_expired_licence_blocks_every_handler_action(western_sim: Sim) -> None:
    """handler-credentials: an expired federal licence on record blocks the armorer's
    unlock; putting firearms away stays open; a renewed licence clears it."""
    w = western_sim
    ok(w, {"type": "unlock_container", "actor": "hana", "container": "safe-main"})
    credential(w, "hana", "federal_firearms_license", "2025-01-31", "FFL-OLD")
    d = run(
        w,
        {
            "type": "inspect",
            "actor": "hana",
            "firearm": "colt-1",
            "chambers": ["empty"] * 6,
            "barrel_clear": True,
        },
    )
    assert d.status == "refused"
    assert verdicts(d, "handler-credentials") == ["block"]
    why = reasons(d, "handler-credentials")
    assert "Hana Reyes (hana)" in why and "FFL-OLD expired on 2025-01-31" in why
    d = ok(w, {"type": "lock_container", "actor": "hana", "container": "safe-main"})
    assert verdicts(d, "handler-credentials") == []
    d = run(w, {"type": "unlock_container", "actor": "hana", "container": "safe-main"})
    assert verdicts(d, "handler-credentials") == ["block"]
    credential(w, "hana", "federal_firearms_license", "2026-01-31", "FFL-NEW")
    d = ok(w, {"type": "unlock_container", "actor": "hana", "container": "safe-main"})
    assert verdicts(d, "handler-credentials") == []


def test_handler_without_a_permit_cannot_check_in(western_sim: Sim) -> None:
    """handler-credentials: a new armorer with only a safety course has no entertainment
    firearms permit; one valid through today lets them check in."""
    w = western_sim
    ok(
        w,
        {
            "type": "add_person",
            "actor": "maria",
            "person": "pat",
            "name": "Pat Quinn",
            "roles": ["assistant_armorer"],
            "pin": "2468",
        },
    )
    credential(w, "pat", "firearms_safety_course", "2026-06-30")
    check_in: dict[str, Any] = {"type": "check_in", "actor": "pat", "unit": "main", "set": "church"}
    d = run(w, check_in)
    assert verdicts(d, "handler-credentials") == ["block"]
    assert "no entertainment firearms permit on record" in reasons(d, "handler-credentials")
    credential(w, "pat", "entertainment_firearms_permit", DAY.isoformat())  # last valid day
    d = ok(w, check_in)
    assert verdicts(d, "handler-credentials") == []


def test_handler_with_current_credentials_works(western_sim: Sim) -> None:
    """handler-credentials: the sample armorer's permit and course are current."""
    w = western_sim
    d = ok(w, {"type": "unlock_container", "actor": "hana", "container": "safe-main"})
    assert verdicts(d, "handler-credentials") == []


# ------------------------------------------------------------------ armorer-dedicated


def test_handler_cannot_move_to_another_unit_with_firearms_out(western_sim: Sim) -> None:
    """armorer-dedicated: with colt-1 in hand Hana cannot move to the second unit; with it
    out with Alec she cannot check out while she is main's only handler."""
    w = western_sim
    take_out(w)
    d = run(w, {"type": "check_in", "actor": "hana", "unit": "second", "set": "corral"})
    assert verdicts(d, "armorer-dedicated") == ["block"]
    assert "colt-1" in reasons(d, "armorer-dedicated")
    show_clear(w)
    ok(w, issue_cmd())
    d = run(w, {"type": "check_out", "actor": "hana", "unit": "main"})
    assert d.status == "refused"
    assert verdicts(d, "armorer-dedicated") == ["block"]
    assert "only handler" in reasons(d, "armorer-dedicated")


def test_handler_leaves_when_another_handler_takes_the_unit(western_sim: Sim) -> None:
    """armorer-dedicated: once Sam (second unit, nothing out) checks in on main, Hana may go."""
    w = western_sim
    ok(w, ready(w))
    d = ok(w, {"type": "check_in", "actor": "sam", "unit": "main", "set": "church"})
    assert verdicts(d, "armorer-dedicated") == []
    d = ok(w, {"type": "check_out", "actor": "hana", "unit": "main"})
    assert verdicts(d, "armorer-dedicated") == []


def test_handler_cannot_open_another_units_safe_while_hers_are_out(western_sim: Sim) -> None:
    """armorer-dedicated: Hana, with colt-1 out on main, cannot open the second unit's safe;
    Sam, the second unit's handler, can."""
    w = western_sim
    take_out(w)
    d = run(w, {"type": "unlock_container", "actor": "hana", "container": "safe-second"})
    assert verdicts(d, "armorer-dedicated") == ["block"]
    assert "safe-second" in reasons(d, "armorer-dedicated")
    d = ok(w, {"type": "unlock_container", "actor": "sam", "container": "safe-second"})
    assert verdicts(d, "armorer-dedicated") == []


def test_unit_without_its_own_handler_cannot_open_its_safe(western_sim: Sim) -> None:
    """armorer-dedicated: with Sam checked out, nobody is the second unit's handler, so its
    safe stays shut, even for Hana; once Sam is back it opens."""
    w = western_sim
    ok(w, {"type": "check_out", "actor": "sam", "unit": "second"})
    d = run(w, {"type": "unlock_container", "actor": "hana", "container": "safe-second"})
    assert verdicts(d, "armorer-dedicated") == ["block"]
    assert "no handler is checked in on second" in reasons(d, "armorer-dedicated")
    ok(w, {"type": "check_in", "actor": "sam", "unit": "second", "set": "corral"})
    d = ok(w, {"type": "unlock_container", "actor": "sam", "container": "safe-second"})
    assert verdicts(d, "armorer-dedicated") == []


# ------------------------------------------------------------------ handler-present


def test_handler_on_another_set_cannot_issue(western_sim: Sim) -> None:
    """handler-present: Hana checked in on the saloon set cannot issue for the church scene;
    checked in on the church she can."""
    w = western_sim
    ok(w, {"type": "add_set", "actor": "maria", "set": "saloon", "unit": "main", "name": "Saloon"})
    cmd = ready(w)
    ok(w, {"type": "check_in", "actor": "hana", "unit": "main", "set": "saloon"})
    d = run(w, cmd)
    assert d.status == "refused"
    assert verdicts(d, "handler-present") == ["block"]
    why = reasons(d, "handler-present")
    assert "checked in on saloon" in why and "church" in why and "sc-12" in why
    ok(w, {"type": "check_in", "actor": "hana", "unit": "main", "set": "church"})
    d = ok(w, cmd)
    assert verdicts(d, "handler-present") == []


def test_nobody_issues_where_no_handler_is_checked_in(western_sim: Sim) -> None:
    """handler-present: with the second unit's handler gone, the 1st AD's attempt to hand
    out the rifle is refused for the missing handler too."""
    w = western_sim
    ok(w, {"type": "check_out", "actor": "sam", "unit": "second"})
    d = run(w, issue_cmd("win-1", "jensen", "sc-14", actor="dave"))
    assert verdicts(d, "handler-present") == ["block"]
    assert "No handler is checked in" in reasons(d, "handler-present")


def test_load_and_collect_with_the_handler_on_set(western_sim: Sim) -> None:
    """handler-present: load and collect by the armorer checked in on the scene's set pass."""
    w = western_sim
    take_out(w, "colt-2", keep={"blank-45": 6})
    show_clear(w, "colt-2", watchers=("frances", "dave"))
    ok(w, issue_cmd("colt-2", "frances", "sc-20"))
    d = ok(
        w,
        {
            "type": "load",
            "actor": "hana",
            "firearm": "colt-2",
            "lot": "blank-45",
            "positions": [1],
            "scene": "sc-20",
            "shot": 1,
        },
    )
    assert verdicts(d, "handler-present") == []
    d = ok(w, {"type": "collect", "actor": "hana", "firearm": "colt-2"})
    assert verdicts(d, "handler-present") == []
