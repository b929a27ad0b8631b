"""Security headers on every response (pages, static files, the API, error pages), pages
with no inline script, style or handler, and nothing a tablet loads from another server."""

from __future__ import annotations

import re

from fastapi.responses import PlainTextResponse

from coldset.web.app import HERE
from tests.web.conftest import P, Web

TEMPLATES = HERE / "templates"
PAGES = [
    "board",
    "board/fragment",
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
]


def csp_of(r: object) -> dict[str, list[str]]:
    value = r.headers["content-security-policy"]  # type: ignore[attr-defined]
    out: dict[str, list[str]] = {}
    for part in value.split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


def assert_secure(r: object, what: str) -> None:
    h = r.headers  # type: ignore[attr-defined]
    csp = csp_of(r)
    assert csp.get("default-src") == ["'none'"], what
    assert csp.get("script-src") == ["'self'"], what
    assert csp.get("style-src") == ["'self'"], what
    assert csp.get("frame-ancestors") == ["'none'"], what
    assert csp.get("form-action") == ["'self'"], what
    assert csp.get("base-uri") == ["'none'"], what
    assert "unsafe" not in h["content-security-policy"], what
    assert h["x-frame-options"] == "DENY", what
    assert h["x-content-type-options"] == "nosniff", what
    assert h["referrer-policy"] == "same-origin", what
    assert "camera=()" in h["permissions-policy"], what


def test_every_kind_of_response_carries_the_headers(web: Web) -> None:
    """Logged-out pages, every main page logged in, the fragment, static files, the API
    (JSON, 401, the OpenAPI document), a 404, a 403 form refusal, a redirect and a 500
    page: each carries the CSP, X-Frame-Options, nosniff, Referrer-Policy and
    Permissions-Policy."""

    @web.app.get("/boom")
    def boom() -> PlainTextResponse:
        raise RuntimeError("a bug")

    c = web.client
    for url in (
        "/login",
        "/c/dusty-trail",
        "/static/coldset.js",
        "/static/coldset.css",
        "/api/openapi.json",
        "/api/v1/productions",
        "/no/such/page",
    ):
        assert_secure(c.get(url), url)
    assert_secure(c.post("/login", data={"login": "x"}), "403 form")
    assert_secure(c.get("/", follow_redirects=False), "redirect")
    from fastapi.testclient import TestClient

    with TestClient(web.app, raise_server_exceptions=False) as c2:
        r = c2.get("/boom")
        assert r.status_code == 500
        assert_secure(r, "500")
    web.login("hana")
    for page in PAGES:
        r = c.get(f"{P}/{page}")
        assert r.status_code == 200, page
        assert_secure(r, page)


def test_no_camera_is_asked_for_anywhere(web: Web) -> None:
    """Scanning is a handheld scanner typing the tag (no camera in any page's script), so
    no page may use the camera, the microphone or the location."""
    script = (HERE / "static" / "coldset.js").read_text()
    assert "getUserMedia" not in script and "BarcodeDetector" not in script
    policy = web.client.get("/login").headers["permissions-policy"]
    for feature in ("camera=()", "microphone=()", "geolocation=()"):
        assert feature in policy


def test_templates_have_no_inline_script_style_or_handler() -> None:
    """No template has an inline <script> (a JSON data block is not script), an on...=
    handler, a javascript: link or a style attribute: the CSP allows only /static."""
    for path in sorted(TEMPLATES.glob("*.html")):
        text = path.read_text()
        for m in re.finditer(r"<script\b([^>]*)>", text):
            attrs = m.group(1)
            assert "src=" in attrs or 'type="application/json"' in attrs, (path.name, attrs)
        assert not re.search(r"\son[a-z]+\s*=", text), path.name
        assert "javascript:" not in text.lower(), path.name
        assert not re.search(r"\sstyle\s*=", text), path.name
        assert "<style" not in text, path.name


def test_rendered_pages_load_nothing_from_another_server(web: Web) -> None:
    """Every script, style sheet and image a page refers to is on this server."""
    web.login("hana")
    for page in PAGES:
        html = web.client.get(f"{P}/{page}").text
        for m in re.finditer(r'<(?:script|link|img|iframe)\b[^>]*(?:src|href)="([^"]*)"', html):
            assert m.group(1).startswith("/"), (page, m.group(1))
        assert "<script>" not in html, page
        assert not re.search(r"\sstyle=", html), page


def test_swagger_page_is_gone_and_the_document_stays(web: Web) -> None:
    """/api/docs loaded Swagger UI from a CDN: it is gone (404); /api/openapi.json stays."""
    assert web.client.get("/api/docs").status_code == 404
    r = web.client.get("/api/openapi.json")
    assert r.status_code == 200 and r.json()["openapi"].startswith("3.")
    assert "/api/docs" not in web.client.get("/account").text
