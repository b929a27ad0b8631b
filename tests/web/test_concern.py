"""The concern form: no login, anonymous, the answer through a private link."""

from __future__ import annotations

import re

from tests.web.conftest import P, Web, csrf_of


def _raise(web: Web, text: str = "The cart was left open at lunch") -> str:
    page = web.client.get("/c/dusty-trail")
    assert page.status_code == 200
    r = web.client.post(
        "/c/dusty-trail", data={"text": text, "csrf": csrf_of(page.text), "idempotency_key": "c-1"}
    )
    assert r.status_code == 200, r.text
    m = re.search(r'href="(/c/dusty-trail/answer/[^"]+)"', r.text)
    assert m
    return m.group(1)


def test_anonymous_concern_and_private_answer(web: Web) -> None:
    """Logged out: raise a concern; it is anonymous; the safety contact answers; the private
    link shows the answer."""
    link = _raise(web)
    assert "Not answered yet" in web.client.get(link).text
    concern = next(iter(web.state.concerns.values()))
    assert concern.raised_by is None
    csrf = web.login("lee")
    r = web.post(
        f"{P}/do/acknowledge_concern",
        {"concern": concern.id, "answer": "Cart locked; armorer briefed"},
        csrf,
    )
    assert r.status_code == 200
    web.client.cookies.clear()
    assert "Cart locked; armorer briefed" in web.client.get(link).text


def test_concern_needs_csrf_and_text(web: Web) -> None:
    """No CSRF token: 403; empty text: 422; nothing written either way."""
    before = web.size()
    assert web.client.post("/c/dusty-trail", data={"text": "x"}).status_code == 403
    page = web.client.get("/c/dusty-trail")
    r = web.client.post("/c/dusty-trail", data={"text": "", "csrf": csrf_of(page.text)})
    assert r.status_code == 422
    assert web.size() == before


def test_wrong_private_link_and_unknown_production_are_404(web: Web) -> None:
    """A made-up token or production: 404."""
    assert web.client.get("/c/dusty-trail/answer/madeup").status_code == 404
    assert web.client.get("/c/no-such-show").status_code == 404
