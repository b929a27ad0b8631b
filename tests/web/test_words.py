"""Words for people (issue 10): crew-facing pages show no internal identifiers (snake_case
command or field names such as clear_stop_work, "BLOCK OVERRIDABLE", a field path such as
confirmations.0.person); the concern box says its limit before it is hit and prints its
error once."""

from __future__ import annotations

import re

from tests.web.conftest import PINS, P, Web, csrf_of

#: snake_case words (command names, field names, enum values) and dotted field paths
SNAKE = re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b")
PATH = re.compile(r"\b[a-z_]+\.\d+\.[a-z_]+\b")

PAGES = [
    "board",
    "handoff",
    "handoff?firearm=colt-1",
    "handling?firearm=colt-1",
    "handling?firearm=colt-2",
    "day",
    "inventory",
    "scenes",
    "scenes/sc-12",
    "meeting",
    "training",
    "people",
    "people/alec",
    "people/hana",
    "labels",
    "safety",
    "firearms/colt-2",
]


def visible(html: str) -> str:
    """The text a person reads: no tags, scripts, styles or attribute values."""
    html = re.sub(r"(?s)<(script|style)[^>]*>.*?</\1>", " ", html)
    return re.sub(r"(?s)<[^>]+>", " ", html)


def identifiers(html: str) -> set[str]:
    text = visible(html)
    return set(SNAKE.findall(text)) | set(PATH.findall(text))


def test_no_internal_identifier_on_any_page(web: Web) -> None:
    """Every main page, with a misfire, a stop-work and a concern on them, and the refusal
    and problem pages: no snake_case identifier and no field path in what is shown."""
    csrf = web.login("hana")
    for cmd, data in [
        ("report_incident", {"kind": "misfire", "firearm": "colt-2", "description": "click"}),
        ("call_stop_work", {"reason": "smoke", "unit": "main"}),
        ("raise_concern", {"text": "gate broken"}),
    ]:
        web.post(f"{P}/do/{cmd}", {**data, "next": f"{P}/board"}, csrf)
    found = {}
    for page in PAGES:
        r = web.client.get(f"{P}/{page}")
        assert r.status_code == 200, page
        if identifiers(r.text):
            found[page] = sorted(identifiers(r.text))
    refused = web.post(
        f"{P}/do/release_quarantine",
        {
            "firearm": "colt-2",
            "note": "fine",
            "confirm_person": "lee",
            "confirm_pin": PINS["lee"],
            "next": f"{P}/safety",
        },
        csrf,
    )
    assert refused.status_code == 409
    rejected = web.post(
        f"{P}/do/release_quarantine",
        {
            "firearm": "colt-2",
            "note": "fine",
            "confirm_person": "lee",
            "confirm_pin": "12",
            "next": f"{P}/safety",
        },
        csrf,
    )
    assert rejected.status_code == 422
    for name, r in (("refusal", refused), ("problem", rejected)):
        if identifiers(r.text):
            found[name] = sorted(identifiers(r.text))
    assert found == {}, "\n".join(f"{k}: {v}" for k, v in found.items())


def test_the_concern_box_says_its_limit_and_prints_its_error_once(web: Web) -> None:
    """The box says "up to 2,000 characters" and carries a live counter before anything is
    typed; a text over the limit is answered with one error, not two."""
    page = web.client.get("/c/dusty-trail").text
    assert "2,000 characters" in visible(page)
    assert "data-count" in page
    csrf = csrf_of(page)
    r = web.client.post("/c/dusty-trail", data={"text": "x" * 2001, "csrf": csrf})
    assert r.status_code == 422
    assert (
        visible(r.text).count("2000 characters") + visible(r.text).count("2,000 characters") <= 2
    )  # the hint and the one error
    assert len(re.findall(r'class="error"', r.text)) == 1
