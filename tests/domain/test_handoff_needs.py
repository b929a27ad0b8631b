"""The handoff's action model (domain.handoff_needs): what the record expects at each
position, what the page pre-selects, and the actions a handoff takes."""

from __future__ import annotations

from coldset.domain.handoff_needs import (
    checklist_taps,
    expected_positions,
    handoff_actions,
    handoff_needs,
)
from tests.domain.conftest import Sim


def _cmd(actor: str, type_: str, **fields: object) -> dict[str, object]:
    return {"type": type_, "actor": actor, **fields}


def test_expected_positions_follow_the_load_and_discharge_records(western_sim: Sim) -> None:
    """Empty before a load; the lot's kind where rounds were loaded; spent where fired."""
    s = western_sim
    assert expected_positions(s.state, "win-1") == ("empty",) * 11
    s.ok(_cmd("sam", "unlock_container", container="safe-second"))
    s.ok(
        _cmd(
            "sam",
            "load",
            firearm="win-1",
            lot="blank-4440",
            positions=[1, 2],
            scene="sc-14",
            shot=1,
        )
    )
    assert expected_positions(s.state, "win-1") == ("blank", "blank") + ("empty",) * 9
    s.ok(_cmd("hana", "unlock_container", container="safe-main"))
    s.ok(_cmd("hana", "load", firearm="colt-1", lot="dummy-45", positions=[2, 4], scene="sc-12"))
    assert expected_positions(s.state, "colt-1") == (
        "empty",
        "dummy",
        "empty",
        "dummy",
        "empty",
        "empty",
    )
    assert expected_positions(s.state, "rubber-1") == ()


def test_the_only_scene_performer_and_first_ad_are_preselected(western_sim: Sim) -> None:
    """colt-1 is planned only in sc-12 (alec, dave): all three pre-selected; colt-2's
    sc-20 has two performers: the scene and the 1st AD, not the performer, unless the
    firearm was just collected back from one of them."""
    st = western_sim.state
    n = handoff_needs(st, "colt-1")
    assert (n.scene, n.performer, n.first_ad, n.needs_first_ad) == ("sc-12", "alec", "dave", True)
    n2 = handoff_needs(st, "colt-2")
    assert (n2.scene, n2.performer, n2.first_ad) == ("sc-20", None, "dave")
    assert set(n2.performers) == {"frances", "alec"}
    assert handoff_needs(st, "colt-2", "sc-20", "frances").performer == "frances"
    # a hint that no longer fits is not used
    assert handoff_needs(st, "colt-2", "sc-12", "jensen").performer is None
    assert handoff_needs(st, "win-1").first_ads == ()


def test_checklist_taps() -> None:
    """One tap for what the record says or one state everywhere; else one per difference
    on top of the confirmation."""
    exp = ("blank", "blank", "empty")
    assert checklist_taps(exp, exp) == 1
    assert checklist_taps(exp, ("empty",) * 3) == 1
    assert checklist_taps(exp, ("blank", "live", "empty")) == 2
    assert checklist_taps(exp, ("live", "live", "empty")) == 3
    assert checklist_taps((), ()) == 0


def test_handoff_actions_count_only_what_is_not_preselected(western_sim: Sim) -> None:
    """A cold colt-1 to alec in sc-12 with dave: 3 actions, 2 PINs; to jensen instead
    (a badge not pre-selected): 4; the form already open after a collect: 2."""
    n = handoff_needs(western_sim.state, "colt-1")
    cold = ("empty",) * 6
    a = handoff_actions(n, cold, to="alec", scene="sc-12", first_ad="dave")
    assert a.actions == ("scan the firearm's tag", "confirm the positions", "barrel clear")
    assert a.pins == 2
    b = handoff_actions(n, cold, to="jensen", scene="sc-12", first_ad="dave")
    assert b.count == 4 and b.actions[-1] == "scan the performer's badge"
    c = handoff_actions(n, cold, to="alec", scene="sc-12", first_ad="dave", tag_scanned=False)
    assert c.count == 2
    d = handoff_actions(n, cold, to="", scene=None, collect=True)
    assert d.actions[-1] == "collect" and d.pins == 0
