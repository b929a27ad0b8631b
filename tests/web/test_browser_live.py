"""The board in a real Chromium (Debian's, driven by Playwright) against a uvicorn server
this test starts and stops: it says it is live and when it last updated, it says
loudly when the server cannot be reached (and since when), its "... ago" times move
on by themselves (Playwright's clock moves the page's time; nothing sleeps minutes),
and a double tap on "Hand over" records one handoff."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import uvicorn

from coldset.clock import SystemClock
from coldset.domain.sample import PRODUCTION
from coldset.install import Install
from coldset.service.accounts import AccountService
from coldset.service.core import CustodyService
from coldset.service.demo import setup_demo
from coldset.web import create_app
from coldset.web.live import Server
from tests.web.conftest import PASSWORDS, PINS, make_install
from tests.web.test_browser import (
    ARGS,
    CHROMIUM,
    PORTRAIT,
    _free_port,
    fill_checklist,
    login,
    open_container,
    scan,
    shot,
    violations,
    watch,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="Debian's chromium is not installed "
        "(/usr/bin/chromium); apt-get install chromium to run browser tests",
    ),
]


@dataclass
class Running:
    base: str
    server: Server
    thread: threading.Thread
    install: Install

    def service(self) -> CustodyService:
        return CustodyService(
            self.install.store, self.install.ledger, SystemClock(), pins=self.install.pins
        )

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        assert not self.thread.is_alive(), "the server did not stop"


@pytest.fixture
def running(tmp_path: Path) -> Iterator[Running]:
    """A demo install served by uvicorn on a thread (the writer in its own process);
    the test may stop it."""
    install = make_install(tmp_path / "home")
    clock = SystemClock()
    day = datetime.now(ZoneInfo("America/Denver")).date()
    setup_demo(
        CustodyService(install.store, install.ledger, clock, pins=install.pins),
        AccountService(install.store, clock),
        day,
        pins=PINS,
        passwords=PASSWORDS,
    )
    app = create_app(install, demo=True)
    port = _free_port()
    srv = Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    t = threading.Thread(target=srv.run, daemon=True)
    t.start()
    deadline = time.time() + 20
    while not srv.started and time.time() < deadline:
        time.sleep(0.05)
    assert srv.started, "uvicorn did not start"
    r = Running(f"http://127.0.0.1:{port}", srv, t, install)
    yield r
    if t.is_alive():
        r.stop()
    install.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A tablet-sized page whose clock the test controls (it flows until moved)."""
    ctx = browser.new_context(viewport=PORTRAIT, device_scale_factor=1)
    problems = watch(ctx)
    pg = ctx.new_page()
    pg.clock.install()
    yield pg
    if not pg.is_closed():
        problems.extend(violations(pg))
    ctx.close()
    assert problems == [], problems


def status(page: Any) -> tuple[str, str]:
    el = page.locator("#board-status")
    return el.get_attribute("data-state"), " ".join(el.inner_text().split())


def test_the_board_says_when_it_is_offline_and_since_when(running: Running, page: Any) -> None:
    """Live, the status line says so and gives the time of the last update. When the
    server stops, it turns into a loud OFFLINE line that keeps the time of the last
    update, and seven minutes later says "7 min ago" (the page's clock is moved)."""
    login(page, running.base, "hana")
    page.wait_for_selector("#board-status[data-state=live]")
    state, text = status(page)
    assert "Live" in text and re.search(r"Last update \d\d:\d\d:\d\d", text), text
    assert "updates by itself" not in page.inner_text("main")
    last = re.search(r"Last update (\d\d:\d\d:\d\d)", text).group(1)  # type: ignore[union-attr]
    running.stop()
    page.wait_for_selector("#board-status[data-state=offline]", timeout=5000)
    state, text = status(page)
    assert "OFFLINE" in text and "may be out of date" in text
    assert f"Last update {last}" in text, text
    shot(page, "board-offline")
    page.clock.fast_forward("07:00")
    page.wait_for_function(
        "document.getElementById('board-status').innerText.includes('7 min ago')", timeout=5000
    )
    assert status(page)[0] == "offline"
    assert page.locator("#board-status").evaluate(
        "e => getComputedStyle(e).backgroundColor"
    ) != page.locator("main").evaluate("e => getComputedStyle(e).backgroundColor")


def test_a_silent_connection_counts_as_offline(running: Running, page: Any) -> None:
    """A connection that stops carrying anything (a tablet out of Wi-Fi range keeps its
    socket half-open) is not "live": after 40 s with no word from the server (it pings
    every 15 s) the board says OFFLINE, and it comes back live when the server
    answers again."""
    login(page, running.base, "hana")
    page.wait_for_selector("#board-status[data-state=live]")
    page.clock.pause_at(time.time() * 1000 + 1000)  # no real ping reaches the page
    page.clock.fast_forward("00:45")
    page.wait_for_selector("#board-status[data-state=offline]", timeout=5000)
    page.clock.resume()
    page.wait_for_selector("#board-status[data-state=live]", timeout=10000)


def test_relative_times_move_on_by_themselves(running: Running, page: Any) -> None:
    """colt-1 inspected a moment ago reads "... s ago"; with no new entry and no reload,
    two minutes later it reads "2 min ago" and an hour later "1 h 0 min ago"."""
    svc = running.service()
    assert svc.execute(
        {
            "type": "unlock_container",
            "production": PRODUCTION,
            "actor": "hana",
            "container": "safe-main",
        }
    ).ok
    r = svc.execute(
        {
            "type": "inspect",
            "production": PRODUCTION,
            "actor": "hana",
            "firearm": "colt-1",
            "chambers": ["empty"] * 6,
            "barrel_clear": True,
        }
    )
    assert r.ok, r.error
    login(page, running.base, "hana")
    cell = page.locator("tr", has_text="colt-1").locator("[data-age-s]")
    assert re.fullmatch(r"\d+ s ago", cell.inner_text()), cell.inner_text()
    page.clock.fast_forward("02:00")
    page.wait_for_function(
        """() => [...document.querySelectorAll('tr')]
        .find(r => r.innerText.includes('colt-1'))
        .querySelector('[data-age-s]').innerText === '2 min ago'""",
        timeout=7000,
    )
    page.clock.fast_forward("58:00")
    page.wait_for_function(
        """() => [...document.querySelectorAll('tr')]
        .find(r => r.innerText.includes('colt-1'))
        .querySelector('[data-age-s]').innerText === '1 h 0 min ago'""",
        timeout=7000,
    )


def test_the_board_updates_without_polling(running: Running, page: Any) -> None:
    """The page follows the server's event stream and asks for nothing while the board
    does not change (it used to poll every 1.5 s); a container opened on another tablet
    shows on the board within 2 s, without a reload."""
    login(page, running.base, "hana")
    page.wait_for_selector("#board-status[data-state=live]")
    asked: list[str] = []
    page.on("request", lambda req: asked.append(req.url))
    page.wait_for_timeout(4000)
    assert asked == [], asked
    assert "open by" not in page.inner_text("#board")
    other = page.context.new_page()
    t0 = time.monotonic()
    open_container(other, running.base, "safe-main")
    page.wait_for_function(
        "document.getElementById('board').innerText.includes('open by')", timeout=2500
    )
    assert time.monotonic() - t0 < 2.5
    assert [u for u in asked if "/board/fragment" in u], asked
    assert status(page)[0] == "live"
    other.close()


def test_a_double_tap_on_hand_over_records_one_handoff(running: Running, page: Any) -> None:
    """A gloved double tap on "Hand over": one inspect and one issue in the log, and the
    page says it was handed over."""
    login(page, running.base, "hana")
    open_container(page, running.base, "safe-main")
    page.goto(f"{running.base}/p/{PRODUCTION}/handoff?firearm=colt-1")
    fill_checklist(page)
    scan(page, "#performer", "alec")
    page.keyboard.type(PINS["alec"])
    page.click("button[data-value=dave]")
    page.fill("#ad-pin", PINS["dave"])
    before = running.service().state(PRODUCTION).size
    page.dblclick("button:has-text('Hand over')")
    page.wait_for_selector(".done")
    assert "colt-1 handed to alec" in page.inner_text(".done")
    page.wait_for_timeout(500)
    svc = running.service()
    assert svc.state(PRODUCTION).size == before + 2
    rows = [r["command"] for r in svc.timeline(PRODUCTION, "colt-1") if r["idx"] >= before]
    assert rows == ["inspect", "issue"], rows
