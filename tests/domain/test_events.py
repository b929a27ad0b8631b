"""Events are typed like commands: one model per event type, with a version, and old
entries upcast when read, so the log written today can be read by next year's code."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, ClassVar, Literal

import pytest

from coldset import canonical
from coldset.domain import events as ev
from coldset.domain.events import (
    EVENT_TYPES,
    EVENTS,
    EntryError,
    EventModel,
    entry_bytes,
    parse_entry,
)
from coldset.domain.projection import fold
from coldset.domain.sample import western
from coldset.replay import load
from coldset.replay.engine import _run
from coldset.replay.runners import ServiceRunner

from .conftest import DAY, PINS, Sim

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))
DOMAIN_MD = ROOT / "docs" / "domain.md"


def _replayed_log(path: Path) -> list[bytes]:
    """Every entry's bytes, as the service wrote them, after replaying one scenario."""
    runner = ServiceRunner()
    try:
        sc = load(path)
        _run(sc, runner)
        origin = runner.service.origin(sc.production)
        with runner.install.store.read() as conn:
            return [data for _i, data in runner.install.ledger.entries(conn, origin)]
    finally:
        runner.close()


@pytest.fixture(scope="module")
def shipped_logs() -> dict[str, list[bytes]]:
    """The logs of every shipped replay (scenarios/*.yaml) and of the demo western."""
    logs = {p.stem: _replayed_log(p) for p in SCENARIOS}
    s = Sim()
    for cmd in western(DAY, PINS):
        s.ok(cmd)
    logs["western"] = [canonical.dumps(e) for e in s.entries]
    return logs


def test_every_event_the_decide_code_writes_fits_its_model(
    shipped_logs: dict[str, list[bytes]],
) -> None:
    """Every event in the shipped replays' logs and the western's validates against its
    model, field by field (run on the raw bytes, not through parse_entry)."""
    seen: set[str] = set()
    for name, log in shipped_logs.items():
        for i, data in enumerate(log):
            for e in canonical.loads(data)["events"]:
                model = EVENT_TYPES.get(e["type"])
                assert model is not None, f"{name} #{i}: no model for {e['type']}"
                assert e.get("v", 1) == model.version, f"{name} #{i}: {e['type']}"
                facts = {k: x for k, x in e.items() if k != "v"}
                model.model_validate(facts)  # raises, naming the field, if it does not fit
                seen.add(e["type"])
    # the replays reach the handling events, not only setup
    assert {
        "firearm_inspected",
        "firearm_issued",
        "firearm_loaded",
        "rounds_fired",
        "stop_work_called",
        "alert_raised",
        "production_created",
    } <= seen


def _without_v(env: dict[str, Any]) -> dict[str, Any]:
    return {**env, "events": [{k: x for k, x in e.items() if k != "v"} for e in env["events"]]}


def test_reading_todays_log_changes_no_fact(shipped_logs: dict[str, list[bytes]]) -> None:
    """Every entry written today reads back (checked; upcast: nothing to do) to exactly the
    facts it was written with: an entry of v1 events only is envelope v1 and re-encodes to
    the same bytes; one holding a v2 event (scene_scheduled, shoot_day_added,
    container_unlocked) is envelope v2, and differs only by the events' "v" marks, which
    reading takes off."""
    for log in shipped_logs.values():
        for data in log:
            written = canonical.loads(data)
            read = parse_entry(data)
            if any("v" in e for e in written["events"]):
                assert written["v"] == 2
                assert read == _without_v(written)
            else:
                assert written["v"] == 1
                assert entry_bytes(read) == data


def _doc_table() -> str:
    text = DOMAIN_MD.read_text()
    m = re.search(r"<!-- events:begin -->\n(.*?)<!-- events:end -->", text, re.S)
    assert m, "docs/domain.md has no <!-- events:begin --> ... <!-- events:end --> block"
    return m.group(1)


def test_docs_list_every_event_with_the_facts_of_its_model() -> None:
    """docs/domain.md's event table is the models' field lists, exactly (regenerate it with
    `python -m coldset.cli.docgen --events`)."""
    assert _doc_table() == ev.events_markdown(), (
        "docs/domain.md's event table is out of date: run `python -m coldset.cli.docgen --events`"
    )


def test_a_produced_event_that_does_not_fit_its_model_is_refused() -> None:
    """A decider that writes a fact of the wrong type (or one its model lacks) fails when
    the event is made, before any entry is written."""
    with pytest.raises(EntryError, match="positions"):
        ev.event(
            "firearm_loaded", firearm="colt-1", lot="blank-45", positions="1", place="person:hana"
        )
    with pytest.raises(EntryError, match="colour: Extra inputs"):
        ev.event("unit_added", unit="main", name="Main", colour="red")
    with pytest.raises(EntryError, match="barrel_clear"):
        ev.event("firearm_inspected", inspection="insp-1", firearm="colt-1", by="hana")


# ------------------------------------------------------------------ versions


class FirearmInspectedV2(EventModel):
    """A made-up next version: an inspection also records whether a bore light was used."""

    version: ClassVar[int] = 2
    type: Literal["firearm_inspected"]
    inspection: str
    firearm: str
    by: str
    chambers: list[str] = []
    barrel_clear: bool
    function_check: bool = False
    witnesses: list[str] = []
    bore_light: bool


def _v1_to_v2(e: dict[str, Any]) -> dict[str, Any]:
    return {**e, "bore_light": False}  # v1 inspections did not record it: no light


NEXT_YEAR = EVENTS.evolve([FirearmInspectedV2], {("firearm_inspected", 1): _v1_to_v2})


def _inspected(western_sim: Sim) -> list[bytes]:
    western_sim.ok({"type": "unlock_container", "actor": "hana", "container": "safe-main"})
    western_sim.ok(
        {
            "type": "inspect",
            "actor": "hana",
            "firearm": "colt-1",
            "chambers": ["empty"] * 6,
            "barrel_clear": True,
        }
    )
    return [canonical.dumps(e) for e in western_sim.entries]


def test_an_old_v1_entry_is_upcast_and_folds_with_next_years_code(western_sim: Sim) -> None:
    """With a v2 of firearm_inspected (a new required fact and an upcaster 1 -> 2), today's
    v1 log reads: the inspection gains the fact, and the whole log folds to today's state."""
    log = _inspected(western_sim)
    read = [parse_entry(d, NEXT_YEAR) for d in log]
    inspections = [e for entry in read for e in entry["events"] if e["type"] == "firearm_inspected"]
    assert inspections and all(e["bore_light"] is False for e in inspections)
    for e in inspections:
        FirearmInspectedV2.model_validate(e)
    state = fold(read)
    assert state.firearms["colt-1"].last_inspection == inspections[-1]["inspection"]
    assert state == fold(parse_entry(d) for d in log)


def test_an_entry_newer_than_the_code_is_refused_not_misread(western_sim: Sim) -> None:
    """An entry whose event is at a version this code does not know (v2 of
    firearm_inspected, read by today's code) is refused with a clear error; so is an
    unknown envelope version and an unknown event type. Nothing is folded."""
    entry = canonical.loads(_inspected(western_sim)[-1])
    entry["v"] = 2
    entry["events"][0] = {**entry["events"][0], "v": 2, "bore_light": True}
    future = canonical.dumps(entry)
    with pytest.raises(EntryError, match=r"firearm_inspected event at version 2.*upgrade"):
        parse_entry(future)
    # next year's code reads the same entry as written
    assert parse_entry(future, NEXT_YEAR)["events"][0]["bore_light"] is True
    with pytest.raises(EntryError, match=r"envelope version 3.*upgrade"):
        parse_entry(canonical.dumps({**entry, "v": 3}))
    strange = {**entry, "v": 1, "events": [{"type": "firearm_teleported", "firearm": "x"}]}
    with pytest.raises(EntryError, match="unknown type 'firearm_teleported'"):
        parse_entry(canonical.dumps(strange))
    bad = {**entry, "v": 1, "events": [{**entry["events"][0], "barrel_clear": "yes"}]}
    bad["events"][0].pop("v")
    bad["events"][0].pop("bore_light")
    with pytest.raises(EntryError, match="barrel_clear"):
        parse_entry(canonical.dumps(bad))


def test_a_registry_needs_an_upcaster_for_every_older_version() -> None:
    """A model at version 2 with no upcaster from version 1 cannot be registered."""
    with pytest.raises(ValueError, match="no upcaster from version 1"):
        EVENTS.evolve([FirearmInspectedV2])


def test_a_new_version_is_written_with_its_version() -> None:
    """The rule for writing: an event above version 1 carries "v", and its entry is
    envelope v2; an entry of v1 events only stays envelope v1. Today scene_scheduled
    (structured mitigations), shoot_day_added (call and wrap) and container_unlocked
    (took_all) are at v2 and every other
    event at v1."""
    assert {t for t, m in EVENT_TYPES.items() if m.version > 1} == {
        "scene_scheduled",
        "shoot_day_added",
        "container_unlocked",
    }
    e = {"type": "firearm_inspected", "v": 2}
    env = ev.envelope(
        at="t", production="p", actor="a", command={}, outcome="allowed", verdicts=[], events=[e]
    )
    assert env["v"] == 2
    env = ev.envelope(
        at="t",
        production="p",
        actor="a",
        command={},
        outcome="allowed",
        verdicts=[],
        events=[{"type": "scene_wrapped", "scene": "s"}],
    )
    assert env["v"] == 1


def test_a_v1_scene_with_free_text_mitigations_reads_as_v2() -> None:
    """scene_scheduled v1 held mitigations as free text; read today, each becomes the kind
    its first words name (``other`` when they name none), with the text as its note, and
    the projection folds the old entry to the same plan."""
    v1 = {
        "type": "scene_scheduled",
        "scene": "sc-1",
        "shoot_day": "d1",
        "unit": "main",
        "set": "church",
        "title": "t",
        "mitigations": [
            "cheated angle: 15 degrees off",
            "non-firing replica",
            "everyone behind the camera line",
        ],
    }
    entry = {
        "v": 1,
        "at": "2025-03-03T15:00:00.000Z",
        "production": "p",
        "actor": "a",
        "command": {},
        "outcome": "allowed",
        "verdicts": [],
        "events": [v1],
    }
    read = parse_entry(canonical.dumps(entry))
    assert read["events"][0]["mitigations"] == [
        {"kind": "offset_angle", "note": "cheated angle: 15 degrees off"},
        {"kind": "replica", "note": "non-firing replica"},
        {"kind": "other", "note": "everyone behind the camera line"},
    ]
    # the projection reads the raw v1 event the same way (a log folded without parse_entry)
    from coldset.domain.model import MitigationKind
    from coldset.domain.projection import apply_entry
    from coldset.domain.state import State

    st = apply_entry(State(), entry)
    assert [m.kind for m in st.scenes["sc-1"].plan.mitigations] == [
        MitigationKind.offset_angle,
        MitigationKind.replica,
        MitigationKind.other,
    ]
