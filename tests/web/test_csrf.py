"""CSRF on every page form, checked in one place (a dependency of the whole app), and the
logged-out token bound to a secret of the install so an attacker cannot choose it."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import select
from starlette.routing import Route

from coldset.config import ConfigError
from coldset.store.accounts_schema import (
    account_logins,
    account_members,
    account_sessions,
    account_tokens,
)
from coldset.web import create_app
from coldset.web.context import ANON_CSRF_COOKIE, SESSION_COOKIE
from tests.web.conftest import PASSWORDS, P, Web, csrf_of, handoff_form

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
#: a value for each path parameter of a page route (one that names something real)
PATH_VALUES = {"production": "dusty-trail", "command": "call_stop_work", "person": "alec"}
#: one body that every form route would act on if its CSRF check let it through
BODY: dict[str, Any] = {
    **handoff_form(),
    "reason": "Smoke near the cart",
    "text": "Cart left open",
    "login": "hana",
    "password": PASSWORDS["hana"],
    "label": "script",
    "next": f"{P}/board",
    "command": '{"type": "call_stop_work", "production": "dusty-trail", "reason": "x"}',
    "override_reason": "because",
}


def all_routes(app: FastAPI) -> list[tuple[str, set[str], Any]]:
    """(path, methods, route) of every route of the app, included routers flattened."""
    try:  # FastAPI keeps included routers nested
        from fastapi.routing import iter_route_contexts
    except ImportError:  # older FastAPI: a flat list
        return [
            (getattr(r, "path", ""), set(getattr(r, "methods", None) or ()), r) for r in app.routes
        ]
    return [
        (rc.path or "", set(rc.methods or ()), rc.original_route)
        for rc in iter_route_contexts(app.routes)
    ]


def form_routes(app: FastAPI) -> list[tuple[str, str]]:
    """(method, path) of every route outside the JSON API that takes an unsafe method."""
    out = []
    for path, methods, route in all_routes(app):
        if path.startswith("/api/") or not isinstance(route, Route):
            continue
        out.extend((m, path) for m in sorted(methods & UNSAFE))
    return out


def fill(path: str) -> str:
    for name, value in PATH_VALUES.items():
        path = path.replace("{" + name + "}", value)
    assert "{" not in path, f"give the path parameter of {path} a value in PATH_VALUES"
    return path


def written(web: Web) -> tuple[int, list[Any]]:
    """The log size and every account row: what a form could have changed."""
    with web.install.store.read() as conn:
        rows = [
            sorted(tuple(r) for r in conn.execute(select(t)))
            for t in (account_logins, account_members, account_sessions, account_tokens)
        ]
    return web.size(), rows


def test_the_route_list_has_every_known_form(web: Web) -> None:
    """The enumeration below finds the app's forms (so a new one is covered by itself)."""
    paths = {p for _m, p in form_routes(web.app)}
    assert {
        "/login",
        "/logout",
        "/account/tokens",
        "/c/{production}",
        "/p/{production}/do/{command}",
        "/p/{production}/override",
        "/p/{production}/handoff",
        "/p/{production}/people/{person}/login",
    } <= paths


@pytest.mark.parametrize("who", [None, "maria"], ids=["logged-out", "logged-in"])
def test_every_form_route_refuses_no_token_and_a_forged_one(web: Web, who: str | None) -> None:
    """Every POST outside /api, logged out and logged in (as an admin), without a token and
    with a made-up one: 403 with the plain "form has expired" page, nothing written (log
    size and account rows unchanged), still logged in."""
    if who:
        web.login(who)
    session = web.client.cookies.get(SESSION_COOKIE)
    for method, path in form_routes(web.app):
        url = fill(path)
        for token in (None, "forged-token-forged-token", ""):
            before = written(web)
            body = dict(BODY) if token is None else {**BODY, "csrf": token}
            r = web.client.request(method, url, data=body, follow_redirects=False)
            assert r.status_code == 403, (method, url, token, r.status_code)
            assert "This form has expired" in r.text and "Nothing was changed" in r.text
            assert written(web) == before, (method, url, token)
            assert web.client.cookies.get(SESSION_COOKIE) == session


def test_a_new_form_route_is_checked_without_asking(web: Web) -> None:
    """A route added later that never mentions CSRF is refused without a token all the
    same: the check is the app's, not the handler's."""
    hits: list[str] = []

    @web.app.post("/p/{production}/new-form")
    async def new_form(request: Request, production: str) -> PlainTextResponse:
        hits.append(production)
        return PlainTextResponse("done")

    csrf = web.login("hana")
    assert web.client.post(f"{P}/new-form", data={"x": "1"}).status_code == 403
    assert web.client.post(f"{P}/new-form", data={"csrf": "made-up"}).status_code == 403
    assert hits == []
    assert web.client.post(f"{P}/new-form", data={"csrf": csrf}).text == "done"


def test_every_unsafe_page_route_is_guarded_by_the_app(web: Web) -> None:
    """Every page route with an unsafe method is a FastAPI route (so the app's CSRF
    dependency runs before it); a plain Starlette route would bypass it."""
    for method, path in form_routes(web.app):
        route = next(r for p, ms, r in all_routes(web.app) if p == path and method in ms)
        assert isinstance(route, APIRoute), f"{method} {path} is not an APIRoute"


def test_a_cross_site_post_is_refused_even_with_a_good_token(web: Web) -> None:
    """A browser says where a form came from (Sec-Fetch-Site); a form posted from another
    site is refused even when it carries a valid token."""
    csrf = web.login("hana")
    before = web.size()
    r = web.client.post(
        f"{P}/do/call_stop_work",
        data={"reason": "x", "csrf": csrf},
        headers={"Sec-Fetch-Site": "cross-site"},
    )
    assert r.status_code == 403 and web.size() == before
    r = web.client.post(
        f"{P}/do/call_stop_work",
        data={"reason": "x", "csrf": csrf},
        headers={"Sec-Fetch-Site": "same-origin"},
    )
    assert r.status_code == 200 and web.size() == before + 1


def test_the_api_is_not_under_the_form_check(web: Web) -> None:
    """The JSON API authenticates with a Bearer token a browser never adds by itself, so
    it needs no CSRF token (and a session cookie opens nothing there)."""
    csrf = web.login("hana")
    r = web.client.post(
        "/api/v1/productions/dusty-trail/commands/call_stop_work", json={"reason": "x"}
    )
    assert r.status_code == 401  # the session cookie is not an API login
    token = web.app.state.coldset.accounts.create_token("hana", "t")
    r = web.client.post(
        "/api/v1/productions/dusty-trail/commands/call_stop_work",
        json={"reason": "x"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert r.status_code == 200, r.text
    assert csrf


# ---------------------------------------------------------------- the logged-out token


def test_a_cookie_and_field_pair_the_attacker_made_up_is_refused(web: Web) -> None:
    """Logged out, a double-submit pair the attacker chose (the same value in the cookie
    and the field) is refused on /login and on the concern form: 403, no session, no
    entry."""
    before = web.size()
    web.client.cookies.set(ANON_CSRF_COOKIE, "attacker-chosen-value")
    r = web.client.post(
        "/login",
        data={"login": "hana", "password": PASSWORDS["hana"], "csrf": "attacker-chosen-value"},
        follow_redirects=False,
    )
    assert r.status_code == 403
    assert SESSION_COOKIE not in r.headers.get("set-cookie", "")
    r = web.client.post("/c/dusty-trail", data={"text": "spam", "csrf": "attacker-chosen-value"})
    assert r.status_code == 403 and web.size() == before


def test_a_token_with_a_changed_part_or_from_another_install_is_refused(
    web: Web, tmp_path: Path
) -> None:
    """The token is random plus a MAC under the install's secret: changing the random part,
    or bringing a pair made by another install, is refused."""
    good = csrf_of(web.client.get("/c/dusty-trail").text)
    assert web.client.cookies.get(ANON_CSRF_COOKIE) == good
    rand, mac = good.rsplit(".", 1)
    other = ("A" if rand[0] != "A" else "B") + rand[1:] + "." + mac
    web.client.cookies.set(ANON_CSRF_COOKIE, other)
    assert web.client.post("/c/dusty-trail", data={"text": "t", "csrf": other}).status_code == 403
    from tests.web.conftest import make_install

    inst2 = make_install(tmp_path / "other")
    try:
        with TestClient(create_app(inst2, demo=True)) as c2:
            foreign = csrf_of(c2.get("/login").text)
    finally:
        inst2.close()
    web.client.cookies.set(ANON_CSRF_COOKIE, foreign)
    assert web.client.post("/c/dusty-trail", data={"text": "t", "csrf": foreign}).status_code == 403


def test_an_old_unsigned_cookie_is_replaced_and_the_form_works(web: Web) -> None:
    """A tablet that still holds a logged-out cookie from before (or a forged one) gets a
    new signed one with the next page, and that page's form goes through."""
    web.client.cookies.set(ANON_CSRF_COOKIE, "old-unsigned-token-from-before")
    page = web.client.get("/c/dusty-trail")
    token = csrf_of(page.text)
    assert token != "old-unsigned-token-from-before"
    assert f"{ANON_CSRF_COOKIE}={token}" in page.headers["set-cookie"]
    web.client.cookies.clear()  # what the browser does with the new cookie
    web.client.cookies.set(ANON_CSRF_COOKIE, token)
    r = web.client.post("/c/dusty-trail", data={"text": "The cart was open", "csrf": token})
    assert r.status_code == 200 and "private link" in r.text.lower()


def test_the_secret_is_a_private_file_kept_across_restarts(web: Web) -> None:
    """The secret is made once in the data directory (mode 0600) and read again at the
    next start, so a form opened before a restart still goes through after it."""
    path = web.install.settings.home / "csrf.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    token = csrf_of(web.client.get("/login").text)
    cookies = dict(web.client.cookies)
    with TestClient(create_app(web.install, demo=True, clock=web.clock), cookies=cookies) as c2:
        r = c2.post(
            "/login",
            data={"login": "hana", "password": PASSWORDS["hana"], "csrf": token},
            follow_redirects=False,
        )
        assert r.status_code == 303


def test_a_secret_readable_by_others_refuses_to_start(web: Web) -> None:
    """Like the signing key: a CSRF secret readable by group or others stops the start."""
    path = web.install.settings.home / "csrf.key"
    os.chmod(path, 0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        create_app(web.install, demo=True, clock=web.clock)
