"""The pure decision pipeline: references, roles, credentials, rules, state, events."""

from __future__ import annotations

import pytest

from coldset.domain.commands import CommandError, parse_command, public_dict
from coldset.domain.projection import fold

from .conftest import PINS, Sim


def test_sample_western_sets_up_without_refusals(western_sim: Sim) -> None:
    """The whole sample production is accepted and folded into the state."""
    s = western_sim.state
    assert len(s.firearms) == 6 and len(s.lots) == 3 and len(s.people) == 8
    assert s.firearms["colt-1"].custody.kind == "container"
    assert s.containers["safe-main"].locked
    assert s.lots["blank-45"].where == {"container:safe-main": 100}


def test_fold_of_entries_equals_incremental_state(western_sim: Sim) -> None:
    """Rebuilding from the entries gives exactly the incremental state."""
    assert fold(western_sim.entries) == western_sim.state


def test_unknown_ids_are_named_and_nothing_is_recorded(western_sim: Sim) -> None:
    """An unknown firearm and performer are both named; no entry is produced."""
    d = western_sim.run({"type": "issue", "actor": "hana", "firearm": "nope", "to": "ghost"})
    assert d.status == "rejected" and d.entry is None and d.error_kind == "unknown-id"
    assert "nope" in (d.error or "") and "ghost" in (d.error or "")


def test_wrong_role_is_recorded_as_rejected(western_sim: Sim) -> None:
    """A performer cannot add a unit; the attempt is kept in the log as rejected."""
    d = western_sim.run({"type": "add_unit", "actor": "alec", "unit": "third", "name": "x"})
    assert d.status == "rejected" and d.error_kind == "wrong-role"
    assert d.entry is not None and d.entry["outcome"] == "rejected"


def test_duplicate_creation_is_rejected(western_sim: Sim) -> None:
    """Receiving a firearm id twice is a duplicate, not a second firearm."""
    d = western_sim.run({"type": "add_unit", "actor": "maria", "unit": "main", "name": "x"})
    assert d.error_kind == "duplicate"


def test_stale_state_container_already_open(western_sim: Sim) -> None:
    """Opening an open container is refused as stale state."""
    western_sim.ok({"type": "unlock_container", "actor": "hana", "container": "safe-main"})
    d = western_sim.run({"type": "unlock_container", "actor": "hana", "container": "safe-main"})
    assert d.error_kind == "stale-state" and "already open" in (d.error or "")


def test_unlock_moves_contents_to_the_opener(western_sim: Sim) -> None:
    """single-custody: opening a container puts its firearms and rounds in the opener's hands."""
    western_sim.ok({"type": "unlock_container", "actor": "hana", "container": "safe-main"})
    s = western_sim.state
    assert s.holder("colt-1") == "hana"
    assert s.rounds_held("hana")["blank-45"] == 100
    western_sim.ok({"type": "lock_container", "actor": "hana", "container": "safe-main"})
    s = western_sim.state  # a new snapshot: the one read before is unchanged
    assert s.firearms["colt-1"].custody.kind == "container"
    assert s.rounds_held("hana") == {}


def test_wrong_pin_is_recorded_and_five_lock(western_sim: Sim) -> None:
    """A wrong PIN is refused and recorded; the fifth in 15 minutes locks the PIN."""
    cmd = {
        "type": "record_consent",
        "actor": "hana",
        "performer": "alec",
        "weapon_type": "shotgun",
        "confirmations": [{"person": "alec", "pin": "9999"}],
    }
    for i in range(5):
        d = western_sim.run(cmd, pins={"alec": "wrong"})
        assert d.entry is not None and d.entry["outcome"] == "rejected-credential"
        assert d.entry["events"][0]["locks"] is (i == 4)
    assert western_sim.state.pin_is_locked("alec")


def test_live_lot_is_refused_by_no_live_ammo(western_sim: Sim) -> None:
    """no-live-ammo: a live lot is refused with the rule id, reason and source."""
    d = western_sim.run(
        {
            "type": "receive_lot",
            "actor": "hana",
            "lot": "live-1",
            "kind": "live",
            "caliber": ".45 Colt",
            "maker": "X",
            "count": 50,
            "receipt_date": "2025-03-01",
            "receipt_source": "X",
            "container": "safe-main",
        }
    )
    assert d.status == "refused"
    assert [v.rule for v in d.verdicts] == ["no-live-ammo"]
    assert d.entry is not None and d.entry["events"] == []
    assert "live-1" not in western_sim.state.lots


def test_live_round_found_stops_the_production(western_sim: Sim) -> None:
    """no-live-ammo: a live round found stops work everywhere and quarantines suspects."""
    d = western_sim.ok(
        {
            "type": "report_live_round",
            "actor": "alec",
            "lot": "dummy-45",
            "description": "a round in the dummy box has a primer",
        }
    )
    s = western_sim.state
    assert [sw.scope for sw in s.open_stop_works()] == ["production"]
    assert s.lots["dummy-45"].quarantined
    assert any(e["type"] == "incident_reported" for e in d.events)


def test_pins_never_reach_an_entry() -> None:
    """public_dict drops every PIN, including confirmations and override confirmers."""
    cmd = parse_command(
        {
            "type": "issue",
            "production": "p",
            "actor": "a",
            "firearm": "f",
            "to": "b",
            "confirmations": [{"person": "b", "pin": "1234"}],
            "override": {"reason": "r", "confirmers": [{"person": "c", "pin": "5678"}]},
        }
    )
    text = str(public_dict(cmd))
    assert "1234" not in text and "5678" not in text and "pin" not in text


def test_malformed_command_lists_every_wrong_field() -> None:
    """parse_command reports one line per wrong field, with what to fix."""
    with pytest.raises(CommandError) as e:
        parse_command(
            {
                "type": "load",
                "production": "p",
                "actor": "bad id",
                "firearm": "f",
                "positions": [0],
                "colour": "red",
            }
        )
    lines = e.value.lines()
    assert any(line.startswith("actor:") for line in lines)
    assert any(line.startswith("lot: required") for line in lines)
    assert any(line.startswith("colour: unknown field") for line in lines)
    assert any(line.startswith("positions.0") for line in lines)


def test_unknown_command_type_lists_the_known_ones() -> None:
    """An unknown type names the valid ones."""
    with pytest.raises(CommandError, match="one of: .*issue"):
        parse_command({"type": "plink"})


def test_full_handoff_cycle_counts_every_round(western_sim: Sim) -> None:
    """inspect, issue, load, discharge, collect, unload: every round is counted."""
    w = western_sim
    w.ok({"type": "unlock_container", "actor": "hana", "container": "safe-main"})
    w.ok(
        {
            "type": "inspect",
            "actor": "hana",
            "firearm": "colt-2",
            "chambers": ["empty"] * 6,
            "barrel_clear": True,
            "confirmations": [
                {"person": "frances", "pin": PINS["frances"]},
                {"person": "dave", "pin": PINS["dave"]},
            ],
        }
    )
    w.ok(
        {
            "type": "issue",
            "actor": "hana",
            "firearm": "colt-2",
            "to": "frances",
            "scene": "sc-20",
            "confirmations": [{"person": "frances", "pin": PINS["frances"]}],
        }
    )
    w.ok(
        {
            "type": "load",
            "actor": "hana",
            "firearm": "colt-2",
            "lot": "blank-45",
            "positions": [1, 2, 3],
            "scene": "sc-20",
            "shot": 1,
        }
    )
    w.ok({"type": "discharge", "actor": "hana", "firearm": "colt-2", "positions": [1, 2]})
    w.ok({"type": "collect", "actor": "hana", "firearm": "colt-2"})
    w.ok({"type": "unload", "actor": "hana", "firearm": "colt-2"})
    c = w.state.lots["blank-45"].counts
    assert (c.loaded, c.fired, c.returned, c.cases_recovered) == (3, 2, 1, 2)
    assert c.expected_stock == 98
    assert w.state.lots["blank-45"].where == {"person:hana": 98}
    assert fold(w.entries) == w.state
