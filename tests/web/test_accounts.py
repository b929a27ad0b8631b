"""Logins, sessions, cookies, lock-out, and the settings that refuse an unsafe start."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from coldset.clock import FixedClock
from coldset.config import ConfigError
from coldset.install import Install
from coldset.service.accounts import AccountError, AccountService, LoginFailed
from coldset.web import create_app
from tests.web.conftest import PASSWORDS, START, P, Web, csrf_of, make_install, seed


def test_session_cookie_is_httponly_and_samesite(web: Web) -> None:
    """The session cookie is HttpOnly and SameSite=Lax (not Secure over plain HTTP)."""
    r = web.client.get("/login")
    r = web.client.post(
        "/login",
        follow_redirects=False,
        data={"login": "hana", "password": PASSWORDS["hana"], "csrf": csrf_of(r.text)},
    )
    cookie = r.headers["set-cookie"]
    assert "coldset_session=" in cookie and "HttpOnly" in cookie
    assert "samesite=lax" in cookie.lower() and "Secure" not in cookie


def test_session_cookie_is_secure_over_https(web: Web) -> None:
    """Over HTTPS the cookie is also Secure."""
    with TestClient(web.app, base_url="https://testserver") as c:
        r = c.get("/login")
        r = c.post(
            "/login",
            follow_redirects=False,
            data={"login": "hana", "password": PASSWORDS["hana"], "csrf": csrf_of(r.text)},
        )
        assert "Secure" in r.headers["set-cookie"]


def test_wrong_password_is_401_and_login_without_csrf_is_403(web: Web) -> None:
    """A wrong password shows the form again (401); a login post without CSRF is 403."""
    r = web.client.get("/login")
    r = web.client.post(
        "/login", data={"login": "hana", "password": "nope", "csrf": csrf_of(r.text)}
    )
    assert r.status_code == 401 and "wrong login or password" in r.text
    r = web.client.post("/login", data={"login": "hana", "password": PASSWORDS["hana"]})
    assert r.status_code == 403


def test_lockout_after_five_wrong_passwords(web: Web) -> None:
    """Five wrong passwords lock the login for 15 minutes, even for the right password."""
    accounts: AccountService = web.app.state.coldset.accounts
    for _ in range(5):
        with pytest.raises(LoginFailed):
            accounts.login("hana", "wrong")
    with pytest.raises(LoginFailed, match="locked"):
        accounts.login("hana", PASSWORDS["hana"])
    web.clock.advance(minutes=16)
    accounts.login("hana", PASSWORDS["hana"])


def test_logout_ends_the_session(web: Web) -> None:
    """After logout the old cookie no longer opens pages; logout needs its CSRF token."""
    csrf = web.login("hana")
    assert web.client.post("/logout", data={}).status_code == 403
    token = web.client.cookies.get("coldset_session")
    web.client.post("/logout", data={"csrf": csrf})
    web.client.cookies.set("coldset_session", token)
    r = web.client.get(f"{P}/board", follow_redirects=False)
    assert r.status_code == 303


def test_session_expires(web: Web) -> None:
    """A session older than a long shoot day is over."""
    web.login("hana")
    web.clock.advance(hours=17)
    assert web.client.get(f"{P}/board", follow_redirects=False).status_code == 303


def test_account_rules(install: Install) -> None:
    """Logins are lower-case tags; real passwords have at least 10 characters; no duplicates."""
    accounts = AccountService(install.store, FixedClock(START))
    with pytest.raises(AccountError):
        accounts.create("Bad Login", "X", "long-enough-pw")
    with pytest.raises(AccountError):
        accounts.create("shorty", "X", "short")
    accounts.create("okay", "Okay", "long-enough-pw")
    with pytest.raises(AccountError):
        accounts.create("okay", "Okay", "long-enough-pw")
    with pytest.raises(LoginFailed):
        accounts.login("nobody", "whatever")


def test_production_server_refuses_demo_logins(install: Install) -> None:
    """create_app without demo refuses an install with demo logins; --demo accepts it."""
    seed(install, FixedClock(START))
    with pytest.raises(ConfigError, match="demo"):
        create_app(install, demo=False)
    create_app(install, demo=True)


def test_production_server_refuses_a_readable_key(install: Install) -> None:
    """A signing key readable by others: the server refuses to start."""
    key = Path(install.settings.key_path)
    os.chmod(key, 0o644)
    with pytest.raises(ConfigError, match="readable"):
        create_app(install, demo=False)
    os.chmod(key, 0o600)
    create_app(install, demo=False)


def test_production_server_has_no_demo_banner(tmp_path: Path) -> None:
    """A real install with a real login: no DEMO banner."""
    inst = make_install(tmp_path / "real")
    accounts = AccountService(inst.store, FixedClock(START))
    accounts.create("ann", "Ann Armorer", "a-real-password")
    with TestClient(create_app(inst, clock=FixedClock(START))) as c:
        r = c.get("/login")
        assert r.status_code == 200 and 'class="demo-banner"' not in r.text
    inst.close()


def test_set_password_turns_a_demo_login_real(install: Install) -> None:
    """Giving every demo login a real password lets the production server start."""
    clock = FixedClock(START)
    seed(install, clock)
    accounts = AccountService(install.store, clock)
    for login in accounts.demo_accounts():
        accounts.set_password(login, "a-real-password-" + login)
    create_app(install, demo=False)
    assert accounts.demo_accounts() == []
