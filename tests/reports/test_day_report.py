"""Day reports and firearm histories are made from the log and say what the log says.

Each test replays a shipped scenario, builds the report, and checks its figures against
the log's own entries (not against the report code's idea of them): every handoff, every
round count, every refusal and override, and the checkpoint it names.
"""

from __future__ import annotations

import io
from collections import Counter

import pytest
import zxingcpp
from PIL import Image
from pypdf import PdfReader

from coldset import reports
from coldset.ledger.checkpoint import open_checkpoint
from coldset.reports import pdf, tables
from coldset.reports.facts import ReportError
from tests.reports.conftest import Replayed, page_images

HANDOFF_TYPES = {"issue", "collect", "transfer", "inspect", "load", "unload", "discharge"}


def _text(data: bytes) -> str:
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)


def _day_entries(rep: Replayed, shoot_day: str) -> list[tuple[int, dict]]:
    """The log's entries on that shoot day's date, by the production's zone (the test's
    own reading of the log, independent of the report's)."""
    from datetime import date
    from zoneinfo import ZoneInfo

    from coldset.clock import parse_rfc3339

    state = rep.runner.service.state(rep.production)
    day = date.fromisoformat(state.shoot_days[shoot_day].date)
    zone = ZoneInfo(state.production.time_zone)
    return [
        (i, e) for i, e in rep.entries() if parse_rfc3339(e["at"]).astimezone(zone).date() == day
    ]


def test_every_handoff_of_the_day_is_in_the_custody_chain(clean_day: Replayed) -> None:
    r = reports.day(clean_day.records, clean_day.origin, "d1")
    in_report = Counter(row.index for rows in r.custody.values() for row in rows)
    expected = [
        i
        for i, e in _day_entries(clean_day, "d1")
        if e["command"]["type"] in HANDOFF_TYPES and e["outcome"] == "allowed"
    ]
    assert len(expected) > 100  # the clean day is busy: this is not an empty check
    missing = [i for i in expected if i not in in_report]
    assert missing == []


def test_rounds_per_lot_match_the_log(clean_day: Replayed) -> None:
    """Loaded and fired per lot on the day = the sums of the log's own events."""
    r = reports.day(clean_day.records, clean_day.origin, "d1")
    loaded: Counter[str] = Counter()
    fired: Counter[str] = Counter()
    for _i, e in _day_entries(clean_day, "d1"):
        for ev in e["events"]:
            if ev["type"] == "firearm_loaded":
                loaded[ev["lot"]] += len(ev["positions"])
            elif ev["type"] == "rounds_fired":
                fired.update(ev["rounds"])
    lines = {ln.lot: ln for ln in r.lots}
    assert sum(fired.values()) > 0
    for lot in set(loaded) | set(fired):
        assert (lines[lot].loaded, lines[lot].fired) == (loaded[lot], fired[lot]), lot
    state = clean_day.runner.service.state(clean_day.production)
    for lot, line in lines.items():
        assert line.end_stock == state.lots[lot].counts.expected_stock
        assert line.discrepancy == 0


def test_every_refusal_and_override_appears(rust: Replayed) -> None:
    r = reports.day(rust.records, rust.origin, "d21")
    refused = [i for i, e in _day_entries(rust, "d21") if e["outcome"] != "allowed"]
    overrides = [
        i
        for i, e in _day_entries(rust, "d21")
        if any(ev["type"] == "override_recorded" for ev in e["events"])
    ]
    assert len(refused) >= 10
    assert [row.index for row in r.refusals] == refused
    assert [row.index for row in r.overrides] == overrides
    text = _text(pdf.day_pdf(r))
    for _i, e in _day_entries(rust, "d21"):
        for v in e["verdicts"]:
            if v["verdict"] != "pass":
                assert v["rule"] in text


def test_a_count_that_comes_up_short_is_shown(short_count: Replayed, clean_day: Replayed) -> None:
    short = reports.day(short_count.records, short_count.origin, "d1")
    line = next(ln for ln in short.lots if ln.lot == "blank-45")
    assert line.discrepancy == -2
    assert any("DIFFERENCE -2" in c for c in line.counts)
    assert any("blank-45" in item and "-2" in item for item in short.open_items)
    text = _text(pdf.day_pdf(short))
    assert "DIFFERENCE -2" in text
    clean = reports.day(clean_day.records, clean_day.origin, "d1")
    assert "DIFFERENCE" not in _text(pdf.day_pdf(clean))


def test_the_pdf_names_its_checkpoint_and_its_qr_code_is_that_signed_checkpoint(
    clean_day: Replayed,
) -> None:
    r = reports.day(clean_day.records, clean_day.origin, "d1")
    data = pdf.day_pdf(r)
    text = _text(data)
    assert clean_day.origin in text and r.source.root_b64 in text.replace("\n", "")
    n = len(PdfReader(io.BytesIO(data)).pages)
    assert n > 1 and f"page 1 of {n}" in text and f"page {n} of {n}" in text
    assert "Hana Reyes" in text and "Signatures" in text
    pages = page_images(data, "day-report-clean-d1")
    found = [b.text for b in zxingcpp.read_barcodes(Image.open(pages[0]))]
    assert found == [r.source.checkpoint]
    cp = open_checkpoint(found[0], clean_day.runner.install.verifier, clean_day.origin)
    assert cp.size == r.source.size


def test_firearm_history_lists_every_entry_of_that_firearm(clean_day: Replayed) -> None:
    from coldset.domain.projection import apply_entry
    from coldset.domain.state import State
    from coldset.service.timeline import firearms_touched

    h = reports.firearm(clean_day.records, clean_day.origin, "colt-1")
    state, expected = State(), []
    for i, e in clean_day.entries():
        if "colt-1" in firearms_touched(state, e):
            expected.append(i)
        state = apply_entry(state, e)
    assert [row.index for row in h.rows] == expected
    data = pdf.history_pdf(h)
    pages = page_images(data, "firearm-history-colt-1")
    assert [b.text for b in zxingcpp.read_barcodes(Image.open(pages[0]))] == [h.source.checkpoint]
    csv_text = tables.history_csv(h)
    assert csv_text.count("\r\n") == len(expected) + 1


def test_inspection_findings_are_spelled_out_position_by_position(rust: Replayed) -> None:
    h = reports.firearm(rust.records, rust.origin, "colt")
    inspected = [row for row in h.rows if row.action == "inspected"]
    assert inspected and all("barrel" in row.detail for row in inspected)
    assert any("1: dummy" in row.detail for row in inspected)


def test_unknown_day_unit_or_firearm_is_a_clear_error(clean_day: Replayed) -> None:
    with pytest.raises(ReportError, match="no shoot day 'd9'.*d1"):
        reports.day(clean_day.records, clean_day.origin, "d9")
    with pytest.raises(ReportError, match="no unit 'nope'"):
        reports.day(clean_day.records, clean_day.origin, "d1", "nope")
    with pytest.raises(ReportError, match="no firearm 'ghost'"):
        reports.firearm(clean_day.records, clean_day.origin, "ghost")


def test_a_unit_report_keeps_only_that_unit(clean_day: Replayed) -> None:
    whole = reports.day(clean_day.records, clean_day.origin, "d1")
    second = reports.day(clean_day.records, clean_day.origin, "d1", "second")
    assert second.unit == "Second unit"
    assert any(label.startswith("win-1") for label in second.custody)
    assert not any(label.startswith("colt-1") for label in second.custody)
    assert second.entries < whole.entries


def test_csv_tables(clean_day: Replayed) -> None:
    r = reports.day(clean_day.records, clean_day.origin, "d1")
    for table in tables.DAY_TABLES:
        text = tables.day_csv(r, table)
        assert text.splitlines()[0]
    assert tables.day_csv(r, "lots").splitlines()[0].startswith("lot,kind,caliber")
    with pytest.raises(ValueError, match="no table 'x'"):
        tables.day_csv(r, "x")


def test_incident_report_shows_the_steps_around_it_and_what_the_rules_said(rust: Replayed) -> None:
    state = rust.runner.service.state(rust.production)
    inc = next(iter(sorted(state.incidents)))
    r = reports.incident(rust.records, rust.origin, inc, around=5)
    indexes = [row.index for row in r.rows]
    assert r.at_index in indexes and indexes == sorted(indexes)
    assert 1 <= indexes.index(r.at_index) <= 5 and len(indexes) - indexes.index(r.at_index) > 1
    assert all(row.rules for row in r.rows)  # each says what the rules said
    text = _text(pdf.incident_pdf(r))
    assert inc in text and "misfire" in text
    with pytest.raises(ReportError, match="no incident 'inc-0'"):
        reports.incident(rust.records, rust.origin, "inc-0")


def test_bound_book_lists_real_firearms_with_the_regulation_fields(
    clean_day: Replayed, rust: Replayed
) -> None:
    from coldset.reports.facts import BOUND_BOOK_COLUMNS

    for rep in (clean_day, rust):
        lines = reports.book(rep.records, rep.origin)
        state = rep.runner.service.state(rep.production)
        real = {
            f.id
            for f in state.firearms.values()
            if f.type not in ("non_firing_replica", "rubber_resin")
        }
        assert {line[-1] for line in lines} == real
        for line in lines:
            f = state.firearms[line[-1]]
            assert line[:3] == (f.receipt_date, f.receipt_source, f.manufacturer)
            assert line[5] == f.serial
    csv_text = tables.bound_book_csv(reports.book(rust.records, rust.origin))
    assert csv_text.splitlines()[0] == ",".join(BOUND_BOOK_COLUMNS)
    assert "replica" not in csv_text.split("\r\n", 1)[1].lower().split(",")[6:7]


@pytest.mark.parametrize("sheet", ["letter-30", "a4-21", "letter-round-12"])
def test_every_label_on_every_sheet_decodes_to_its_tag(clean_day: Replayed, sheet: str) -> None:
    from coldset.reports import labels

    state = clean_day.runner.service.state(clean_day.production)
    items = [it for kind in labels.KINDS for it in labels.items(state, kind)]
    assert len(items) == 18
    # more than a sheet, and names far too long for a label (cut, never over the edge)
    items += [(f"extra-{n:02d}", "W" * 120, "serial " + "9" * 80) for n in range(20)]
    data = labels.sheet_pdf(items, sheet)
    pages = page_images(data, f"labels-{sheet}", dpi=200)
    per_page = labels.SHEETS[sheet].columns * labels.SHEETS[sheet].rows
    assert len(pages) == -(-len(items) // per_page)
    found: list[str] = []
    for page in pages:
        found += [b.text for b in zxingcpp.read_barcodes(Image.open(page))]
    assert sorted(found) == sorted(tag for tag, _n, _s in items)
