"""A real install (SQLite file, signing key) in tmp_path, the demo western, a fixed clock,
and the app through an in-process client."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from coldset.clock import FixedClock
from coldset.config import Settings
from coldset.domain.sample import PEOPLE, PRODUCTION
from coldset.install import Install, init_install, open_install
from coldset.service.accounts import AccountService
from coldset.service.core import CustodyService
from coldset.service.demo import setup_demo
from coldset.web import create_app

DAY = date(2025, 3, 3)
START = datetime(2025, 3, 3, 15, 0, tzinfo=UTC)  # 08:00 in Denver, on the shoot day
PINS = {pid: f"{2000 + i}" for i, pid in enumerate(sorted(PEOPLE))}
PASSWORDS = {pid: f"pw-{pid}-demo" for pid in PEOPLE}
P = f"/p/{PRODUCTION}"


def make_install(home: Path) -> Install:
    settings = Settings.load(home)
    init_install(settings, "test.local")
    return open_install(settings)


def seed(install: Install, clock: FixedClock) -> None:
    setup_demo(
        CustodyService(install.store, install.ledger, clock, pins=install.pins),
        AccountService(install.store, clock),
        DAY,
        pins=PINS,
        passwords=PASSWORDS,
    )


@dataclass
class Web:
    app: FastAPI
    client: TestClient
    clock: FixedClock
    install: Install

    @property
    def state(self) -> Any:
        return self.app.state.coldset.custody.state(PRODUCTION)

    def login(self, who: str, client: TestClient | None = None) -> str:
        c = client or self.client
        r = c.get("/login")
        r = c.post(
            "/login",
            data={"login": who, "password": PASSWORDS[who], "csrf": csrf_of(r.text), "next": "/"},
        )
        assert r.status_code == 200, r.text
        return csrf_of(c.get(f"{P}/board").text)

    def post(self, path: str, data: dict[str, Any], csrf: str | None = None) -> Any:
        body = dict(data)
        if csrf is not None:
            body["csrf"] = csrf
        return self.client.post(path, data=body)

    def size(self) -> int:
        return int(self.state.size)


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', html)
    assert m, "no CSRF field in the page"
    return m.group(1)


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.fixture
def install(tmp_path: Path) -> Iterator[Install]:
    inst = make_install(tmp_path / "home")
    yield inst
    inst.close()


@pytest.fixture
def web(install: Install) -> Iterator[Web]:
    clock = FixedClock(START)
    seed(install, clock)
    app = create_app(install, demo=True, clock=clock)
    with TestClient(app, follow_redirects=True) as client:
        yield Web(app, client, clock, install)


def handoff_form(
    firearm: str = "colt-1",
    performer: str = "alec",
    pin: str | None = None,
    scene: str = "sc-12",
    capacity: int = 6,
    ad: bool = True,
    key: str = "k-1",
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "firearm": firearm,
        "barrel_clear": "1",
        "performer": performer,
        "pin": PINS[performer] if pin is None else pin,
        "scene": scene,
        "idempotency_key": key,
    }
    for i in range(1, capacity + 1):
        data[f"chamber-{i}"] = "empty"
    if ad:
        data["confirm_person"] = "dave"
        data["confirm_pin"] = PINS["dave"]
    return data


def open_safe(web: Web, csrf: str, container: str = "safe-main") -> None:
    r = web.post(f"{P}/do/unlock_container", {"container": container, "next": f"{P}/board"}, csrf)
    assert r.status_code == 200, text_of(r.text)[-400:]
