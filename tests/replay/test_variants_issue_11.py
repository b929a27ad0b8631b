"""scenarios/variants-issue-11.yaml: the variants of issue 11 points 1-6, each refused by
the rule the catalogue names (the file itself runs in test_scenarios, both ways)."""

from __future__ import annotations

from coldset.replay import load, replay
from coldset.replay.report import summary
from tests.replay.conftest import SCENARIOS


def test_every_variant_is_stopped_by_its_rule() -> None:
    """Each failure chain of the file is stopped (or raised) by the catalogue's rule, no
    fatal attempt is allowed, and every step goes as the file expects."""
    s = summary(replay(load(SCENARIOS / "variants-issue-11.yaml")))
    assert s["mismatches"] == []
    chain = {
        label: {r for t in tries for r in t["rules"] + t["raised"]}
        for label, tries in s["failure_chain"].items()
    }
    assert chain == {
        "a meeting that is not that day's": {"safety-meeting"},
        "other duties on the same unit": {"armorer-dedicated"},
        "who may receive a firearm": {
            "handler-credentials",
            "no-performer-transfer",
            "armorer-only-handoff",
        },
        "one person signing twice": {"muzzle-plan"},
        "a mitigation that does not match the firearm": {"muzzle-plan"},
        "a discharge outside a take": {"unplanned-discharge"},
        "an injury involving a firearm": {"unplanned-discharge"},
    }
    assert s["fatal_handoff"]["attempts"] >= 3 and not s["fatal_handoff"]["reached"]
