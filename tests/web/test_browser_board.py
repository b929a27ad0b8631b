"""The board in a real Chromium (issue 10): every text reaches WCAG AA contrast on every
page and every board state in day and night colours, measured from the rendered
colours; nothing scrolls sideways at 768 px, even with a 2,000-character word; during a
stop-work the firearms stay above the fold; a live round found is on top of the board.
Screenshots of each board state in day and night go to test-artifacts/screenshots/."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.web import test_browser as tb
from tests.web.conftest import PASSWORDS
from tests.web.test_browser import CHROMIUM, LANDSCAPE, MAIN_PAGES, PORTRAIT, shot

server = tb.server  # the fixtures: a demo server, one Chromium
browser = tb.browser

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed"),
]
B = "/p/dusty-trail"
#: the main pages, and the pages this issue added or changed
PAGES = (*MAIN_PAGES, "search?q=o", "search?q=zebra", "people/hana", "firearms/colt-2")

#: every visible text node: its colour (with opacity) over the background it is drawn on
#: (the first opaque background of it or an ancestor, with translucent ones blended in);
#: those below 4.5:1 (3:1 for large text: 24 px, or 18.66 px bold) come back
CONTRAST = r"""() => {
  const parse = c => { const m = /rgba?\(([^)]+)\)/.exec(c); if (!m) return null;
    const p = m[1].split(/[\s,\/]+/).filter(Boolean).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1]; };
  const over = (top, bottom) => [0, 1, 2].map(i => top[i] * top[3] + bottom[i] * (1 - top[3]))
                                  .concat([1]);
  const lum = c => { const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92
                                        : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]); };
  const background = el => { const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c && c[3] > 0) { layers.push(c); if (c[3] >= 1) break; } }
    let bg = [255, 255, 255, 1];   // the canvas behind everything
    for (let i = layers.length - 1; i >= 0; i--) bg = over(layers[i], bg);
    return bg; };
  const opacity = el => { let o = 1;
    for (let e = el; e; e = e.parentElement) o *= Number(getComputedStyle(e).opacity);
    return o; };
  const bad = [];
  const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walk.nextNode(); n; n = walk.nextNode()) {
    const text = n.textContent.trim(); const el = n.parentElement;
    if (!text || !el || el.closest("script, style, template, option")) continue;
    const r = document.createRange(); r.selectNodeContents(n);
    if (![...r.getClientRects()].some(b => b.width > 0 && b.height > 0)) continue;
    const cs = getComputedStyle(el);
    if (cs.visibility !== "visible") continue;
    const bg = background(el); const c = parse(cs.color);
    const fg = over([c[0], c[1], c[2], c[3] * opacity(el)], bg);
    const [a, b] = [lum(fg), lum(bg)];
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    const size = parseFloat(cs.fontSize); const weight = Number(cs.fontWeight);
    const large = size >= 24 || (size >= 18.66 && weight >= 700);
    if (ratio < (large ? 3 : 4.5) - 0.005)
      bad.push(`${text.slice(0, 40)} | ${ratio.toFixed(2)}:1 | ${cs.color} on ` +
               `rgb(${bg.slice(0, 3).map(Math.round).join(",")}) | <${el.tagName.toLowerCase()} ` +
               `class="${el.className}">`);
  }
  return bad;
}"""

OVERFLOW = """() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"""


def _login(page: Any, base: str, who: str = "hana") -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=login]", who)
    page.fill("input[name=password]", PASSWORDS[who])
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}{B}/board")


def _do(page: Any, base: str, command: str, **fields: str) -> None:
    """Send a form as the logged-in tablet does (its session and CSRF token)."""
    page.goto(f"{base}{B}/board")
    csrf = page.locator("input[name=csrf]").first.get_attribute("value")
    r = page.request.post(
        f"{base}{B}/do/{command}", form={"csrf": csrf, "next": f"{B}/board", **fields}
    )
    text = " ".join(re.sub(r"<[^>]+>", " ", r.text()).split())
    assert r.status < 400, (command, r.status, text[-900:])


def _contexts(browser: Any, base: str, viewport: dict[str, int] = PORTRAIT) -> dict[str, Any]:
    """A logged-in tablet in each colour scheme (the system's, as a tablet sets it)."""
    pages = {}
    for scheme in ("light", "dark"):
        ctx = browser.new_context(
            viewport=viewport, device_scale_factor=1, color_scheme=scheme, reduced_motion="reduce"
        )
        pg = ctx.new_page()
        _login(pg, base)
        pages[scheme] = pg
    return pages


def _low_contrast(
    pages: dict[str, Any], base: str, paths: tuple[str, ...], state: str
) -> list[str]:
    found = []
    for scheme, pg in pages.items():
        for path in paths:
            pg.goto(f"{base}{path}")
            found += [f"{state} · {scheme} · {path} · {x}" for x in pg.evaluate(CONTRAST)]
            if path.endswith("/board"):
                day = "day" if scheme == "light" else "night"
                shot(pg, f"board-{state.replace(' ', '-')}-{day}")
    return found


def _live_round_state(page: Any, base: str) -> None:
    """colt-1 with four dummies (loaded, with hana), then an inspection finds a live round
    in chamber 5: quarantined with 4 loaded, a live round found."""
    _do(page, base, "unlock_container", container="safe-main")
    _do(page, base, "load", firearm="colt-1", lot="dummy-45", positions="1,2,3,4")


def test_contrast_on_every_page_and_board_state_day_and_night(server: str, browser: Any) -> None:
    """Every visible text, on every main page and the board and timeline in each state
    (all cold and locked; out and loaded; a live round found, quarantined with rounds
    in; stop-work in force), in day and in night colours, reaches 4.5:1 (3:1 large)."""
    pages = _contexts(browser, server)
    board = (f"{B}/board", f"{B}/firearms/colt-1")
    low = _low_contrast(pages, server, board, "cold")
    armorer = pages["light"]
    _live_round_state(armorer, server)
    low += _low_contrast(pages, server, board, "loaded")
    _do(
        armorer,
        server,
        "inspect",
        firearm="colt-1",
        chambers="dummy,dummy,dummy,dummy,live,empty",
        barrel_clear="1",
    )
    low += _low_contrast(pages, server, board, "live round found")
    _do(armorer, server, "call_stop_work", reason="Live round found in colt-1")
    for scheme, pg in pages.items():
        pg.goto(f"{server}{B}/board")
        shot(pg, f"board-stop-work-{'day' if scheme == 'light' else 'night'}")
        shot(pg, f"board-stop-work-{'day' if scheme == 'light' else 'night'}-full", full_page=True)
    low += _low_contrast(pages, server, tuple(f"{B}/{p}" for p in PAGES), "stop-work")
    for pg in pages.values():
        pg.context.clear_cookies()
    low += _low_contrast(pages, server, ("/login", "/c/dusty-trail"), "logged out")
    for pg in pages.values():
        pg.context.close()
    assert low == [], "\n".join(low)


def test_no_page_scrolls_sideways_at_768(server: str, browser: Any) -> None:
    """With a 2,000-character word in a stop-work reason and a concern, a quarantined
    firearm and a live round found, no page is wider than the 768 px screen."""
    pages = _contexts(browser, server)
    pg = pages["light"]
    pages["dark"].context.close()
    word = "x" * 2000
    _live_round_state(pg, server)
    _do(
        pg,
        server,
        "inspect",
        firearm="colt-1",
        chambers="dummy,dummy,dummy,dummy,live,empty",
        barrel_clear="1",
    )
    _do(pg, server, "call_stop_work", reason=word)
    _do(pg, server, "raise_concern", text=word)
    wide = []
    for path in PAGES:
        pg.goto(f"{server}{B}/{path}")
        sw, cw = pg.evaluate(OVERFLOW)
        if sw > cw:
            wide.append(f"{path}: {sw} px wide on a {cw} px screen")
    pg.context.close()
    assert wide == [], wide


@pytest.mark.parametrize("viewport", [PORTRAIT, LANDSCAPE], ids=["768x1024", "1280x800"])
def test_firearms_stay_above_the_fold_during_a_stop_work(
    server: str, browser: Any, viewport: dict[str, int]
) -> None:
    """A stop-work in force, a live round found and open alerts: the firearm with the
    live round and the first rows of the firearms table are on the first screen."""
    pages = _contexts(browser, server, viewport)
    pages["dark"].context.close()
    pg = pages["light"]
    _live_round_state(pg, server)
    _do(
        pg,
        server,
        "inspect",
        firearm="colt-1",
        chambers="dummy,dummy,dummy,dummy,live,empty",
        barrel_clear="1",
    )
    _do(pg, server, "call_stop_work", reason="Live round found in colt-1 during the show-clear")
    pg.goto(f"{server}{B}/board")
    assert pg.locator(".alarm").count() >= 1
    fold = viewport["height"]
    rows = pg.evaluate("""() => [...document.querySelectorAll('#board table.grid tbody tr')]
        .slice(0, 2).map(r => r.getBoundingClientRect().bottom)""")
    shot(pg, f"board-stop-work-{viewport['width']}")
    assert rows and all(b <= fold for b in rows), (rows, fold)
    pg.context.close()
