"""No dead ends (issue 10): every command a person performs on set has a form on the tablet,
shown to a person whose role may send it; the few kept to the CLI or API say why; and a
refusal that names a missing step links to the page that records it."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from coldset.domain.commands import COMMAND_TYPES
from coldset.domain.decide import PERMISSIONS
from coldset.domain.sample import PRODUCTION
from coldset.web.steps import FORM_ACTIONS, KEPT_OFF_TABLET, STEP_PAGES, step_links
from tests.web.conftest import PASSWORDS, PINS, P, Web, csrf_of, text_of

#: what fills a page address's fields when the catalogue is walked (sc-30 is scheduled
#: by the walk, not signed off yet)
SAMPLE = {"firearm": "colt-1", "scene": "sc-30", "person": "alec"}


def test_every_command_has_a_page_or_a_reason() -> None:
    """The catalogue is split in two, with nothing left over: a page for each command, or
    a written reason it stays off the tablet."""
    assert set(STEP_PAGES) | set(KEPT_OFF_TABLET) == set(COMMAND_TYPES)
    assert not set(STEP_PAGES) & set(KEPT_OFF_TABLET)
    assert all(len(why) > 40 for why in KEPT_OFF_TABLET.values())


def _client(web: Web, who: str) -> TestClient:
    c = TestClient(web.app, follow_redirects=True)
    r = c.get("/login")
    r = c.post(
        "/login",
        data={"login": who, "password": PASSWORDS[who], "csrf": csrf_of(r.text), "next": "/"},
    )
    assert r.status_code == 200, r.text
    return c


def _who_may(web: Web, command: str) -> str:
    """A person of the demo whose role may send ``command`` (a handler when anyone may)."""
    roles = PERMISSIONS.get(command)
    if command == "set_pin":
        return "alec"  # their own PIN
    if command in ("record_consent", "withdraw_consent", "issue"):
        return "hana"
    if not roles:
        return "hana"
    st = web.state
    return next(p for p in sorted(st.people) if any(st.has_role(p, r) for r in roles))


def _something_to_act_on(web: Web) -> None:
    """A stop-work, a quarantined firearm, a concern and an open alert, so the forms that
    act on them appear."""
    csrf = web.login("hana")
    for cmd, data in [
        ("start_meal_break", {"unit": "main"}),
        (
            "schedule_scene",
            {
                "scene": "sc-30",
                "shoot_day": "day-1",
                "unit": "main",
                "set": "church",
                "title": "Rehearsal, no firearm",
            },
        ),
        ("call_stop_work", {"reason": "smoke on set", "unit": "main"}),
        (
            "report_incident",
            {"kind": "misfire", "firearm": "colt-2", "description": "click, no bang"},
        ),
        ("raise_concern", {"text": "the corral gate is broken"}),
        ("unlock_container", {"container": "safe-second", "leave_inside": "true"}),
        ("take_from_container", {"container": "safe-second", "firearms": "win-1"}),
    ]:
        r = web.post(f"{P}/do/{cmd}", {**data, "next": f"{P}/board"}, csrf)
        assert r.status_code == 200, (cmd, text_of(r.text)[-300:])
    web.clock.advance(minutes=10)
    r = web.post(f"{P}/do/check_alerts", {"next": f"{P}/board"}, csrf)
    assert r.status_code == 200 and web.state.open_alerts(), text_of(r.text)[-300:]


def test_every_set_command_has_its_form_for_a_role_that_may_send_it(web: Web) -> None:
    """Each command's page, opened by a person who may send it, holds a form that sends
    it (the page address and the form come from ``coldset.web.steps``)."""
    _something_to_act_on(web)
    missing = []
    clients: dict[str, TestClient] = {}
    for command, template in sorted(STEP_PAGES.items()):
        who = _who_may(web, command)
        c = clients.get(who) or clients.setdefault(who, _client(web, who))
        fields = {**SAMPLE, "person": who if command == "set_pin" else "alec"}
        url = template.format(production=PRODUCTION, **fields).split("#")[0]
        r = c.get(url)
        action = FORM_ACTIONS.get(command, "/p/{production}/do/" + command).format(
            production=PRODUCTION
        )
        if r.status_code != 200 or f'action="{action}"' not in r.text:
            missing.append((command, who, url, r.status_code))
    assert missing == []


def test_a_misfire_release_links_to_the_function_check_and_then_goes_through(web: Web) -> None:
    """Releasing colt-2 after a misfire is refused for want of a function check; the
    refusal links to the page with the inspection form (function check ticked there);
    once that is recorded the release goes through. No free-text stand-in."""
    csrf = web.login("hana")
    web.post(
        f"{P}/do/report_incident",
        {"kind": "misfire", "firearm": "colt-2", "description": "click"},
        csrf,
    )
    release = {
        "firearm": "colt-2",
        "note": "barrel clear, function check passed",
        "confirm_person": "lee",
        "confirm_pin": PINS["lee"],
        "next": f"{P}/safety",
    }
    r = web.post(f"{P}/do/release_quarantine", release, csrf)
    assert r.status_code == 409
    link = f'href="/p/{PRODUCTION}/handling?firearm=colt-2#inspect"'
    assert link in r.text, text_of(r.text)[-600:]
    page = web.client.get(f"{P}/handling?firearm=colt-2").text
    assert 'id="inspect"' in page and 'name="function_check"' in page
    web.post(f"{P}/do/unlock_container", {"container": "safe-main"}, csrf)
    r = web.post(
        f"{P}/do/inspect",
        {
            "firearm": "colt-2",
            "chambers": ["empty"] * 6,
            "barrel_clear": "1",
            "function_check": "1",
            "next": f"{P}/handling?firearm=colt-2",
        },
        csrf,
    )
    assert r.status_code == 200, text_of(r.text)[-400:]
    r = web.post(f"{P}/do/release_quarantine", release, csrf)
    assert r.status_code == 200, text_of(r.text)[-400:]
    assert not web.state.firearms["colt-2"].quarantined


@pytest.mark.parametrize(
    ("rule", "command", "page"),
    [
        (
            "dummy-verified",
            {"type": "load", "firearm": "colt-1", "lot": "dummy-9"},
            "/p/dusty-trail/inventory#verify-dummy-lot",
        ),
        (
            "handler-present",
            {"type": "issue", "firearm": "colt-1", "to": "alec"},
            "/p/dusty-trail/day#check-in",
        ),
        (
            "round-accounting",
            {"type": "wrap_day", "shoot_day": "day-1"},
            "/p/dusty-trail/inventory#count",
        ),
        (
            "misfire-quarantine",
            {"type": "release_quarantine", "firearm": "colt-2"},
            "/p/dusty-trail/handling?firearm=colt-2#inspect",
        ),
    ],
)
def test_a_refusal_names_the_page_of_the_missing_step(
    rule: str, command: dict[str, Any], page: str
) -> None:
    """The rule that failed → the page whose form records what it asks for."""
    links = step_links(PRODUCTION, command, [{"rule": rule, "verdict": "block"}])
    assert links[rule][1] == page


def test_the_day_page_runs_check_out_meal_break_and_wrap(web: Web) -> None:
    """From the Day page: hana checks out and in again, the 1st AD starts and ends the
    meal break and wraps the day (refused while ammunition is out, named by rule)."""
    csrf = web.login("hana")
    page = web.client.get(f"{P}/day").text
    assert 'id="check-out"' in page and 'id="check-in"' in page
    r = web.post(f"{P}/do/check_out", {"unit": "main", "next": f"{P}/day"}, csrf)
    assert r.status_code == 200 and "hana" not in web.state.checked_in
    r = web.post(f"{P}/do/check_in", {"unit": "main", "set": "church", "next": f"{P}/day"}, csrf)
    assert r.status_code == 200 and web.state.checked_in["hana"] == ("main", "church")
    dave = _client(web, "dave")
    csrf_d = csrf_of(dave.get(f"{P}/day").text)
    r = dave.post(
        f"{P}/do/start_meal_break", data={"unit": "main", "csrf": csrf_d, "next": f"{P}/day"}
    )
    assert r.status_code == 200 and "main" in web.state.meal_breaks
    assert "End meal break" in r.text
    web.clock.advance(minutes=30)
    r = dave.post(
        f"{P}/do/end_meal_break", data={"unit": "main", "csrf": csrf_d, "next": f"{P}/day"}
    )
    assert r.status_code == 200 and "main" not in web.state.meal_breaks
    r = dave.post(
        f"{P}/do/wrap_day", data={"shoot_day": "day-1", "csrf": csrf_d, "next": f"{P}/day"}
    )
    assert r.status_code in (200, 409)


def test_a_performer_sees_no_form_of_another_role(web: Web) -> None:
    """alec (a performer) opens a person's page and the day page: no "Give a role", no
    "Reset PIN", no check-in or wrap; his own page offers "Change my PIN"."""
    alec = _client(web, "alec")
    other = alec.get(f"{P}/people/hana").text
    for words in ("Give a role", "Reset PIN", "Take a role away", "Credential</h2>"):
        assert words not in other
    assert "Change my PIN" in alec.get(f"{P}/people/alec").text
    day = alec.get(f"{P}/day").text
    assert "/do/check_in" not in day and "/do/wrap_day" not in day
