"""Body limits: every request body is refused with 413 the moment it passes its route's
limit (before the handler, before it is held whole), with a problem document on the API and
a page elsewhere; nothing is recorded. What real forms and commands need still fits."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from coldset.web.limits import DEFAULT_LIMIT, KIB, limit_for
from tests.web.conftest import PRODUCTION, Web, csrf_of

A = f"/api/v1/productions/{PRODUCTION}/commands"


@pytest.fixture
def token(web: Web) -> dict[str, str]:
    return {"Authorization": "Bearer " + web.app.state.coldset.accounts.create_token("hana", "t")}


def test_each_route_has_the_limit_its_forms_need() -> None:
    """The table: API commands 256 KiB, concern form 32 KiB, login 8 KiB, pages 64 KiB."""
    assert limit_for(f"{A}/issue") == 256 * KIB
    assert limit_for("/c/dusty-trail") == 32 * KIB
    assert limit_for("/login") == 8 * KIB
    assert limit_for(f"/p/{PRODUCTION}/do/inspect") == 64 * KIB
    assert limit_for(f"/p/{PRODUCTION}/handoff") == 64 * KIB
    assert limit_for("/api/v1/health") == DEFAULT_LIMIT


def test_an_api_body_over_the_limit_is_413_before_it_is_read(
    web: Web, token: dict[str, str]
) -> None:
    """A declared Content-Length of 1 MB: 413 problem+json naming the limit; the log does
    not move."""
    before = web.size()
    body = b'{"text": "' + b"x" * 1_000_000 + b'"}'
    r = web.client.post(
        f"{A}/raise_concern", content=body, headers={**token, "Content-Type": "application/json"}
    )
    assert r.status_code == 413
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["error_kind"] == "too-large" and r.json()["limit"] == 256 * KIB
    assert "nothing was recorded" in r.json()["detail"]
    assert web.size() == before


def test_a_chunked_body_is_cut_off_as_soon_as_it_passes(web: Web, token: dict[str, str]) -> None:
    """No Content-Length (chunked): the running count refuses it, and the generator is not
    read to its end (the server stops taking it)."""
    sent = 0

    def chunks() -> Iterator[bytes]:
        nonlocal sent
        yield b'{"text": "'
        for _ in range(200):  # 200 x 64 KiB = 12.5 MiB if read to the end
            sent += 1
            yield b"x" * (64 * KIB)
        yield b'"}'

    before = web.size()
    r = web.client.post(
        f"{A}/raise_concern",
        content=chunks(),
        headers={**token, "Content-Type": "application/json"},
    )
    assert r.status_code == 413
    assert web.size() == before


def test_the_concern_form_refuses_a_huge_post_with_a_page(web: Web) -> None:
    """The anonymous concern form, 900 KB: 413 with a page in words, nothing recorded."""
    page = web.client.get("/c/dusty-trail")
    before = web.size()
    r = web.client.post("/c/dusty-trail", data={"text": "x" * 900_000, "csrf": csrf_of(page.text)})
    assert r.status_code == 413
    assert "Nothing was recorded" in r.text and "<html" not in r.text.lower()[:0]
    assert r.headers.get("content-security-policy"), "a 413 carries the security headers"
    assert web.size() == before


def test_the_largest_real_concern_fits(web: Web) -> None:
    """2,000 characters that each take 4 bytes in UTF-8 (12 once percent-encoded) still
    go through the concern form."""
    page = web.client.get("/c/dusty-trail")
    r = web.client.post(
        "/c/dusty-trail", data={"text": "\U0001f52b" * 2000, "csrf": csrf_of(page.text)}
    )
    assert r.status_code == 200, r.text[-300:]


def test_a_scene_with_500_people_and_firearms_fits_the_api(web: Web, token: dict[str, str]) -> None:
    """The biggest command a production sends (a scene with 500 cast and crew) is under the
    API's limit: its answer is the command's own, not 413."""
    ids = [f"person-with-a-long-id-{i:04d}-abcdefghijklmnopqrstuvwxyz" for i in range(500)]
    r = web.client.post(
        f"{A}/add_scene",
        headers=token,
        json={
            "scene": "sc-big",
            "unit": "main",
            "set": "church",
            "shoot_day": "day-1",
            "cast_crew": ids,
            "description": "x" * 2000,
        },
    )
    assert r.status_code != 413, r.text[:200]
