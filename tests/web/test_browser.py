"""In a real Chromium (Debian's, driven by Playwright) against a uvicorn server this test
starts on 127.0.0.1: a handoff with a typed barcode tag, a refusal, an override, stop-work,
the anonymous concern form. Screenshots of each main page at tablet size go to
test-artifacts/screenshots/."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from coldset.clock import SystemClock
from coldset.install import Install
from coldset.service.accounts import AccountService
from coldset.service.core import CustodyService
from coldset.service.demo import setup_demo
from coldset.web import create_app
from coldset.web.live import Server
from tests.web.conftest import PASSWORDS, PINS, make_install

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PORTRAIT = {"width": 768, "height": 1024}
LANDSCAPE = {"width": 1280, "height": 800}

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="Debian's chromium is not installed "
        "(/usr/bin/chromium); apt-get install chromium to run browser tests",
    ),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """A fresh uvicorn server per test (tests run in random order) over a demo install,
    with the wall clock (the shoot day is today)."""
    import uvicorn

    install: Install = make_install(tmp_path / "home")
    clock = SystemClock()
    day = datetime.now(ZoneInfo("America/Denver")).date()
    setup_demo(
        CustodyService(install.store, install.ledger, clock, pins=install.pins),
        AccountService(install.store, clock),
        day,
        pins=PINS,
        passwords=PASSWORDS,
    )
    # the writer in a process of its own, as `coldset serve` runs it (the wall clock)
    app = create_app(install, demo=True)
    port = _free_port()
    srv = Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    t = threading.Thread(target=srv.run, daemon=True)
    t.start()
    deadline = time.time() + 10
    while not srv.started and time.time() < deadline:
        time.sleep(0.05)
    assert srv.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    t.join(timeout=5)
    install.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        yield b
        b.close()


#: runs before any page script (not subject to the page's CSP): records every CSP
#: violation the page reports, and stands in for the print dialog
WATCH = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " " + e.blockedURI + " " + e.sourceFile + ":" +
                    e.lineNumber);
});
window.__printed = 0;
window.print = function () { window.__printed += 1; };
"""


def watch(ctx: Any) -> list[str]:
    """What a context's pages say is wrong: CSP or Permissions-Policy messages in the
    console, and uncaught script errors. Every page of the context is watched."""
    problems: list[str] = []
    ctx.add_init_script(WATCH)

    def on_console(msg: Any) -> None:
        text = msg.text
        if "Content Security Policy" in text or "Permissions-Policy" in text:
            problems.append(text)

    def on_page(pg: Any) -> None:
        pg.on("console", on_console)
        pg.on("pageerror", lambda e: problems.append(f"script error: {e}"))

    ctx.on("page", on_page)
    return problems


def violations(page: Any) -> list[str]:
    """The CSP violations the page's own listener saw. A test may end on a click that is
    still navigating: then wait for the new page and read it there."""
    for _ in range(3):
        try:
            page.wait_for_load_state()
            found: list[str] = page.evaluate("window.__csp || []")
            return found
        except Exception as e:  # the context was replaced by a navigation in flight
            if "context was destroyed" not in str(e):
                raise
    return list(page.evaluate("window.__csp || []"))


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A tablet-sized page; after the test, no page of it reported a CSP violation."""
    ctx = browser.new_context(viewport=PORTRAIT, device_scale_factor=1)
    problems = watch(ctx)
    pg = ctx.new_page()
    yield pg
    if not pg.is_closed():
        problems.extend(violations(pg))
    ctx.close()
    assert problems == [], problems


def shot(page: Any, name: str, full_page: bool = False) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full_page)


def login(page: Any, base: str, who: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=login]", who)
    page.fill("input[name=password]", PASSWORDS[who])
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/p/dusty-trail/board")


def open_container(page: Any, base: str, container: str) -> None:
    """Open a container (tests share one server: it may be open already)."""
    page.goto(f"{base}/p/dusty-trail/inventory")
    button = page.locator(
        "form", has=page.locator(f"input[name=container][value={container}]")
    ).get_by_role("button", name="Open")
    if button.count():
        button.click()
        page.wait_for_url(f"{base}/p/dusty-trail/inventory")


def scan(page: Any, selector: str, text: str) -> None:
    """What a handheld scanner does: types into the focused field and presses Enter."""
    page.focus(selector)
    page.keyboard.type(text)
    page.keyboard.press("Enter")


def fill_checklist(page: Any) -> None:
    page.click("[data-all-empty]")
    page.check("input[name=barrel_clear]")


def test_full_handoff_with_a_scanned_tag(server: str, page: Any) -> None:
    """Scan colt-1, tick the checklist, scan alec's badge (Enter moves to the PIN), PIN,
    1st AD confirms: done, and the board shows colt-1 with alec."""
    login(page, server, "hana")
    shot(page, "board-portrait")
    open_container(page, server, "safe-main")
    page.goto(f"{server}/p/dusty-trail/handoff")
    shot(page, "handoff-scan")
    scan(page, "#firearm", "colt-1")
    page.wait_for_url("**/handoff?firearm=colt-1")
    fill_checklist(page)
    shot(page, "handoff-checklist")
    scan(page, "#performer", "alec")
    assert page.evaluate("document.activeElement.id") == "pin"  # Enter moved on, no submit
    page.keyboard.type(PINS["alec"])
    page.click("button[data-value=dave]")
    page.fill("#ad-pin", PINS["dave"])
    page.click("button:has-text('Hand over')")
    page.wait_for_selector(".done")
    assert "colt-1 handed to alec" in page.inner_text(".done")
    shot(page, "handoff-done")
    page.goto(f"{server}/p/dusty-trail/board")
    assert "with alec" in page.inner_text("#board")
    page.set_viewport_size(LANDSCAPE)
    shot(page, "board-landscape")


def test_a_wrong_pin_keeps_the_checklist(server: str, page: Any) -> None:
    """A mistyped PIN: the checklist comes back ticked, the badges kept, the cursor in the
    PIN field; typing the right PIN hands the firearm over."""
    login(page, server, "hana")
    open_container(page, server, "safe-main")
    page.goto(f"{server}/p/dusty-trail/handoff?firearm=colt-1")
    fill_checklist(page)
    page.check("input[name=chamber-4][value=dummy]")
    scan(page, "#performer", "alec")
    page.keyboard.type("0000")
    page.click("button[data-value=dave]")
    page.fill("#ad-pin", PINS["dave"])
    page.click("button:has-text('Hand over')")
    page.wait_for_selector("#handoff-problem")
    assert "PIN not accepted" in page.inner_text("#handoff-problem")
    assert page.is_checked("input[name=chamber-4][value=dummy]")
    assert page.is_checked("input[name=chamber-1][value=empty]")
    assert page.is_checked("input[name=barrel_clear]")
    assert page.input_value("#performer") == "alec" and page.input_value("#pin") == ""
    assert page.evaluate("document.activeElement.id") == "pin"
    shot(page, "handoff-wrong-pin")
    shot(page, "handoff-wrong-pin-full", full_page=True)
    page.keyboard.type(PINS["alec"])
    page.fill("#ad-pin", PINS["dave"])
    page.click("button:has-text('Hand over')")
    page.wait_for_selector(".done")
    assert "colt-1 handed to alec" in page.inner_text(".done")


def test_a_rejected_form_comes_back_filled_in(server: str, page: Any) -> None:
    """People page: a badge id already taken is rejected; "Back and fix" shows the same
    form with the name and role as typed (the PIN empty), highlighted; a new id adds them."""
    login(page, server, "maria")
    page.goto(f"{server}/p/dusty-trail/people")
    form = page.locator('form[action$="/do/add_person"]')
    form.locator("input[name=person]").fill("alec")
    form.locator("input[name=name]").fill("Alec Understudy")
    form.locator("select[name=roles]").select_option("crew")
    form.locator("input[name=pin]").fill("8642")
    form.get_by_role("button", name="Add person").click()
    page.wait_for_selector(".problem")
    assert "Already exists" in page.inner_text(".problem")
    page.click("text=Back and fix")
    page.wait_for_selector("form.again")
    form = page.locator('form[action$="/do/add_person"]')
    assert "Already exists" in form.locator("p.error").inner_text()
    assert form.locator("input[name=name]").input_value() == "Alec Understudy"
    assert form.locator("select[name=roles]").input_value() == "crew"
    assert form.locator("input[name=person]").input_value() == "alec"
    assert form.locator("input[name=pin]").input_value() == ""
    shot(page, "form-again")
    form.locator("input[name=person]").fill("alec-2")
    form.locator("input[name=pin]").fill("8642")
    form.get_by_role("button", name="Add person").click()
    page.wait_for_selector(".flash")
    assert "add person" in page.inner_text(".flash").lower()


def test_refusal_shows_rules_and_override_goes_through(server: str, page: Any) -> None:
    """colt-2 as an insert in sc-12 (whose plan does not list it): the refusal names
    scene-bound with its reason and source; the override (reason + the safety contact's
    PIN) issues it."""
    login(page, server, "hana")
    open_container(page, server, "safe-main")
    page.goto(f"{server}/p/dusty-trail/handoff?firearm=colt-2")
    fill_checklist(page)
    page.click("summary:has-text('Insert')")
    page.click("input[name=scene][value=sc-12] + span")
    scan(page, "#performer", "alec")
    page.keyboard.type(PINS["alec"])
    page.fill("#ad", "dave")
    page.fill("#ad-pin", PINS["dave"])
    page.click("button:has-text('Hand over')")
    page.wait_for_selector(".refused")
    text = page.inner_text(".refused")
    assert "scene-bound" in text and "Source:" in text
    shot(page, "refusal")
    page.fill("textarea[name=override_reason]", "Insert shot added by the director")
    for i, pin in enumerate(page.locator("input[name=confirm_pin]").all()):
        who = page.locator("input[name=confirm_person]").nth(i).get_attribute("value")
        pin.fill(PINS[who])
    page.fill("input[name=override_person]", "lee")
    page.fill("input[name=override_pin]", PINS["lee"])
    shot(page, "override")
    page.click("button:has-text('Override and do it')")
    page.wait_for_url("**/handoff")
    page.goto(f"{server}/p/dusty-trail/board")
    assert page.locator("tr", has_text="colt-2").filter(has_text="with alec").count() == 1


def test_stop_work_shows_on_another_tablets_board(server: str, browser: Any) -> None:
    """A performer presses STOP WORK; the armorer's open board shows it within 2 s."""
    armorer = browser.new_context(viewport=LANDSCAPE).new_page()
    login(armorer, server, "hana")
    performer = browser.new_context(viewport=PORTRAIT).new_page()
    login(performer, server, "jensen")
    performer.goto(f"{server}/p/dusty-trail/safety")
    shot(performer, "safety")
    performer.click("#stop-work")
    performer.wait_for_selector(".alarm")
    t0 = time.monotonic()
    armorer.wait_for_selector(".alarm", timeout=2500)
    assert time.monotonic() - t0 < 2.5
    shot(armorer, "board-stop-work")
    armorer.context.close()
    performer.context.close()


def test_anonymous_concern(server: str, page: Any) -> None:
    """Logged out: the concern form sends; the private link shows it is awaiting an answer."""
    page.goto(f"{server}/c/dusty-trail")
    shot(page, "concern")
    page.fill("textarea[name=text]", "Blanks box left on the cart during lunch")
    page.click("button:has-text('Send concern')")
    link = page.locator("#private-link")
    link.click()
    assert "Not answered yet" in page.inner_text("#answer")


def test_screenshots_of_main_pages(server: str, page: Any) -> None:
    """Each main page renders at 768x1024 in day and night mode (saved for a look)."""
    login(page, server, "hana")
    for name in ("inventory", "handling", "scenes", "people", "meeting", "training", "labels"):
        page.goto(f"{server}/p/dusty-trail/{name}")
        assert page.locator("main").is_visible()
        shot(page, name)
    page.click("[data-theme-toggle]")
    page.goto(f"{server}/p/dusty-trail/board")
    assert page.evaluate("document.documentElement.dataset.theme") in ("dark", "light")
    shot(page, "board-night")


def test_targets_are_at_least_48px(server: str, page: Any) -> None:
    """Every visible button and text field on the handoff page is at least 48 px tall."""
    login(page, server, "hana")
    page.goto(f"{server}/p/dusty-trail/handoff?firearm=win-1")
    small = page.evaluate("""() => [...document.querySelectorAll(
        'button, input:not([type=hidden]):not([type=radio]):not([type=checkbox]), ' +
        'select, .seg span, .nav a')]
        .filter(e => e.offsetParent !== null)
        .map(e => [e.name || e.textContent.trim(), e.getBoundingClientRect().height])
        .filter(([n, h]) => h < 48)""")
    assert small == []


MAIN_PAGES = (
    "board",
    "handoff",
    "handoff?firearm=colt-1",
    "handling",
    "handling?firearm=colt-1",
    "inventory",
    "scenes",
    "scenes/sc-12",
    "meeting",
    "training",
    "people",
    "people/alec",
    "labels",
    "labels?kind=concern",
    "safety",
    "firearms/colt-1",
)


def test_pages_run_their_own_script_under_the_csp(server: str, page: Any) -> None:
    """Every main page (and the logged-out login and concern pages) is served with the
    Content-Security-Policy, reports no violation in the console, and its script still
    works: the remembered day/night choice is applied before the page shows (it was an
    inline script), "all positions empty" ticks the checklist, Print opens the print
    dialog (it was an onclick), a second tap on a sent form is stopped, and the page's
    own address goes with a link to another page here (Referrer-Policy same-origin)."""
    for url in ("/login", "/c/dusty-trail"):
        r = page.goto(f"{server}{url}")
        assert "script-src 'self'" in r.headers["content-security-policy"]
        assert violations(page) == [], url
    login(page, server, "hana")
    for name in MAIN_PAGES:
        r = page.goto(f"{server}/p/dusty-trail/{name}")
        assert r.status == 200, name
        assert "frame-ancestors 'none'" in r.headers["content-security-policy"], name
        assert violations(page) == [], name
    # day/night: toggled, remembered, applied by the script in <head> on the next page
    page.goto(f"{server}/p/dusty-trail/board")
    before = page.evaluate("document.documentElement.dataset.theme || ''")
    page.click("[data-theme-toggle]")
    chosen = page.evaluate("document.documentElement.dataset.theme")
    assert chosen in ("dark", "light") and chosen != before
    page.goto(f"{server}/p/dusty-trail/inventory")
    assert page.evaluate("document.documentElement.dataset.theme") == chosen
    # the checklist's "all positions empty"
    page.goto(f"{server}/p/dusty-trail/handoff?firearm=colt-1")
    page.click("[data-all-empty]")
    assert page.evaluate("""() => [...document.querySelectorAll(
        'input[type=radio][value=empty][name^="chamber-"]')].every(r => r.checked)""")
    # one tap, one submission: the second submit of a form is stopped (no real send)
    assert page.evaluate("""() => {
        const f = document.querySelector('form[data-once]');
        const a = new Event('submit', {cancelable: true, bubbles: true});
        const b = new Event('submit', {cancelable: true, bubbles: true});
        f.dispatchEvent(a); f.dispatchEvent(b);
        return [a.defaultPrevented, b.defaultPrevented, f.dataset.sent];
    }""") == [False, True, "1"]
    # Print
    page.goto(f"{server}/p/dusty-trail/labels")
    page.click("[data-print]")
    assert page.evaluate("window.__printed") == 1
    # the referrer of a page reached from another page here is that page's address
    page.click("nav a:has-text('Safety')")
    page.wait_for_url("**/safety")
    assert page.evaluate("document.referrer") == f"{server}/p/dusty-trail/labels"
    assert violations(page) == []
