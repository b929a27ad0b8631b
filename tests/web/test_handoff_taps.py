"""Three taps per handoff, counted in a real Chromium (Debian's, driven by Playwright).

Each common case (a cold revolver, a rifle loaded with blanks for the take, a
revolver loaded with dummies) is handed over on the tablet page as an armorer
does it: a handheld scanner types the tag and presses Enter into whatever field
has the focus (one action), taps are clicks (one action each), and each PIN is
typed by its owner and ended with Enter (a PIN, not an action). The test
asserts at most three actions beyond the PINs, and that the count is exactly
what :func:`coldset.domain.handoff_needs.handoff_actions` (the replay's friction
count) says for the same state. The figures are in docs/web.md.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from coldset.clock import SystemClock
from coldset.domain.handoff_needs import HandoffNeeds, handoff_actions, handoff_needs
from coldset.install import Install
from coldset.service.accounts import AccountService
from coldset.service.core import CustodyService
from coldset.service.demo import setup_demo
from coldset.web import create_app
from tests.web import test_browser as _tb
from tests.web.conftest import PASSWORDS, PINS, make_install
from tests.web.test_browser import CHROMIUM, _free_port, shot

# the browser and tablet-sized page fixtures (the page checks for CSP violations)
browser = _tb.browser
page = _tb.page

PROD = "dusty-trail"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed"),
]


def _cmd(actor: str, type_: str, **fields: Any) -> dict[str, Any]:
    return {"type": type_, "production": PROD, "actor": actor, **fields}


#: what happens before each case's handoff (not counted): the safe opened, rounds loaded
SETUPS: dict[str, list[dict[str, Any]]] = {
    "cold": [_cmd("hana", "unlock_container", container="safe-main")],
    "dummies": [
        _cmd("hana", "unlock_container", container="safe-main"),
        _cmd(
            "hana",
            "load",
            firearm="colt-1",
            lot="dummy-45",
            positions=[1, 2, 3, 4, 5, 6],
            scene="sc-12",
        ),
    ],
    "blanks": [
        _cmd("sam", "unlock_container", container="safe-second"),
        _cmd(
            "sam",
            "load",
            firearm="win-1",
            lot="blank-4440",
            positions=[1, 2],
            scene="sc-14",
            shot=1,
        ),
    ],
    "cold-rifle": [_cmd("sam", "unlock_container", container="safe-second")],
    "six-blanks": [
        _cmd("hana", "unlock_container", container="safe-main"),
        _cmd(
            "hana",
            "load",
            firearm="colt-2",
            lot="blank-45",
            positions=[1, 2, 3, 4, 5, 6],
            scene="sc-20",
            shot=1,
        ),
    ],
}


@dataclass
class Served:
    url: str
    needs: dict[str, HandoffNeeds]  # per firearm, in the state after the setup
    install: Install

    def issued(self, firearm: str) -> int:
        """How many allowed issue entries the log holds for ``firearm``."""
        svc = CustodyService(
            self.install.store, self.install.ledger, SystemClock(), pins=self.install.pins
        )
        return sum(
            1
            for r in svc.timeline(PROD, firearm)
            if r["command"] == "issue" and r["outcome"] == "allowed"
        )


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[[str], Served]]:
    """A server over a demo install after one case's setup (a fresh one per case)."""
    import uvicorn

    started: list[tuple[Any, threading.Thread, Install]] = []

    def start(case: str) -> Served:
        install = make_install(tmp_path / f"home-{case}")
        clock = SystemClock()
        day = datetime.now(ZoneInfo("America/Denver")).date()
        svc = CustodyService(install.store, install.ledger, clock, pins=install.pins)
        setup_demo(svc, AccountService(install.store, clock), day, pins=PINS, passwords=PASSWORDS)
        for c in SETUPS[case]:
            r = svc.execute(c)
            assert r.ok, (c, r.error, r.verdicts)
        state = svc.state(PROD)
        needs = {f: handoff_needs(state, f) for f in state.firearms}
        app = create_app(install, demo=True)
        port = _free_port()
        srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        t = threading.Thread(target=srv.run, daemon=True)
        t.start()
        deadline = time.time() + 10
        while not srv.started and time.time() < deadline:
            time.sleep(0.05)
        assert srv.started, "uvicorn did not start"
        started.append((srv, t, install))
        return Served(f"http://127.0.0.1:{port}", needs, install)

    yield start
    for srv, t, install in started:
        srv.should_exit = True
        t.join(timeout=5)
        install.close()


@dataclass
class Tablet:
    """The armorer's hands on the page: every action is counted (PINs apart)."""

    page: Any
    actions: list[str] = field(default_factory=list)
    pins: int = 0

    def tap(self, selector: str, what: str) -> None:
        self.page.click(selector)
        self.actions.append(what)

    def scan(self, text: str, what: str) -> None:
        """A handheld scanner: types into the focused field and presses Enter."""
        self.page.keyboard.type(text)
        self.page.keyboard.press("Enter")
        self.actions.append(what)

    def pin(self, digits: str) -> None:
        """Its owner types a PIN into the focused field and presses Enter."""
        self.page.keyboard.type(digits)
        self.page.keyboard.press("Enter")
        self.pins += 1

    def focused(self) -> str:
        return str(self.page.evaluate("document.activeElement && document.activeElement.id"))


def login(page: Any, base: str, who: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=login]", who)
    page.fill("input[name=password]", PASSWORDS[who])
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/p/{PROD}/board")


@dataclass(frozen=True)
class Case:
    name: str
    setup: str
    armorer: str
    firearm: str
    seen: tuple[str, ...]
    performer: str
    scene: str
    first_ad: str | None
    badge: bool = False  # the scene's cast has two performers: the badge is scanned


CASES = [
    Case("cold revolver", "cold", "hana", "colt-1", ("empty",) * 6, "alec", "sc-12", "dave"),
    Case(
        "rifle loaded with blanks for the take",
        "blanks",
        "sam",
        "win-1",
        ("blank",) * 2 + ("empty",) * 9,
        "jensen",
        "sc-14",
        None,
    ),
    Case(
        "revolver loaded with dummies",
        "dummies",
        "hana",
        "colt-1",
        ("dummy",) * 6,
        "alec",
        "sc-12",
        "dave",
    ),
    Case(
        "cold rifle (11 positions)",
        "cold-rifle",
        "sam",
        "win-1",
        ("empty",) * 11,
        "jensen",
        "sc-14",
        None,
    ),
    Case(
        "revolver with six blanks, two performers in the scene",
        "six-blanks",
        "hana",
        "colt-2",
        ("blank",) * 6,
        "frances",
        "sc-20",
        "dave",
        badge=True,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.setup for c in CASES])
def test_a_common_handoff_takes_at_most_three_actions(
    serve: Callable[[str], Served], page: Any, case: Case
) -> None:
    """Scan the tag, confirm the positions the record expects in one tap, tick the
    barrel, the PINs (the performer and the 1st AD are the scene's, pre-selected; the
    performer's Enter moves to the 1st AD's PIN, theirs hands over): the firearm is
    handed over in at most 3 actions beyond the PINs, exactly as many as the shared
    action model counts (the replay's friction count). When the scene's cast has two
    performers, the focus is in the badge field and the scan of the badge is the 4th."""
    s = serve(case.setup)
    login(page, s.url, case.armorer)
    page.goto(f"{s.url}/p/{PROD}/handoff")
    t = Tablet(page)
    assert t.focused() == "firearm"
    t.scan(case.firearm, "scan the firearm's tag")
    page.wait_for_url(f"**/handoff?firearm={case.firearm}")
    # every position is on screen with what the record expects
    expected = page.eval_on_selector_all(
        ".position[data-expected]", "els => els.map(e => e.dataset.expected)"
    )
    assert tuple(expected) == case.seen
    t.tap("button[data-fill-record]", "confirm the positions")
    t.tap("input[name=barrel_clear] + span", "barrel clear")
    assert page.is_hidden("#mismatch")
    if case.badge:
        assert t.focused() == "performer"
        t.scan(case.performer, "scan the performer's badge")
    assert t.focused() == "pin"
    t.pin(PINS[case.performer])
    if case.first_ad:
        assert t.focused() == "ad-pin"  # not sent (and refused) without the 1st AD
        t.pin(PINS[case.first_ad])
    page.wait_for_selector(".done")
    assert f"{case.firearm} handed to {case.performer}" in page.inner_text(".done")
    shot(page, f"handoff-taps-{case.setup}")
    model = handoff_actions(
        s.needs[case.firearm],
        case.seen,
        to=case.performer,
        scene=case.scene,
        first_ad=case.first_ad,
    )
    assert t.actions == list(model.actions) and t.pins == model.pins
    assert len(t.actions) <= (4 if case.badge else 3), t.actions


def test_a_difference_from_the_record_is_the_loudest_thing(
    serve: Callable[[str], Served], page: Any
) -> None:
    """colt-1 loaded with dummies: the armorer marks chamber 3 live. The position turns
    red and a banner that stays in view says "Chamber 3: you see LIVE — the record says
    dummy"; the handoff is then refused (no-live-ammo) and the banner is still there on
    the form that comes back."""
    s = serve("dummies")
    login(page, s.url, "hana")
    page.goto(f"{s.url}/p/{PROD}/handoff?firearm=colt-1")
    page.click("button[data-fill-record]")
    assert page.is_hidden("#mismatch")
    page.click("input[name=chamber-3][value=live] + span")
    assert page.is_visible("#mismatch")
    text = page.inner_text("#mismatch")
    assert "Chamber 3: you see LIVE" in text and "the record says dummy" in text
    assert "differs" in (page.get_attribute(".position[data-label='Chamber 3']", "class") or "")
    banner = page.eval_on_selector("#mismatch", "e => getComputedStyle(e).position")
    assert banner == "sticky"
    shot(page, "handoff-differs-from-record")
    page.click("input[name=barrel_clear] + span")
    page.keyboard.type(PINS["alec"])
    page.keyboard.press("Enter")
    page.keyboard.type(PINS["dave"])
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    assert page.locator(".done").count() == 0
    assert s.issued("colt-1") == 0


def test_scanned_badge_replaces_the_preselected_performer_and_tags_ignore_case(
    serve: Callable[[str], Served], page: Any
) -> None:
    """A tag typed in capitals opens colt-1; a badge scanned into the pre-selected
    performer field replaces it (never "alecALEC"), in capitals too, and hands over."""
    s = serve("cold")
    login(page, s.url, "hana")
    page.goto(f"{s.url}/p/{PROD}/handoff")
    page.keyboard.type("COLT-1")
    page.keyboard.press("Enter")
    page.wait_for_url("**/handoff?firearm=COLT-1")
    assert page.inner_text(".firearm-head .tag") == "colt-1"
    assert page.input_value("#performer") == "alec"
    page.click("[data-all-empty]")
    page.click("input[name=barrel_clear] + span")
    page.focus("#performer")
    page.keyboard.type("ALEC")
    page.keyboard.press("Enter")
    assert page.input_value("#performer") == "ALEC"
    page.keyboard.type(PINS["alec"])
    page.keyboard.press("Enter")
    page.keyboard.type(PINS["dave"])
    page.keyboard.press("Enter")
    page.wait_for_selector(".done")
    assert "colt-1 handed to alec" in page.inner_text(".done")


def test_a_double_tap_on_hand_over_writes_one_entry(
    serve: Callable[[str], Served], page: Any
) -> None:
    """Two quick taps on "Hand over": one issue in the log."""
    s = serve("cold")
    login(page, s.url, "hana")
    page.goto(f"{s.url}/p/{PROD}/handoff?firearm=colt-1")
    page.click("button[data-fill-record]")
    page.click("input[name=barrel_clear] + span")
    page.fill("#pin", PINS["alec"])
    page.fill("#ad-pin", PINS["dave"])
    page.dblclick("button:has-text('Hand over')")
    page.wait_for_selector(".done")
    assert s.issued("colt-1") == 1


def test_collecting_back_offers_the_inspection(serve: Callable[[str], Served], page: Any) -> None:
    """After a handoff, scanning colt-1 again offers to collect it from Alec with the
    checklist: confirming it records the collect and the inspection, and the page is
    the next take's handoff with the same scene and performer pre-selected: two actions
    beyond the PINs, as the replay's friction count says for a take after a collect."""
    s = serve("cold")
    login(page, s.url, "hana")
    page.goto(f"{s.url}/p/{PROD}/handoff?firearm=colt-1")
    page.click("button[data-fill-record]")
    page.click("input[name=barrel_clear] + span")
    page.keyboard.type(PINS["alec"])
    page.keyboard.press("Enter")
    page.keyboard.type(PINS["dave"])
    page.keyboard.press("Enter")
    page.wait_for_selector(".done")
    page.goto(f"{s.url}/p/{PROD}/handoff")
    t = Tablet(page)
    t.scan("colt-1", "scan the firearm's tag")
    page.wait_for_selector("#collect-form")
    assert "with Alec Barrow" in page.inner_text("#collect-form")
    t.tap("#collect-form button[data-fill-record]", "confirm the positions")
    t.tap("#collect-form input[name=barrel_clear] + span", "barrel clear")
    t.tap("button:has-text('Collect and record the inspection')", "collect")
    page.wait_for_selector("#handoff-form")
    assert "recorded what you saw" in page.inner_text("body")
    shot(page, "collect-with-inspection")
    model = handoff_actions(s.needs["colt-1"], ("empty",) * 6, to="", scene=None, collect=True)
    assert t.actions == list(model.actions)
    # the next take: the form is open, Alec and sc-12 pre-selected
    state = CustodyService(
        s.install.store, s.install.ledger, SystemClock(), pins=s.install.pins
    ).state(PROD)
    needs = handoff_needs(state, "colt-1", "sc-12", "alec")
    assert page.input_value("#performer") == "alec"
    assert page.is_checked("input[name=scene][value=sc-12]")
    t2 = Tablet(page)
    t2.tap("button[data-fill-record]", "confirm the positions")
    t2.tap("input[name=barrel_clear] + span", "barrel clear")
    t2.pin(PINS["alec"])
    t2.pin(PINS["dave"])
    page.wait_for_selector(".done")
    model = handoff_actions(
        needs, ("empty",) * 6, to="alec", scene="sc-12", first_ad="dave", tag_scanned=False
    )
    assert t2.actions == list(model.actions) and t2.pins == model.pins == 2
    assert len(t2.actions) == 2


def test_the_handoff_works_without_the_script(serve: Callable[[str], Served], browser: Any) -> None:
    """Script off: every position is ticked by hand, the badges are in the form already,
    the PINs typed; Enter in the performer's PIN does not send a form the 1st AD has not
    confirmed (the browser's own check of the required field); "Hand over" hands over."""
    s = serve("cold")
    ctx = browser.new_context(viewport={"width": 768, "height": 1024}, java_script_enabled=False)
    pg = ctx.new_page()
    try:
        login(pg, s.url, "hana")
        pg.goto(f"{s.url}/p/{PROD}/handoff?firearm=colt-1")
        for i in range(1, 7):
            pg.click(f"input[name=chamber-{i}][value=empty] + span")
        pg.click("input[name=barrel_clear] + span")
        pg.fill("#pin", PINS["alec"])
        pg.press("#pin", "Enter")
        assert pg.locator("#handoff-form").count() == 1 and s.issued("colt-1") == 0
        pg.fill("#ad-pin", PINS["dave"])
        pg.click("button:has-text('Hand over')")
        pg.wait_for_selector(".done")
        assert "colt-1 handed to alec" in pg.inner_text(".done")
    finally:
        ctx.close()
