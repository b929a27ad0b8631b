"""Every page renders for a member, says DEMO in the demo, and needs a login."""

from __future__ import annotations

import re

import pytest

from tests.web.conftest import P, Web, csrf_of, text_of

PAGES = [
    "board",
    "handoff",
    "handoff?firearm=win-1",
    "handling",
    "handling?firearm=colt-1",
    "inventory",
    "firearms/colt-1",
    "people",
    "people/alec",
    "training",
    "scenes",
    "scenes/sc-20",
    "meeting",
    "safety",
    "labels",
    "labels?kind=lots",
    "labels?kind=containers",
    "labels?kind=badges",
    "labels?kind=concern",
]


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_with_demo_banner(web: Web, page: str) -> None:
    """The page answers 200 for a member and carries the DEMO banner and a CSRF token."""
    web.login("hana")
    r = web.client.get(f"{P}/{page}")
    assert r.status_code == 200
    assert "DEMO" in r.text and 'class="demo-banner"' in r.text
    assert 'name="csrf"' in r.text


@pytest.mark.parametrize("page", ["board", "handoff", "people", "safety"])
def test_page_needs_login(web: Web, page: str) -> None:
    """Logged out, a page sends you to the login with the way back."""
    r = web.client.get(f"{P}/{page}", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")


def test_not_a_member_is_403(web: Web) -> None:
    """A login that is not on the production sees 403, not the board."""
    web.app.state.coldset.accounts.create("outsider", "Out Sider", "long-enough-pw")
    r = web.client.get("/login")
    web.client.post(
        "/login", data={"login": "outsider", "password": "long-enough-pw", "csrf": csrf_of(r.text)}
    )
    r = web.client.get(f"{P}/board")
    assert r.status_code == 403 and "Not on this production" in r.text


def test_board_shows_firearms_lots_and_where(web: Web) -> None:
    """The board lists every firearm with where it is, and every lot with its count."""
    web.login("hana")
    t = text_of(web.client.get(f"{P}/board").text)
    for fid in ("colt-1", "colt-2", "pietta-1", "win-1"):
        assert fid in t
    assert "locked in safe-main" in t and "blank-45" in t and "No stop-work" in t


def test_board_version_moves_when_the_log_grows(web: Web) -> None:
    """The polling endpoint's version changes after a command; the fragment shows the change."""
    csrf = web.login("hana")
    v1 = web.client.get(f"{P}/board/version").json()["version"]
    web.post(f"{P}/do/unlock_container", {"container": "safe-main"}, csrf)
    v2 = web.client.get(f"{P}/board/version").json()["version"]
    assert v2 > v1
    frag = web.client.get(f"{P}/board/fragment").text
    assert "<html" not in frag and "with hana" in frag


def test_unknown_pages_are_404_without_a_trace(web: Web) -> None:
    """Unknown production, firearm, scene or person: 404 pages, no stack trace."""
    web.login("hana")
    for url in (
        "/p/nope/board",
        f"{P}/firearms/nope",
        f"{P}/scenes/nope",
        f"{P}/people/nope",
        "/nowhere",
    ):
        r = web.client.get(url)
        assert r.status_code in (403, 404), url
        assert "Traceback" not in r.text


def test_labels_are_qr_codes_of_the_tags(web: Web) -> None:
    """Firearm labels are inline SVG QR codes, one per firearm, with the tag printed."""
    web.login("hana")
    r = web.client.get(f"{P}/labels")
    assert r.text.count("<svg") == 6 and "colt-1" in r.text


def test_timeline_shows_refusals_with_their_rule(web: Web) -> None:
    """A refused handoff appears on the firearm's timeline with the rule id."""
    from tests.web.conftest import handoff_form, open_safe

    csrf = web.login("hana")
    open_safe(web, csrf)
    web.post(f"{P}/handoff", handoff_form(ad=False), csrf)
    t = text_of(web.client.get(f"{P}/firearms/colt-1").text)
    assert "refused" in t and "show-clear-before-issue" in t


def test_admin_creates_a_login_for_a_person(web: Web) -> None:
    """An admin gives a person a login; a non-admin cannot (403)."""
    csrf = web.login("maria")
    web.client.post(
        f"{P}/people/jensen/login",
        data={"login": "jensen2", "password": "a-long-password", "csrf": csrf},
    )
    assert web.app.state.coldset.accounts.get("jensen2").person_on("dusty-trail") == "jensen"
    web.client.cookies.clear()
    csrf = web.login("hana")
    r = web.client.post(
        f"{P}/people/jensen/login",
        data={"login": "jensen3", "password": "a-long-password", "csrf": csrf},
    )
    assert r.status_code == 403


def test_api_token_page_shows_a_token_once(web: Web) -> None:
    """The account page makes an API token that works on the API."""
    web.login("hana")
    page = web.client.get("/account")
    r = web.client.post(
        "/account/tokens", data={"label": "cart script", "csrf": csrf_of(page.text)}
    )
    import re

    token = re.search(r'<code class="token">([^<]+)</code>', r.text).group(1)
    api = web.client.get("/api/v1/productions", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 200


def test_a_performer_withdraws_their_consent_on_the_training_page(web: Web) -> None:
    """Alec, logged in, finds the withdraw form with himself chosen; sending it removes the
    revolver from what he consented to, and the page says so."""
    csrf = web.login("alec")
    page = web.client.get(f"{P}/training").text
    assert 'action="/p/dusty-trail/do/withdraw_consent"' in page
    assert '<option value="alec" selected>' in page
    r = web.client.post(
        f"{P}/do/withdraw_consent",
        data={
            "performer": "alec",
            "weapon_type": "single_action_revolver",
            "csrf": csrf,
            "next": f"{P}/training",
        },
    )
    assert r.status_code == 200, text_of(r.text)[-300:]
    assert all(
        x.weapon_type.value != "single_action_revolver" for x in web.state.people["alec"].consents
    )
    row = re.search(
        r'Alec Barrow <small class="tag">alec</small></td>\s*<td>([^<]*)</td>'
        r"\s*<td>([^<]*)</td>",
        r.text,
    )
    assert row is not None
    trained, consented = row.groups()
    assert "single action revolver" in trained and "single action revolver" not in consented
