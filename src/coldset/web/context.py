"""What every page handler gets: the services, who is logged in, CSRF, rendering.

Built per request from ``request.app.state`` (set by the app factory); nothing
here is global.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from coldset.clock import Clock
from coldset.domain.commands import COMMAND_TYPES
from coldset.service.accounts import AccountService, Session, csrf_equal
from coldset.service.core import CustodyService
from coldset.service.web_support import CommandRunner, member_roles
from coldset.web.csrf import anonymous_token_valid, new_anonymous_token
from coldset.web.ratelimit import ConcernLimiter

SESSION_COOKIE = "coldset_session"
ANON_CSRF_COOKIE = "coldset_csrf"
FLASH_COOKIE = "coldset_flash"
AGAIN_COOKIE = "coldset_again"
_FIELD_NAME = re.compile(r"[a-z][a-z0-9_-]{0,63}")
#: form fields never sent back to a page (secrets, and what each render makes afresh)
_NOT_AGAIN = ("csrf", "idempotency_key", "next", "pin", "confirm_pin", "override_pin",
              "password", "new_password")


class HTTPProblem(Exception):
    """A page-level problem shown on the error page (never a stack trace)."""

    def __init__(self, status: int, title: str, message: str = "") -> None:
        super().__init__(message or title)
        self.status, self.title, self.message = status, title, message


@dataclass
class AppState:
    custody: CustodyService
    accounts: AccountService
    queue: CommandRunner
    templates: Jinja2Templates
    clock: Clock
    demo: bool
    secure_cookies: bool | None       # None: Secure when the request came over HTTPS
    install_name: str
    csrf_secret: bytes                # signs the logged-out CSRF token (coldset.web.csrf)
    concern_limiter: ConcernLimiter   # the anonymous concern form's rate limit
    demo_logins: list[Any] = field(default_factory=list)


def app_state(request: Request) -> AppState:
    st: AppState = request.app.state.coldset
    return st


def session_of(request: Request) -> Session | None:
    if hasattr(request.state, "session"):
        cached: Session | None = request.state.session
        return cached
    s = app_state(request).accounts.session(request.cookies.get(SESSION_COOKIE))
    request.state.session = s
    return s


def require_login(request: Request) -> Session:
    s = session_of(request)
    if s is None:
        raise LoginNeeded(request.url.path)
    return s


class LoginNeeded(Exception):
    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


def csrf_token(request: Request) -> str:
    """The token a form must send back: the session's, or (logged out) the cookie's when
    this install signed it (otherwise a new signed one, set by :func:`finish`)."""
    s = session_of(request)
    if s is not None:
        return s.csrf
    tok: str | None = getattr(request.state, "new_csrf", None)
    if tok:
        return tok
    secret = app_state(request).csrf_secret
    cookie = request.cookies.get(ANON_CSRF_COOKIE)
    if cookie and anonymous_token_valid(secret, cookie):
        return cookie
    tok = new_anonymous_token(secret)
    request.state.new_csrf = tok
    return tok


def check_csrf(request: Request, form: Any) -> None:
    """Refuse (403) a form without the right token. Run for every unsafe page request by
    :func:`coldset.web.csrf.csrf_guard`; handlers do not call it."""
    sent = form.get("csrf")
    s = session_of(request)
    if s is not None:
        ok = csrf_equal(sent, s.csrf)
    else:
        cookie = request.cookies.get(ANON_CSRF_COOKIE)
        ok = csrf_equal(sent, cookie) and anonymous_token_valid(
            app_state(request).csrf_secret, cookie)
    if not ok:
        raise HTTPProblem(403, "This form has expired",
                          "The form was missing its security token or it was from an old "
                          "page. Nothing was changed. Go back, reload the page and try again.")


def secure(request: Request) -> bool:
    st = app_state(request)
    return st.secure_cookies if st.secure_cookies is not None else request.url.scheme == "https"


@dataclass
class Member:
    """The logged-in account on one production: the person it acts as and their roles."""

    session: Session
    production: str
    person: str
    roles: set[str]

    def has(self, *roles: str) -> bool:
        return bool(self.roles & set(roles))


def member(request: Request, production: str) -> Member:
    s = require_login(request)
    person = s.account.person_on(production)
    if person is None:
        raise HTTPProblem(403, "Not on this production",
                          f"Your login ({s.account.login}) is not linked to a person on "
                          f"production {production!r}. Ask the production's admin.")
    roles = member_roles(app_state(request).custody, production, person)
    return Member(s, production, person, roles)


def render(request: Request, template: str, status: int = 200, **ctx: Any) -> HTMLResponse:
    st = app_state(request)
    s = session_of(request)
    flash = request.cookies.get(FLASH_COOKIE)
    again = _again_of(request) if request.method == "GET" else None
    resp = st.templates.TemplateResponse(request, template, {
        "demo": st.demo, "session": s, "csrf": csrf_token(request), "flash": flash,
        "install_name": st.install_name, "new_key": secrets.token_urlsafe(12),
        "again": again, **ctx,
    }, status_code=status)
    finish(request, resp)
    if flash:
        resp.delete_cookie(FLASH_COOKIE, path="/")
    if again is not None or (request.method == "GET" and AGAIN_COOKIE in request.cookies):
        resp.delete_cookie(AGAIN_COOKIE, path="/")
    return resp


def remember_form(request: Request, resp: Response, command: str, form: Any,
                  why: str = "") -> None:
    """Keep what a rejected form held (never a PIN, password or token) for one minute, so
    the page it came from can show it again filled in (see ``again`` in :func:`render`
    and ``coldset.js``). An HttpOnly cookie: scripts never read it; the page embeds it."""
    values: dict[str, list[str]] = {}
    for k, v in form.multi_items():
        if k in _NOT_AGAIN or not isinstance(v, str):
            continue
        values.setdefault(k, []).append(v[:2000])
    data = quote(json.dumps({"command": command, "values": values, "why": why[:300]},
                            separators=(",", ":")))
    if len(data) <= 3500:       # a cookie holds ~4 KB; a bigger form simply comes back empty
        resp.set_cookie(AGAIN_COOKIE, data, httponly=True, samesite="lax",
                        secure=secure(request), path="/", max_age=60)


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
    except (ValueError, RecursionError):    # a cookie the client made up: ignore it
        return None
    if not (isinstance(data, dict) and data.get("command") in COMMAND_TYPES
            and isinstance(data.get("values"), dict)):
        return None
    return {"command": data["command"], "why": str(data.get("why") or "")[:300], "values": {
        k: [x for x in v if isinstance(x, str)] for k, v in data["values"].items()
        if isinstance(k, str) and _FIELD_NAME.fullmatch(k) and isinstance(v, list)
        and k not in _NOT_AGAIN}}


def finish(request: Request, resp: Response) -> None:
    """Set the logged-out CSRF cookie when this response made one."""
    tok = getattr(request.state, "new_csrf", None)
    if tok:
        resp.set_cookie(ANON_CSRF_COOKIE, tok, httponly=True, samesite="lax",
                        secure=secure(request), path="/")


def redirect(request: Request, url: str, flash: str | None = None) -> RedirectResponse:
    resp = RedirectResponse(url, status_code=303)
    if flash:
        resp.set_cookie(FLASH_COOKIE, quote(flash[:300]), httponly=True, samesite="lax",
                        secure=secure(request), path="/", max_age=60)
    finish(request, resp)
    return resp


def safe_next(value: Any, production: str, default: str) -> str:
    """A local path on this production to go to after a form, never another site."""
    v = str(value or "")
    if v.startswith(f"/p/{production}/") and "//" not in v and "\\" not in v:
        return v
    return default
