"""Imports: a preview that names every problem by line and column, all or nothing, the
rules applied, and a second import of the same file records nothing new."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest

from coldset import imports
from tests.web.conftest import Web

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
HEAD = "Tag,Make,Model,Serial,Type,Caliber,Capacity,Date received,Source\n"
LINE = "{tag},Colt,SAA,{serial},Single action revolver,.45 Colt,6,2025-03-01,Rentals\n"


def _plan(
    web: Web, kind: str, data: bytes, name: str = "f.csv", actor: str = "hana", **kw: object
) -> imports.Plan:
    custody = web.app.state.coldset.custody
    return imports.plan(
        custody,
        web.state.production.id,
        actor,
        kind,
        name,
        data,
        imports.Defaults(container="safe-main"),
        **kw,
    )  # type: ignore[arg-type]


def _commit(web: Web, p: imports.Plan, **kw: bool) -> list:
    return imports.commit(web.app.state.coldset.custody, p, **kw)


def test_a_good_manifest_is_previewed_then_recorded_once(web: Web) -> None:
    data = (SAMPLES / "manifest-firearms.csv").read_bytes()
    size = web.size()
    p = _plan(web, "firearms", data)
    assert p.ok and [ln.action for ln in p.lines] == ["record"] * 4
    assert web.size() == size  # the preview writes nothing
    results = _commit(web, p)
    assert [r.status for r in results] == ["allowed"] * 4
    assert web.state.firearms["win-7"].serial == "W892-7700"
    again = _plan(web, "firearms", data)
    assert [ln.action for ln in again.lines] == ["already recorded"] * 4
    assert _commit(web, again) == [] and web.size() == size + 4


def test_every_bad_line_is_named_by_line_and_column_and_nothing_is_written(web: Web) -> None:
    data = (
        HEAD
        + LINE.format(tag="ok-1", serial="S1")
        + "bad tag!,Colt,SAA,S2,Single action revolver,.45 Colt,6,2025-03-01,R\n"
        + "ok-3,Colt,SAA,S3,Bazooka,.45 Colt,6,2025-03-01,R\n"
        + "ok-4,Colt,SAA,S4,Single action revolver,.45 Colt,six,2025-03-01,R\n"
        + "ok-5,Colt,SAA,,Single action revolver,.45 Colt,6,2025-03-01,R\n"
        + LINE.format(tag="ok-1", serial="S6")
        + "ok-7,Colt,SAA,S7,Single action revolver,.45 Colt,6,2025-13-01,R\n"
    ).encode()
    size = web.size()
    p = _plan(web, "firearms", data, "manifest.csv")
    where = [pr.where("manifest.csv") for pr in p.problems]
    assert any(w.startswith("manifest.csv: line 3, column A (Tag)") for w in where)
    assert any("line 4, column E (Type)" in w for w in where)
    assert any("line 5, column G (Capacity)" in w for w in where)
    assert any("line 6, column D (Serial)" in w and "required" in w for w in where)
    assert any("line 7" in w and "same receive firearm as line 2" in w for w in where)
    assert any("line 8, column H (Date received)" in w for w in where)
    with pytest.raises(imports.ImportError_, match="nothing was recorded"):
        _commit(web, p)
    assert web.size() == size
    results = _commit(web, p, skip_bad=True)  # the user's choice: the good line only
    assert [r.status for r in results] == ["allowed"] and "ok-1" in web.state.firearms


def test_the_rules_apply_in_the_preview(web: Web) -> None:
    data = (
        b"Lot number,Kind,Caliber,Count,Maker,Date received,Source\n"
        b"live-1,live,.45 Colt,50,Unknown,2025-03-01,brought to set\n"
    )
    p = _plan(web, "lots", data)
    assert not p.ok and "no-live-ammo" in p.problems[0].message
    crew = _plan(
        web, "firearms", (HEAD + LINE.format(tag="x-1", serial="X1")).encode(), actor="alec"
    )  # a performer may not receive firearms
    assert not crew.ok


def test_unknown_columns_are_named_and_stop_the_import(web: Web) -> None:
    data = (
        HEAD.rstrip("\n")
        + ",Colour\n"
        + LINE.rstrip("\n").format(tag="c-1", serial="C1")
        + ",blue\n"
    ).encode()
    p = _plan(web, "firearms", data)
    assert p.unknown_columns == ["J (Colour)"] and not p.ok
    assert "unknown column" in p.problems[0].message
    p2 = _plan(web, "firearms", data, ignore_unknown=True)
    assert p2.ok and [r.status for r in _commit(web, p2)] == ["allowed"]


def test_a_missing_required_column_says_which_names_it_takes(web: Web) -> None:
    p = _plan(web, "firearms", b"Tag,Make,Model\ncolt-9,Colt,SAA\n")
    assert not p.ok and "no column for serial, firearm_type, caliber" in p.problems[0].message


@pytest.mark.parametrize("encoding", ["cp1252", "utf-16", "utf-8-sig"])
def test_other_encodings_and_separators(web: Web, encoding: str) -> None:
    text = (
        "Tag;Make;Model;Serial;Type;Caliber;Capacity;Date received;Source\n"
        "é-1;Société Générale d'Armes;Modèle 1892;SG-1;Double action revolver;8 mm;6;"
        "2025-03-01;Armurerie Lefèvre\n"
    ).replace("é-1", "fr-1")
    p = _plan(web, "firearms", text.encode(encoding))
    assert p.ok, [pr.message for pr in p.problems]
    _commit(web, p)
    assert web.state.firearms["fr-1"].manufacturer == "Société Générale d'Armes"


def test_xlsx_people_and_schedule(web: Web) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    for row in [
        ("Badge", "Name", "Roles"),
        ("ava", "Ava Sterling", "performer"),
        ("carla", "Carla Diaz", "first_ad; crew"),
    ]:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    p = _plan(web, "people", buf.getvalue(), "cast.xlsx", actor="maria")
    assert p.ok, [pr.message for pr in p.problems]
    _commit(web, p)
    assert web.state.people["carla"].name == "Carla Diaz"
    sched = _plan(web, "schedule", (SAMPLES / "schedule.csv").read_bytes(), actor="dave")
    assert [ln.action for ln in sched.lines] == ["record", "already recorded", "record"]
    _commit(web, sched)
    assert web.state.scenes["sc-90"].shoot_day == "day-9"


def test_unreadable_files_are_one_clear_error(web: Web) -> None:
    with pytest.raises(imports.ImportError_, match="empty"):
        _plan(web, "firearms", b"")
    with pytest.raises(imports.ImportError_, match="not a readable XLSX"):
        _plan(web, "firearms", b"PK\x03\x04garbage")
    with pytest.raises(imports.ImportError_, match="no import of 'guns'"):
        _plan(web, "guns", b"a\n")


def test_a_5000_line_manifest(web: Web) -> None:
    body = "".join(LINE.format(tag=f"r-{i}", serial=f"R{i}") for i in range(5000))
    t = time.perf_counter()
    p = _plan(web, "firearms", (HEAD + body).encode())
    results = _commit(web, p)
    took = time.perf_counter() - t
    assert p.ok and len(results) == 5000 and all(r.status == "allowed" for r in results)
    assert len(web.state.firearms) >= 5000
    print(f"5,000-line manifest: previewed and recorded in {took:.1f} s")
