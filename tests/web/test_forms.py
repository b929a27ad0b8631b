"""Every page form through ``/p/{production}/do/{command}``: it works, and bad input
(missing or malformed fields, unknown ids, wrong role, no CSRF token, a replayed key)
is refused with the right status and changes nothing."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.web.conftest import P, Web, csrf_of, text_of

# (command, actor, good fields, a required field, a reference field, someone without the role)
FORMS: list[tuple[str, str, dict[str, Any], str, str | None, str | None]] = [
    (
        "add_person",
        "maria",
        {"person": "newbie", "name": "New Person", "roles": "crew"},
        "name",
        None,
        "alec",
    ),
    ("grant_role", "maria", {"person": "alec", "role": "viewer"}, "role", "person", "alec"),
    (
        "record_credential",
        "lee",
        {
            "person": "hana",
            "kind": "firearms_safety_course",
            "number": "FSC-2",
            "expires": "2026-01-01",
        },
        "expires",
        "person",
        "alec",
    ),
    ("reset_pin", "hana", {"person": "alec", "pin": "5555"}, "pin", "person", "alec"),
    (
        "add_container",
        "hana",
        {"container": "box-9", "kind": "ammo_box", "name": "Box", "unit": "main"},
        "kind",
        "unit",
        "alec",
    ),
    (
        "receive_firearm",
        "hana",
        {
            "firearm": "colt-9",
            "manufacturer": "Colt",
            "model": "SAA",
            "serial": "S9",
            "firearm_type": "single_action_revolver",
            "caliber": ".45 Colt",
            "capacity": "6",
            "receipt_date": "2025-03-01",
            "receipt_source": "Rental",
            "container": "safe-main",
        },
        "serial",
        "container",
        "alec",
    ),
    (
        "receive_lot",
        "hana",
        {
            "lot": "dummy-9",
            "kind": "dummy",
            "caliber": ".45 Colt",
            "maker": "M",
            "count": "20",
            "dummy_source": "commercial",
            "receipt_date": "2025-03-01",
            "receipt_source": "R",
            "container": "safe-main",
        },
        "count",
        "container",
        "alec",
    ),
    (
        "record_training",
        "hana",
        {"performer": "alec", "weapon_type": "rifle"},
        "weapon_type",
        "performer",
        "alec",
    ),
    (
        "withdraw_consent",
        "alec",
        {
            "performer": "alec",
            "weapon_type": "single_action_revolver",
            "reason": "not after the misfire",
        },
        "weapon_type",
        "performer",
        "hana",
    ),
    (
        "hold_safety_meeting",
        "dave",
        {"shoot_day": "day-1", "attendees": ["alec", "hana"]},
        "attendees",
        "shoot_day",
        "alec",
    ),
    (
        "schedule_scene",
        "dave",
        {
            "scene": "sc-30",
            "title": "Ride out",
            "shoot_day": "day-1",
            "unit": "main",
            "set": "church",
            "cast_crew": "alec, hana",
            "firearms-0-firearm": "colt-2",
            "firearms-0-rounds": "dummy",
            "shots-0-number": "1",
            "shots-0-muzzle": "clear",
            "shots-0-target": "sky",
            "shots-0-closest_distance_ft": "30",
        },
        "title",
        "set",
        "alec",
    ),
    ("call_stop_work", "alec", {"reason": "Smoke near the cart"}, "reason", "unit", None),
    (
        "report_incident",
        "hana",
        {"kind": "near_miss", "description": "Tripped with cart"},
        "description",
        "firearm",
        None,
    ),
    ("reconcile_counts", "hana", {"lot": "blank-45", "counted": "100"}, "counted", "lot", "alec"),
]


def _post(web: Web, command: str, fields: dict[str, Any], csrf: str | None) -> Any:
    body = {**fields, "next": f"{P}/board"}
    if csrf is not None:
        body["csrf"] = csrf
    return web.client.post(f"{P}/do/{command}", data=body)


@pytest.mark.parametrize(
    ("command", "actor", "fields", "required", "ref", "nobody"), FORMS, ids=[f[0] for f in FORMS]
)
def test_form_good_input_is_done(
    web: Web,
    command: str,
    actor: str,
    fields: dict[str, Any],
    required: str,
    ref: str | None,
    nobody: str | None,
) -> None:
    """The form as a person fills it in: done, back to the board with a note."""
    csrf = web.login(actor)
    before = web.size()
    r = _post(web, command, fields, csrf)
    assert r.status_code == 200, text_of(r.text)[-500:]
    assert "Done:" in r.text and web.size() == before + 1


@pytest.mark.parametrize(
    ("command", "actor", "fields", "required", "ref", "nobody"), FORMS, ids=[f[0] for f in FORMS]
)
def test_form_bad_input_changes_nothing(
    web: Web,
    command: str,
    actor: str,
    fields: dict[str, Any],
    required: str,
    ref: str | None,
    nobody: str | None,
) -> None:
    """Missing field → 422 naming it; unknown id → 422; no CSRF → 403; wrong role → 403;
    none of them writes anything."""
    csrf = web.login(actor)
    before = web.size()
    missing = {k: v for k, v in fields.items() if k != required}
    r = _post(web, command, missing, csrf)
    assert r.status_code == 422 and required.replace("_", " ") in r.text  # in words
    if ref:
        r = _post(web, command, {**fields, ref: "ghost-9"}, csrf)
        assert r.status_code == 422 and "ghost-9" in r.text
    r = _post(web, command, fields, None)
    assert r.status_code == 403 and "expired" in r.text
    r = _post(web, command, fields, "forged-token")
    assert r.status_code == 403
    assert web.size() == before
    if nobody:
        web.client.cookies.clear()
        csrf = web.login(nobody)
        r = _post(web, command, fields, csrf)
        assert r.status_code == 403, text_of(r.text)[-300:]
        assert "role" in r.text.lower()


def test_malformed_number_is_named(web: Web) -> None:
    """A number field with letters: 422 naming the field."""
    csrf = web.login("hana")
    r = _post(web, "reconcile_counts", {"lot": "blank-45", "counted": "ten"}, csrf)
    assert r.status_code == 422 and "counted" in r.text


def test_replayed_form_key_writes_once(web: Web) -> None:
    """The same form (same idempotency key) sent twice writes one entry."""
    csrf = web.login("hana")
    fields = {"reason": "Check the cart", "idempotency_key": "form-1"}
    _post(web, "call_stop_work", fields, csrf)
    size = web.size()
    r = _post(web, "call_stop_work", fields, csrf)
    assert r.status_code == 200 and "Already done" in r.text
    assert web.size() == size


def test_unknown_command_is_404(web: Web) -> None:
    """A form posting to a command that does not exist: 404, nothing written."""
    csrf = web.login("hana")
    before = web.size()
    assert _post(web, "launch_rockets", {}, csrf).status_code == 404
    assert web.size() == before


def test_next_cannot_leave_the_production(web: Web) -> None:
    """A form's next URL pointing elsewhere is ignored (back to the board)."""
    csrf = web.login("hana")
    r = web.client.post(
        f"{P}/do/call_stop_work",
        follow_redirects=False,
        data={"reason": "x", "csrf": csrf, "next": "https://evil.example/"},
    )
    assert r.status_code == 303 and r.headers["location"] == f"{P}/board"


def test_stop_work_button_shows_on_the_board(web: Web) -> None:
    """Anyone logged in (a performer) presses STOP WORK: the board shows it at the top."""
    csrf = web.login("alec")
    page = web.client.get(f"{P}/safety")
    assert 'id="stop-work"' in page.text
    form = {"reason": "Stop-work called from the tablet by alec"}
    r = _post(web, "call_stop_work", form, csrf_of(page.text) or csrf)
    assert r.status_code == 200
    assert "STOP-WORK IN FORCE" in r.text and r.text.index("STOP-WORK") < r.text.index("Firearms")


def test_a_rejected_form_comes_back_filled_in_without_its_pin(web: Web) -> None:
    """add_person with a badge id already taken: the problem page; the page the form came
    from then carries what was typed (not the PIN) once, for the form to be filled in."""
    csrf = web.login("maria")
    r = web.client.post(
        f"{P}/do/add_person",
        data={
            "person": "alec",
            "name": "Alec Again",
            "roles": "crew",
            "pin": "8642",
            "csrf": csrf,
            "next": f"{P}/people",
        },
    )
    assert r.status_code == 409 and "Already exists" in r.text
    assert "keeps what you typed" in r.text
    page = web.client.get(f"{P}/people").text
    m = re.search(r'<script type="application/json" id="coldset-again">(.*?)</script>', page)
    assert m is not None
    again = json.loads(m.group(1))
    assert again["command"] == "add_person" and again["values"] == {
        "person": ["alec"],
        "name": ["Alec Again"],
        "roles": ["crew"],
    }
    assert again["why"].startswith("Already exists:") and "alec" in again["why"]
    assert "8642" not in page and csrf not in m.group(1)
    assert 'id="coldset-again"' not in web.client.get(f"{P}/people").text  # once only


def test_a_form_that_was_done_leaves_nothing_to_fill_in(web: Web) -> None:
    csrf = web.login("maria")
    r = web.client.post(
        f"{P}/do/add_person",
        data={
            "person": "newbie",
            "name": "New Person",
            "roles": "crew",
            "csrf": csrf,
            "next": f"{P}/people",
        },
    )
    assert r.status_code == 200 and 'id="coldset-again"' not in r.text


def test_a_forged_again_cookie_is_ignored(web: Web) -> None:
    """The cookie comes from the browser: an unknown command or odd field names are dropped
    (they would end up in a CSS selector on the page)."""
    from urllib.parse import quote

    web.login("maria")
    for bad in (
        {"command": "rm_rf", "values": {"name": ["x"]}},
        {"command": "add_person", "values": {'name"]': ["x"], "name": ["ok"]}},
    ):
        web.client.cookies.set("coldset_again", quote(json.dumps(bad)))
        page = web.client.get(f"{P}/people").text
        m = re.search(r'id="coldset-again">(.*?)</script>', page)
        if bad["command"] == "rm_rf":
            assert m is None
        else:
            assert m is not None and json.loads(m.group(1))["values"] == {"name": ["ok"]}


def test_scene_form_mitigations_are_read_one_a_line_with_their_kind(web: Web) -> None:
    """The scene form's mitigations text area: one mitigation a line, its first words
    naming the kind (a comma inside a line stays in its note); a line naming no kind is
    refused (422, nothing written)."""
    csrf = web.login("dave")
    fields = {
        "scene": "sc-31",
        "title": "Draw to the lens",
        "shoot_day": "day-1",
        "unit": "main",
        "set": "church",
        "cast_crew": "alec, hana",
        "firearms-0-firearm": "colt-2",
        "shots-0-number": "1",
        "shots-0-muzzle": "camera",
        "shots-0-closest_distance_ft": "6",
        "mitigations": "remote camera, operator behind a shield\nmirror",
    }
    before = web.size()
    r = _post(web, "schedule_scene", {**fields, "mitigations": "be careful"}, csrf)
    assert r.status_code == 422 and "say which mitigation" in r.text
    assert web.size() == before
    r = _post(web, "schedule_scene", fields, csrf)
    assert r.status_code == 200 and "Done:" in r.text, text_of(r.text)[-500:]
    plan = web.state.scenes["sc-31"].plan
    assert [(m.kind.value, m.note) for m in plan.mitigations] == [
        ("remote_camera", "remote camera, operator behind a shield"),
        ("mirror", "mirror"),
    ]
