"""The clean shoot day: busy, done right, never blocked; its tablet cost per handoff."""

from __future__ import annotations

import pytest

from coldset.replay import Replay, load, replay
from coldset.replay.report import summary
from tests.replay.conftest import SCENARIOS


@pytest.fixture(scope="module")
def day() -> Replay:
    return replay(load(SCENARIOS / "clean-shoot-day.yaml"))


def test_zero_refusals_one_answered_concern_alert(day: Replay) -> None:
    """Every step is allowed. The only alert all day is the safety contact's, raised the
    moment the grip's concern is raised (concern-answered) and resolved when it is
    answered twenty minutes later; no other rule alerts."""
    s = summary(day)
    assert s["ok"] and s["refused"] == 0 and s["rejected"] == 0
    assert s["alerts"] == 1
    alerting = [r for r in day.results if any(v["verdict"] == "alert" for v in r.outcome.verdicts)]
    assert [r.step.type for r in alerting] == ["raise_concern"]
    answer = next(r for r in day.results if r.step.type == "acknowledge_concern")
    assert "alert_resolved" in [e["type"] for e in answer.outcome.events]


def test_busy_enough(day: Replay) -> None:
    """At least 60 handoffs, two units, three scenes, blanks and dummies, a misfire, a meal."""
    cmds = [r.command for r in day.results]
    assert summary(day)["interactions"]["handoffs"] >= 60
    assert {c["scene"] for c in cmds if c["type"] == "issue"} == {"sc-12", "sc-14", "sc-20"}
    assert {c["unit"] for c in cmds if c["type"] == "start_meal_break"} == {"main", "second"}
    assert any(c["type"] == "report_incident" and c["kind"] == "misfire" for c in cmds)
    assert {c["lot"] for c in cmds if c["type"] == "load"} >= {"blank-45", "dummy-45", "blank-4440"}


def test_misfire_handled_by_the_book(day: Replay) -> None:
    """The misfire stops the second unit, and it is cleared after a barrel and function check."""
    second = [r for r in day.results if r.step.by == "sam"]
    types = [r.step.type for r in second]
    i = types.index("report_incident")
    assert second[i].outcome.raised == ("misfire-quarantine",)
    after = types[i:]
    assert (
        after.index("inspect")
        < after.index("release_quarantine")
        < after.index("clear_stop_work")
        < after.index("issue")
    )


def test_wrap_reconciles_every_lot(day: Replay) -> None:
    """Every lot is counted at wrap and each count matches the books."""
    recs = [
        e
        for r in day.results
        if r.step.type == "reconcile_counts"
        for e in r.outcome.events
        if e["type"] == "counts_reconciled"
    ]
    assert {e["lot"] for e in recs} == {"blank-45", "dummy-45", "blank-4440"}
    assert all(e["counted"] == e["expected"] for e in recs)


def test_interactions_per_handoff_within_target(day: Replay) -> None:
    """Counted on the handoff page's own action model (domain.handoff_needs, which the
    browser test checks against the page): a take after the firearm was collected back
    (same scene, same performer, pre-selected) is 2 taps (the positions as recorded,
    the barrel) and 2 PINs; the mean is within 3; the first handoff of a firearm in a
    scene with two performers or two open scenes needs more, and the report says so."""
    i = summary(day)["interactions"]
    assert 0 < i["scans_taps_per_handoff"] <= 3
    assert i["max_scans_taps_per_handoff"] == 5 and not i["within_target"]
    assert i["pins_per_issue"] == 2  # the performer and the 1st AD
    assert i["checklist_per_inspection"] > 0
    assert i["all_interactions_per_handoff"] > i["scans_taps_per_handoff"]
    sc12 = [
        r.interactions
        for r in day.results
        if r.step.type == "issue" and r.command["scene"] == "sc-12"
    ]
    # the first of the day: the tag, both scenes open, so the scene and the badge too
    assert sc12[0].scans_taps == 5
    # every later take: collected back from Alec, the form opens on the next take
    assert len(sc12) >= 5 and all(x.scans_taps == 2 and x.pins == 2 for x in sc12[1:])
    inspections = [
        r.interactions
        for r in day.results
        if r.step.type == "inspect" and r.command["firearm"] == "colt-1"
    ]
    assert all(x.scans_taps == 0 and x.checklist == 7 for x in inspections)
