"""What makes the server fast must not make it wrong: the auth cache (a revoked token,
a changed link or password takes effect), the state loaded at startup, PINs checked
off the writer (which still decides), and the one command route."""

from __future__ import annotations

import time
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text, update

from coldset.clock import FixedClock
from coldset.domain.commands import CommandBase, parse_command
from coldset.domain.sample import PRODUCTION
from coldset.install import Install
from coldset.service import accounts as accounts_mod
from coldset.service import pins as pinstore
from coldset.service.accounts import AccountService
from coldset.service.command_queue import CommandQueue
from coldset.store import pins as pinhash
from coldset.store.custody_schema import custody_people
from coldset.web import create_app
from tests.web.conftest import PINS, START, Web, seed

API = "/api/v1/productions"


def _bearer(tok: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {tok}"}


def _person_on(web: Web, tok: str) -> Any:
    r = web.client.get(API, headers=_bearer(tok))
    if r.status_code != 200:
        return r.status_code
    return {p["production"]: p["person"] for p in r.json()["productions"]}[PRODUCTION]


def test_revoked_token_is_refused_at_once_though_it_was_cached(web: Web) -> None:
    """A token used (and so cached), then revoked through ANOTHER AccountService of this
    process: the very next request is 401."""
    tok = web.app.state.coldset.accounts.create_token("hana", "t")
    assert _person_on(web, tok) == "hana"
    assert _person_on(web, tok) == "hana"  # served from the cache
    assert AccountService(web.install.store, web.clock).revoke_token(tok)
    assert _person_on(web, tok) == 401


def test_relinking_a_login_takes_effect_at_once(web: Web) -> None:
    """The person a token acts as comes from the account link; a new link is used at once."""
    accounts = web.app.state.coldset.accounts
    tok = accounts.create_token("hana", "t")
    assert _person_on(web, tok) == "hana"
    AccountService(web.install.store, web.clock).link("hana", PRODUCTION, "lee")
    assert _person_on(web, tok) == "lee"


def test_a_change_by_another_process_takes_effect_within_the_cache_time(
    web: Web, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A revocation written by another process (here: straight into the database) is
    seen within AUTH_CACHE_FOR seconds."""
    monkeypatch.setattr(accounts_mod, "AUTH_CACHE_FOR", 0.05)
    tok = web.app.state.coldset.accounts.create_token("hana", "t")
    assert _person_on(web, tok) == "hana"
    other = create_engine(str(web.install.store.engine.url))
    with other.begin() as conn:
        conn.execute(
            update(accounts_mod.account_tokens)
            .where(accounts_mod.account_tokens.c.login == "hana")
            .values(revoked_at="2025-03-03T15:00:00.000Z")
        )
    other.dispose()
    time.sleep(0.1)
    assert _person_on(web, tok) == 401


def test_a_new_password_ends_cached_sessions_at_once(web: Web) -> None:
    web.login("hana")
    assert web.client.get(f"/p/{PRODUCTION}/board", follow_redirects=False).status_code == 200
    AccountService(web.install.store, web.clock).set_password("hana", "a-new-long-password")
    assert web.client.get(f"/p/{PRODUCTION}/board", follow_redirects=False).status_code == 303


def test_a_cached_session_still_expires(web: Web) -> None:
    web.login("hana")
    assert web.client.get(f"/p/{PRODUCTION}/board", follow_redirects=False).status_code == 200
    web.clock.advance(hours=17)
    assert web.client.get(f"/p/{PRODUCTION}/board", follow_redirects=False).status_code == 303


def test_startup_loads_every_production_before_the_first_request(
    install: Install, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The app's startup folds every production's log (the first command does not)."""
    clock = FixedClock(START)
    seed(install, clock)
    app = create_app(install, demo=True, clock=clock)
    custody = app.state.coldset.custody
    assert custody._states == {}  # nothing loaded yet
    with TestClient(app):
        loaded = dict(custody._states)
    assert PRODUCTION in loaded
    with install.store.read() as conn:
        size = install.ledger.size(conn, custody.origin(PRODUCTION))
    assert loaded[PRODUCTION].size == size > 0


def _stored_hash(install: Install, person: str) -> str:
    with install.store.read() as conn:
        return pinstore.stored_hashes(conn, PRODUCTION, [person])[person]


def _issue(confirmations: list[dict[str, str]]) -> CommandBase:
    """A parsed issue (what the writer receives) carrying ``confirmations``."""
    return parse_command(
        {
            "type": "issue",
            "production": PRODUCTION,
            "actor": "hana",
            "firearm": "colt-1",
            "to": "alec",
            "scene": "sc-12",
            "confirmations": confirmations,
        }
    )


class _NoArgon2:
    """Stands in for the argon2 hasher: any verification that reaches it is counted."""

    def __init__(self) -> None:
        self.calls = 0

    def verify(self, stored: str, pin: bytes | str) -> bool:
        self.calls += 1
        raise AssertionError("argon2 was called")


def test_pins_are_checked_off_the_writer(web: Web, monkeypatch: pytest.MonkeyPatch) -> None:
    """warm_pins verifies a right PIN once (in the caller's thread); the writer's own
    check is then a cache hit. A wrong PIN is not remembered."""
    queue = CommandQueue(web.app.state.coldset.custody)  # what the writer process runs
    cmd = _issue([{"person": "alec", "pin": PINS["alec"]}, {"person": "dave", "pin": "0000"}])
    assert queue.needs_pin_check(cmd, None)
    queue.warm_pins(cmd)
    fake = _NoArgon2()
    monkeypatch.setattr(pinhash, "_HASHER", fake)  # the hasher lives in store.pins
    pins = web.app.state.coldset.custody.pin_cache
    assert pins.check(_stored_hash(web.install, "alec"), PRODUCTION, "alec", PINS["alec"])  # cached
    assert queue.needs_pin_check(cmd, None)  # dave's wrong PIN: still to check
    with pytest.raises(AssertionError):
        pins.check(_stored_hash(web.install, "dave"), PRODUCTION, "dave", "0000")
    right = _issue([{"person": "alec", "pin": PINS["alec"]}])
    assert not queue.needs_pin_check(right, None)
    raw = {
        "type": "issue",
        "production": PRODUCTION,
        "actor": "hana",
        "confirmations": True,
    }  # what a client sent, unparsed: never looked into
    assert not queue.needs_pin_check(raw, None)


def test_a_locked_pin_is_never_checked_off_the_writer(
    web: Web, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No argon2 for a person whose PIN is locked (the time of an answer must not tell
    a right PIN), and what was remembered for them is forgotten."""
    queue = CommandQueue(web.app.state.coldset.custody)  # what the writer process runs
    cmd = _issue([{"person": "alec", "pin": PINS["alec"]}])
    queue.warm_pins(cmd)
    assert not queue.needs_pin_check(cmd, None)
    with web.install.store.write() as conn:
        conn.execute(
            update(custody_people)
            .where(custody_people.c.production == PRODUCTION, custody_people.c.id == "alec")
            .values(pin_locked=True)
        )
    fake = _NoArgon2()
    monkeypatch.setattr(pinhash, "_HASHER", fake)  # the hasher lives in store.pins
    other = _issue([{"person": "alec", "pin": "9999"}])
    queue.warm_pins(other)
    assert fake.calls == 0
    assert queue.needs_pin_check(cmd, None)  # forgotten


def test_the_writer_still_decides_a_wrong_pin(web: Web) -> None:
    """A wrong PIN through the API: refused by the service as before (403 credential)."""
    h = _bearer(web.app.state.coldset.accounts.create_token("hana", "t"))
    base = f"{API}/{PRODUCTION}/commands"
    assert (
        web.client.post(
            f"{base}/unlock_container", json={"container": "safe-main"}, headers=h
        ).status_code
        == 200
    )
    assert (
        web.client.post(
            f"{base}/inspect",
            json={"firearm": "colt-1", "chambers": ["empty"] * 6, "barrel_clear": True},
            headers=h,
        ).status_code
        == 200
    )
    r = web.client.post(
        f"{base}/issue",
        headers=h,
        json={
            "firearm": "colt-1",
            "to": "alec",
            "scene": "sc-12",
            "confirmations": [
                {"person": "alec", "pin": "0000"},
                {"person": "dave", "pin": PINS["dave"]},
            ],
        },
    )
    assert r.status_code == 403 and r.json()["error_kind"] == "credential", r.json()


def test_one_route_serves_every_command_and_unknown_ones_stay_404(web: Web) -> None:
    h = _bearer(web.app.state.coldset.accounts.create_token("hana", "t"))
    base = f"{API}/{PRODUCTION}/commands"
    assert web.client.post(f"{base}/no_such_command", json={}, headers=h).status_code == 404
    assert web.client.post(f"{base}/inspect/x", json={}, headers=h).status_code == 404
    assert web.client.get(f"{base}/inspect", headers=h).status_code == 405
    r = web.client.post(f"{base}/inspect", json={"firearm": "colt-1"}, headers=h)
    assert r.status_code == 422 and r.json()["error_kind"] == "malformed"
    # the command route comes before every router of pages (only the docs and /static before)
    paths = [getattr(r, "path", None) for r in web.app.router.routes]
    at = paths.index(f"{API}/{{production}}/commands/{{command:coldset_command}}")
    assert all(
        p is not None and p.startswith(("/api/", "/docs/", "/static")) for p in paths[:at]
    ), paths[:at]


def test_sqlite_settings_are_untouched(web: Web) -> None:
    """Durability is not traded for speed: WAL and synchronous=FULL on every connection."""
    with web.install.store.read() as conn:
        assert conn.execute(text("PRAGMA synchronous")).scalar() == 2
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
