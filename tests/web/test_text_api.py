"""Hostile text through the JSON API and the login form: a 422 / a wrong login, never a
500, and nothing written (issue 15 #10; the database half is in tests/store_contract)."""

from __future__ import annotations

import pytest

from tests.web.conftest import Web, csrf_of

A = "/api/v1/productions/dusty-trail/commands"


@pytest.mark.parametrize(
    "body",
    [
        b'{"person": "newbie", "name": "Alec\\u0000Barrow", "roles": ["crew"]}',
        b'{"person": "newbie", "name": "Alec\\ud800Barrow", "roles": ["crew"]}',
        b'{"person": "newbie", "name": "Alec\\nBarrow", "roles": ["crew"]}',
        b'{"person": "newbie", "name": "Alec", "roles": ["crew"], "x\\ud800": 1}',
    ],
)
def test_hostile_text_in_a_json_body_is_422(web: Web, body: bytes) -> None:
    """A NUL, a lone surrogate (JSON escapes), a newline in a name, or a field named with a
    surrogate: 422 naming the field, a body that encodes; the person is not added."""
    accounts = web.app.state.coldset.accounts
    h = {
        "Authorization": f"Bearer {accounts.create_token('maria', 'test')}",
        "Content-Type": "application/json",
    }
    r = web.client.post(f"{A}/add_person", content=body, headers=h)
    assert r.status_code == 422, r.text
    assert r.json()["error_kind"] == "malformed" and r.json()["field_errors"]
    assert "newbie" not in web.app.state.coldset.custody.state("dusty-trail").people


def test_a_login_name_with_a_nul_is_a_wrong_login(web: Web) -> None:
    """The login form with a NUL or a C1 control (U+0085) in the login name
    answers 401 "wrong login or password", like any unknown login."""
    for login in ("maria\x00", "\x85maria"):
        page = web.client.get("/login")
        r = web.client.post(
            "/login",
            data={"login": login, "password": "x" * 12, "csrf": csrf_of(page.text), "next": "/"},
        )
        assert r.status_code == 401, r.text
        assert "wrong login or password" in r.text


def test_a_nul_in_a_url_id_is_not_found(web: Web) -> None:
    """A production or firearm id with a NUL in the URL is a 404 like any unknown id (the
    service never asks the database, which on PostgreSQL would fail)."""
    accounts = web.app.state.coldset.accounts
    h = {"Authorization": f"Bearer {accounts.create_token('maria', 'test')}"}
    for url in (
        "/api/v1/productions/dusty%00trail/board",
        "/api/v1/productions/dusty-trail/firearms/colt%00-1/timeline",
    ):
        r = web.client.get(url, headers=h)
        assert r.status_code in (403, 404), (url, r.status_code, r.text)
    web.login("maria")
    for url in ("/p/dusty%00trail/board", "/p/dusty-trail/firearms/colt%00-1"):
        r = web.client.get(url)
        assert r.status_code in (403, 404), (url, r.status_code, r.text)
