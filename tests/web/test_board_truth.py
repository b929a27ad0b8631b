"""The board and the timeline say what the last inspection found (issue 10), in the
production's own time zone; search and the per-person view."""

from __future__ import annotations

from tests.web.conftest import P, Web, handoff_form, open_safe, text_of


def _collect_and_inspect(web: Web, csrf: str, chambers: str, firearm: str = "colt-1") -> None:
    open_safe(web, csrf)  # (an open safe puts what it holds in the armorer's hands)
    r = web.post(
        f"{P}/do/inspect",
        {"firearm": firearm, "chambers": chambers, "barrel_clear": "1", "next": f"{P}/board"},
        csrf,
    )
    assert r.status_code == 200, text_of(r.text)[-400:]


def test_a_live_round_found_is_on_the_board_row_and_the_timeline(web: Web) -> None:
    """An inspection that found a live round in chamber 1 of colt-1: the board row says
    LIVE ROUND in chamber 1 (never "empty" with a green pill), a banner on top of the
    board says it first, and the timeline entry says what each position held."""
    csrf = web.login("hana")
    _collect_and_inspect(web, csrf, "live,empty,blank,dummy,spent,obstructed")
    html = web.client.get(f"{P}/board").text
    row = html[html.index('id="row-colt-1"') :]
    row = row[: row.index("</tr>")]
    text = text_of(row)
    assert "LIVE ROUND" in text and "chamber 1" in text.lower(), text
    assert "pill ok" not in row, "a green pill on a firearm with a live round found"
    assert "chamber 3 blank" in text.lower() and "chamber 6 obstructed" in text.lower(), text
    top = text_of(html[: html.index('id="row-colt-1"')])
    assert "LIVE ROUND FOUND" in top and "colt-1" in top, top[-600:]
    assert (
        html.index("LIVE ROUND FOUND") < html.index("STOP-WORK IN FORCE")
        if "STOP-WORK IN FORCE" in html
        else True
    )
    tl_html = web.client.get(f"{P}/firearms/colt-1").text
    assert "found-danger" in tl_html  # the entry is marked, not one line among many
    tl = text_of(tl_html)
    assert "found chamber 1 LIVE" in tl, tl[-800:]
    assert "chamber 6 obstructed" in tl and "barrel clear" in tl, tl[-800:]


def test_a_clean_inspection_says_all_empty(web: Web) -> None:
    """A cold gun shown clear: the row says all six chambers were found empty and by
    whom, and no live-round banner appears."""
    csrf = web.login("hana")
    _collect_and_inspect(web, csrf, ",".join(["empty"] * 6))
    html = web.client.get(f"{P}/board").text
    row = html[html.index('id="row-colt-1"') :]
    text = text_of(row[: row.index("</tr>")])
    assert "all 6 empty" in text, text
    assert "LIVE ROUND" not in html


def test_times_are_in_the_production_zone_and_say_it(web: Web) -> None:
    """The demo western is in America/Denver: a stop-work called at 15:00 UTC shows as
    08:00 MST on the board and the safety page, never as UTC, and the refusal of a
    handoff during it says "since 2025-03-03 08:00 MST" (the zone named in the reason)."""
    csrf = web.login("jensen")
    r = web.post(
        f"{P}/do/call_stop_work",
        {"scope": "production", "reason": "smoke", "next": f"{P}/board"},
        csrf,
    )
    assert r.status_code == 200, text_of(r.text)[-400:]
    for page in ("board", "safety"):
        text = text_of(web.client.get(f"{P}/{page}").text)
        assert "08:00 MST" in text, (page, text[:1500])
        assert " UTC" not in text, page
    csrf = web.login("hana")
    open_safe(web, csrf)
    r = web.post(f"{P}/handoff", handoff_form(), csrf)
    text = text_of(r.text)
    assert "since 2025-03-03 08:00 MST" in text, text[-1200:]


def test_search_finds_firearms_people_and_lots_whatever_the_case(web: Web) -> None:
    """Search "COLT" finds both Colts; "reyes" finds Hana Reyes; "DUMMY" finds the dummy
    lot; a scanned tag in capitals (exactly one firearm's id) opens its timeline; an
    unknown word says nothing was found; a 2,000-character query is cut, not an error."""
    web.login("hana")
    text = text_of(web.client.get(f"{P}/search", params={"q": "COLT"}).text)
    assert "colt-1" in text and "colt-2" in text and "Firearms" in text, text[-800:]
    text = text_of(web.client.get(f"{P}/search", params={"q": "reyes"}).text)
    assert "Hana Reyes" in text and "People" in text
    text = text_of(web.client.get(f"{P}/search", params={"q": "DUMMY"}).text)
    assert "dummy-45" in text and "Ammunition lots" in text
    r = web.client.get(f"{P}/search", params={"q": "COLT-1"})
    assert r.url.path == f"{P}/firearms/colt-1" and "Timeline of" in r.text
    r = web.client.get(f"{P}/search", params={"q": "ALEC"})
    assert r.url.path == f"{P}/people/alec"
    text = text_of(web.client.get(f"{P}/search", params={"q": "zebra"}).text)
    assert "0 found" in text
    r = web.client.get(f"{P}/search", params={"q": "x" * 2000})
    assert r.status_code == 200 and "0 found" in text_of(r.text)


def test_the_person_page_says_what_they_hold_right_now(web: Web) -> None:
    """After the armorer opens the main safe, her page lists the firearms and rounds she
    holds and the open safe; a performer who holds nothing says so."""
    csrf = web.login("hana")
    open_safe(web, csrf)
    html = web.client.get(f"{P}/people/hana").text
    holds = text_of(
        html[html.index('id="holds"') : html.index("</section>", html.index('id="holds"'))]
    )
    assert "colt-1" in holds and "colt-2" in holds, holds
    assert "dummy-45" in holds and "50 dummy rounds" in holds, holds
    assert "safe-main opened" in holds, holds
    text = text_of(web.client.get(f"{P}/people/alec").text)
    assert "No firearm, no rounds, no open container." in text
