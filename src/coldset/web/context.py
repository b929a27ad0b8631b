"""Rendering a page and answering a form: templates, the flash note, a rejected form kept
for one minute, redirects.

The other mechanisms a page handler uses live in their own modules and are named here
too, so a handler imports from one place: the app's services and the problem
(:mod:`coldset.api.state`), who is logged in (:mod:`coldset.web.session`) and CSRF
(:mod:`coldset.web.csrf`). Nothing here is global: everything is built per request from
``request.app.state``.
"""

from __future__ import annotations

import json
import re
import secrets
from typing import Any
from urllib.parse import quote, unquote

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from coldset.api.state import AppState, HTTPProblem, app_state
from coldset.domain.commands import COMMAND_TYPES
from coldset.web.csrf import ANON_CSRF_COOKIE, check_csrf, csrf_token
from coldset.web.session import (
    SESSION_COOKIE,
    LoginNeeded,
    Member,
    member,
    require_login,
    secure,
    session_of,
)

#: what page handlers import from here (each defined where its mechanism lives)
__all__ = [
    "ANON_CSRF_COOKIE",
    "AGAIN_COOKIE",
    "FLASH_COOKIE",
    "SESSION_COOKIE",
    "AppState",
    "HTTPProblem",
    "LoginNeeded",
    "Member",
    "app_state",
    "check_csrf",
    "csrf_token",
    "finish",
    "member",
    "redirect",
    "remember_form",
    "render",
    "require_login",
    "safe_next",
    "secure",
    "session_of",
]

FLASH_COOKIE = "coldset_flash"
AGAIN_COOKIE = "coldset_again"
_FIELD_NAME = re.compile(r"[a-z][a-z0-9_-]{0,63}")
#: form fields never sent back to a page (secrets, and what each render makes afresh)
_NOT_AGAIN = (
    "csrf",
    "idempotency_key",
    "next",
    "pin",
    "confirm_pin",
    "override_pin",
    "password",
    "new_password",
)


def render(request: Request, template: str, status: int = 200, **ctx: Any) -> HTMLResponse:
    st = app_state(request)
    s = session_of(request)
    flash = request.cookies.get(FLASH_COOKIE)
    again = _again_of(request) if request.method == "GET" else None
    resp = st.templates.TemplateResponse(
        request,
        template,
        {
            "tz": _time_zone(st, ctx),
            "demo": st.demo,
            "session": s,
            "csrf": csrf_token(request),
            "flash": flash,
            "install_name": st.install_name,
            "new_key": secrets.token_urlsafe(12),
            "again": again,
            **ctx,
        },
        status_code=status,
    )
    finish(request, resp)
    if flash:
        resp.delete_cookie(FLASH_COOKIE, path="/")
    if again is not None or (request.method == "GET" and AGAIN_COOKIE in request.cookies):
        resp.delete_cookie(AGAIN_COOKIE, path="/")
    return resp


def _time_zone(st: AppState, ctx: dict[str, Any]) -> str:
    """The production's own time zone (IANA name) for the times a page shows; UTC when
    the page is not about a production. Taken from what the page already has (the
    board's data, the state) before asking the service (the board renders often)."""
    board = ctx.get("b")
    if isinstance(board, dict) and isinstance(board.get("production"), dict):
        return str(board["production"].get("time_zone") or "UTC")
    production = ctx.get("production")
    if not isinstance(production, str) or not production:
        return "UTC"
    try:
        p = st.custody.state(production).production
    except (LookupError, ValueError):
        return "UTC"
    return p.time_zone if p is not None and p.time_zone else "UTC"


def remember_form(request: Request, resp: Response, command: str, form: Any, why: str = "") -> None:
    """Keep what a rejected form held (never a PIN, password or token) for one minute, so
    the page it came from can show it again filled in (see ``again`` in :func:`render`
    and ``coldset.js``). An HttpOnly cookie: scripts never read it; the page embeds it."""
    values: dict[str, list[str]] = {}
    for k, v in form.multi_items():
        if k in _NOT_AGAIN or not isinstance(v, str):
            continue
        values.setdefault(k, []).append(v[:2000])
    data = quote(
        json.dumps({"command": command, "values": values, "why": why[:300]}, separators=(",", ":"))
    )
    if len(data) <= 3500:  # a cookie holds ~4 KB; a bigger form simply comes back empty
        resp.set_cookie(
            AGAIN_COOKIE,
            data,
            httponly=True,
            samesite="lax",
            secure=secure(request),
            path="/",
            max_age=60,
        )


def kept_form(request: Request) -> dict[str, Any] | None:
    """What :func:`remember_form` kept for this page (command, values, why), or None."""
    return _again_of(request)


def forget_form(resp: Response) -> None:
    """Drop a kept form: what it was kept for has been done another way (an override)."""
    resp.delete_cookie(AGAIN_COOKIE, path="/")


def _again_of(request: Request) -> dict[str, Any] | None:
    raw = request.cookies.get(AGAIN_COOKIE)
    if not raw:
        return None
    try:
        data = json.loads(unquote(raw))
    except (ValueError, RecursionError):  # a cookie the client made up: ignore it
        return None
    if not (
        isinstance(data, dict)
        and data.get("command") in COMMAND_TYPES
        and isinstance(data.get("values"), dict)
    ):
        return None
    return {
        "command": data["command"],
        "why": str(data.get("why") or "")[:300],
        "values": {
            k: [x for x in v if isinstance(x, str)]
            for k, v in data["values"].items()
            if isinstance(k, str)
            and _FIELD_NAME.fullmatch(k)
            and isinstance(v, list)
            and k not in _NOT_AGAIN
        },
    }


def finish(request: Request, resp: Response) -> None:
    """Set the logged-out CSRF cookie when this response made one."""
    tok = getattr(request.state, "new_csrf", None)
    if tok:
        resp.set_cookie(
            ANON_CSRF_COOKIE, tok, httponly=True, samesite="lax", secure=secure(request), path="/"
        )


def redirect(request: Request, url: str, flash: str | None = None) -> RedirectResponse:
    resp = RedirectResponse(url, status_code=303)
    if flash:
        resp.set_cookie(
            FLASH_COOKIE,
            quote(flash[:300]),
            httponly=True,
            samesite="lax",
            secure=secure(request),
            path="/",
            max_age=60,
        )
    finish(request, resp)
    return resp


def safe_next(value: Any, production: str, default: str) -> str:
    """A local path on this production to go to after a form, never another site."""
    v = str(value or "")
    if v.startswith(f"/p/{production}/") and "//" not in v and "\\" not in v:
        return v
    return default
