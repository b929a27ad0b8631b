"""The handoff page: scan → checklist → performer badge → PIN → done; refusals and overrides."""

from __future__ import annotations

import re

from tests.web.conftest import PINS, P, Web, csrf_of, handoff_form, open_safe, text_of


def test_scan_step_shows_the_checklist_for_each_chamber(web: Web) -> None:
    """A typed (scanned) tag opens the checklist with one row per chamber and the barrel."""
    web.login("hana")
    r = web.client.get(f"{P}/handoff", params={"firearm": "colt-1"})
    assert r.status_code == 200
    for i in range(1, 7):
        assert f'name="chamber-{i}"' in r.text
    assert 'name="barrel_clear"' in r.text and 'name="performer"' in r.text


def test_unknown_tag_says_so_and_changes_nothing(web: Web) -> None:
    """A tag that is not on the production is a 404 with a message; the log does not grow."""
    web.login("hana")
    before = web.size()
    r = web.client.get(f"{P}/handoff", params={"firearm": "nope-9"})
    assert r.status_code == 404 and "No firearm with tag" in r.text
    assert web.size() == before


def test_full_handoff_issues_the_firearm(web: Web) -> None:
    """Open the safe, inspect every chamber, performer badge + PIN: the firearm is with alec."""
    csrf = web.login("hana")
    open_safe(web, csrf)
    r = web.post(f"{P}/handoff", handoff_form(), csrf)
    assert r.status_code == 200, text_of(r.text)[-600:]
    assert "colt-1 handed to alec" in r.text
    f = web.state.firearms["colt-1"]
    assert (f.custody.kind, f.custody.ref) == ("person", "alec")


def test_double_submit_issues_once(web: Web) -> None:
    """The same form sent twice (a double tap, a retry) writes once: the second is a repeat."""
    csrf = web.login("hana")
    open_safe(web, csrf)
    web.post(f"{P}/handoff", handoff_form(), csrf)
    size = web.size()
    r = web.post(f"{P}/handoff", handoff_form(), csrf)
    assert r.status_code == 200 and "nothing new was written" in r.text
    assert web.size() == size


def _checked(html: str, name: str) -> str | None:
    """The value of the checked radio ``name`` in ``html``, or None."""
    m = re.search(rf'name="{name}" value="([^"]+)" required checked', html)
    return m.group(1) if m else None


def _value(html: str, input_id: str) -> str:
    m = re.search(rf'<input id="{input_id}"[^>]*?\bvalue="([^"]*)"', html)
    assert m, input_id
    return m.group(1)


def test_wrong_pin_is_not_accepted(web: Web) -> None:
    """A wrong performer PIN: 403, the firearm stays with the handler."""
    csrf = web.login("hana")
    open_safe(web, csrf)
    r = web.post(f"{P}/handoff", handoff_form(pin="9999"), csrf)
    assert r.status_code == 403 and "PIN not accepted" in r.text
    assert web.state.firearms["colt-1"].custody.ref == "hana"


def test_a_rejected_handoff_comes_back_filled_in_and_goes_through_when_fixed(web: Web) -> None:
    """A wrong PIN: the checklist comes back as it was ticked (a dummy in chamber 2 stays a
    dummy), the performer and the 1st AD stay scanned, no PIN is sent back, and a new
    idempotency key is in the form; with the right PIN the same form issues the firearm."""
    csrf = web.login("hana")
    open_safe(web, csrf)
    sent = handoff_form(pin="9999", key="k-wrong")
    sent["chamber-2"] = "dummy"
    r = web.post(f"{P}/handoff", sent, csrf)
    assert r.status_code == 403
    page = r.text
    assert "PIN not accepted" in page and "the firearm was not handed over" in page
    assert [_checked(page, f"chamber-{i}") for i in range(1, 7)] == [
        "empty",
        "dummy",
        "empty",
        "empty",
        "empty",
        "empty",
    ]
    assert 'name="barrel_clear" value="1" required checked' in page
    assert 'name="scene" value="sc-12" checked' in page
    assert _value(page, "performer") == "alec" and _value(page, "ad") == "dave"
    assert "9999" not in page and PINS["dave"] not in page
    new_key = re.search(r'name="idempotency_key" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    assert new_key != "k-wrong"
    again = {**sent, "pin": PINS["alec"], "idempotency_key": new_key, "confirm_pin": PINS["dave"]}
    r = web.post(f"{P}/handoff", again, csrf_of(page))
    assert r.status_code == 200 and "colt-1 handed to alec" in r.text, text_of(r.text)[-400:]
    assert web.state.firearms["colt-1"].custody.ref == "alec"


def test_refusal_screen_lists_each_failing_rule(web: Web) -> None:
    """Without the 1st AD's confirmation the issue is refused; the page names the rule,
    its reason and its source."""
    csrf = web.login("hana")
    open_safe(web, csrf)
    r = web.post(f"{P}/handoff", handoff_form(ad=False), csrf)
    assert r.status_code == 409
    t = text_of(r.text)
    assert "REFUSED" in t and "show-clear-before-issue" in t and "Source:" in t
    assert 'id="sign-here"' not in r.text  # not a plan's sign-offs: no link to them
    assert web.state.firearms["colt-1"].custody.ref == "hana"


def test_missing_checklist_entry_is_malformed(web: Web) -> None:
    """A chamber left unchecked: 422 naming the field; nothing issued."""
    csrf = web.login("hana")
    open_safe(web, csrf)
    form = handoff_form()
    del form["chamber-3"]
    r = web.post(f"{P}/handoff", form, csrf)
    assert r.status_code == 422 and "chambers" in r.text
    assert web.state.firearms["colt-1"].custody.ref == "hana"
    # the form comes back with the five ticked chambers kept and chamber 3 to tick
    assert [_checked(r.text, f"chamber-{i}") for i in range(1, 7)] == [
        "empty",
        "empty",
        None,
        "empty",
        "empty",
        "empty",
    ]
    assert "Nothing was changed" in r.text or "recorded" in r.text


def test_handoff_without_csrf_changes_nothing(web: Web) -> None:
    """No CSRF token: 403 and the log does not grow."""
    csrf = web.login("hana")
    open_safe(web, csrf)
    before = web.size()
    r = web.post(f"{P}/handoff", handoff_form())
    assert r.status_code == 403 and "expired" in r.text
    assert web.size() == before


def test_performer_cannot_hand_over(web: Web) -> None:
    """A performer logged in on the tablet cannot issue: the rule refuses it by name."""
    csrf = web.login("alec")
    r = web.post(f"{P}/handoff", handoff_form(performer="jensen"), csrf)
    assert r.status_code in (403, 409)
    assert web.state.firearms["colt-1"].custody.kind == "container"


def test_override_path_is_offered_and_works(web: Web) -> None:
    """An overridable refusal shows the override form; reason + confirmers' PINs do it."""
    csrf = web.login("hana")
    open_safe(web, csrf)
    # issue colt-1 for a scene that does not plan it: scene-bound (overridable) refuses
    r = web.post(f"{P}/handoff", handoff_form(scene="sc-20"), csrf)
    assert r.status_code == 409, text_of(r.text)[-500:]
    assert "scene-bound" in r.text and 'action="/p/dusty-trail/override"' in r.text
    override = {
        "command": _hidden(r.text, "command"),
        "override_reason": "insert shot",
        "confirm_person": "alec",
        "confirm_pin": PINS["alec"],
        "override_person": ["lee"],
        "override_pin": [PINS["lee"]],
        "idempotency_key": "ovr-1",
        "csrf": csrf_of(r.text),
    }
    # the 1st AD confirmation also has to be given again
    override["confirm_person"] = ["alec", "dave"]
    override["confirm_pin"] = [PINS["alec"], PINS["dave"]]
    r2 = web.client.post(f"{P}/override", data=override)
    assert r2.status_code == 200, text_of(r2.text)[-800:]
    assert web.state.firearms["colt-1"].custody.ref == "alec"
    assert web.state.overrides


def _hidden(html: str, name: str) -> str:
    import html as h
    import re

    m = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert m, f"no hidden {name}"
    return h.unescape(m.group(1))


def test_a_plan_not_yet_signed_points_to_the_scene_not_an_override(web: Web) -> None:
    """muzzle-plan ("block until signed"): a new scene with colt-1 pointed at the camera and
    no sign-offs; the handoff is refused and the refusal screen sends the armorer to the
    scene's plan and sign-offs instead of offering an override."""
    custody = web.app.state.coldset.custody
    r = custody.execute(
        {
            "type": "schedule_scene",
            "production": "dusty-trail",
            "actor": "dave",
            "scene": "sc-40",
            "shoot_day": "day-1",
            "unit": "main",
            "set": "church",
            "title": "Close on the barrel",
            "firearms": [{"firearm": "colt-1", "rounds": "dummy"}],
            "shots": [
                {
                    "number": 1,
                    "kind": "take",
                    "muzzle": "camera",
                    "target": "lens",
                    "closest_distance_ft": 8,
                }
            ],
            "cast_crew": ["alec", "dave", "hana", "lee"],
        }
    )
    assert r.ok, r.error
    assert custody.execute(
        {
            "type": "hold_safety_meeting",
            "production": "dusty-trail",
            "actor": "dave",
            "shoot_day": "day-1",
            "scene": "sc-40",
            "attendees": ["alec", "dave", "hana", "lee"],
        }
    ).ok
    csrf = web.login("hana")
    open_safe(web, csrf)
    r = web.post(f"{P}/handoff", handoff_form(scene="sc-40"), csrf)
    assert r.status_code == 409
    t = text_of(r.text)
    assert "muzzle-plan" in t and "REFUSED" in t
    assert f'href="{P}/scenes/sc-40"' in r.text and 'id="sign-here"' in r.text
    assert 'action="/p/dusty-trail/override"' not in r.text
    assert web.state.firearms["colt-1"].custody.ref == "hana"


def test_a_tag_in_capitals_opens_the_firearm_and_badges_ignore_case(web: Web) -> None:
    """COLT-1 opens colt-1's checklist; a badge typed ALEC (and the 1st AD's DAVE) hands
    it to alec."""
    csrf = web.login("hana")
    r = web.client.get(f"{P}/handoff", params={"firearm": "COLT-1"})
    assert r.status_code == 200 and 'name="firearm" value="colt-1"' in r.text
    open_safe(web, csrf)
    form = {**handoff_form(), "firearm": "Colt-1", "performer": "ALEC", "confirm_person": "DAVE"}
    r = web.post(f"{P}/handoff", form, csrf)
    assert r.status_code == 200 and "colt-1 handed to alec" in r.text, text_of(r.text)[-400:]
    assert web.state.firearms["colt-1"].custody.ref == "alec"


def test_the_form_shows_what_the_record_expects_and_preselects_the_scene_people(web: Web) -> None:
    """Each position carries what the record expects; the scene's only performer and
    1st AD are in the form already, and the 1st AD's fields are required."""
    web.login("hana")
    page = web.client.get(f"{P}/handoff", params={"firearm": "colt-1"}).text
    assert page.count('data-expected="empty"') == 6
    assert _value(page, "performer") == "alec" and _value(page, "ad") == "dave"
    assert re.search(r'<input id="ad-pin"[^>]*\brequired', page)
    assert "I see what the record says: 6 empty" in page


def test_a_difference_from_the_record_comes_back_loud(web: Web) -> None:
    """A rejected handoff whose checklist differs from the record (a dummy seen in an empty
    chamber) comes back with the difference named on top, without the script."""
    csrf = web.login("hana")
    open_safe(web, csrf)
    sent = handoff_form(pin="9999", key="k-diff")
    sent["chamber-2"] = "dummy"
    page = web.post(f"{P}/handoff", sent, csrf).text
    m = re.search(
        r'<section class="mismatch" id="mismatch" role="alert">(.*?)</section>', page, re.S
    )
    assert m, "the banner is not shown"
    assert "Chamber 2: you see DUMMY" in m.group(1) and "the record says empty" in m.group(1)


def _issue_colt1(web: Web, csrf: str) -> None:
    open_safe(web, csrf)
    r = web.post(f"{P}/handoff", handoff_form(), csrf)
    assert "colt-1 handed to alec" in r.text


def test_collect_back_with_the_inspection_records_both(web: Web) -> None:
    """colt-1 with alec: the handoff page offers to collect it with the checklist; sent,
    it records the collect and the inspection, and leads to the next take's form with
    sc-12 and alec pre-selected."""
    csrf = web.login("hana")
    _issue_colt1(web, csrf)
    page = web.client.get(f"{P}/handoff", params={"firearm": "colt-1"}).text
    assert 'id="collect-form"' in page and "with Alec Barrow" in page
    before = web.size()
    form = {
        "firearm": "colt-1",
        "with_inspection": "1",
        "barrel_clear": "1",
        "idempotency_key": "c-1",
        **{f"chamber-{i}": "empty" for i in range(1, 7)},
    }
    r = web.client.post(f"{P}/handoff/collect", data={**form, "csrf": csrf}, follow_redirects=False)
    assert r.status_code == 303, text_of(r.text)[-400:]
    assert "scene=sc-12" in r.headers["location"] and "performer=alec" in r.headers["location"]
    assert web.size() == before + 2
    f = web.state.firearms["colt-1"]
    assert f.custody.ref == "hana" and f.last_inspection is not None
    nxt = web.client.get(r.headers["location"]).text
    assert 'id="handoff-form"' in nxt and _value(nxt, "performer") == "alec"


def test_collect_with_a_half_filled_checklist_changes_nothing(web: Web) -> None:
    """ "Collect and record the inspection" with a chamber not marked: 422, the form comes
    back as sent, nothing is written (not even the collect)."""
    csrf = web.login("hana")
    _issue_colt1(web, csrf)
    before = web.size()
    form = {
        "firearm": "colt-1",
        "with_inspection": "1",
        "barrel_clear": "1",
        **{f"chamber-{i}": "empty" for i in range(1, 6)},
    }
    r = web.client.post(f"{P}/handoff/collect", data={**form, "csrf": csrf})
    assert r.status_code == 422 and "The inspection is not complete" in r.text
    assert web.size() == before
    assert web.state.firearms["colt-1"].custody.ref == "alec"


def test_collect_only(web: Web) -> None:
    """ "Collect only": the collect is recorded, no inspection."""
    csrf = web.login("hana")
    _issue_colt1(web, csrf)
    inspected = web.state.firearms["colt-1"].last_inspection
    r = web.client.post(
        f"{P}/handoff/collect",
        data={"firearm": "colt-1", "with_inspection": "0", "csrf": csrf},
        follow_redirects=False,
    )
    assert r.status_code == 303
    f = web.state.firearms["colt-1"]
    assert f.custody.ref == "hana" and f.last_inspection == inspected
