"""Log in, log out, pick a production, API tokens for scripts."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from coldset.service.accounts import LoginFailed
from coldset.web.context import (
    SESSION_COOKIE,
    app_state,
    redirect,
    render,
    require_login,
    secure,
    session_of,
)

router = APIRouter()


def _local(path: str | None) -> str:
    p = str(path or "/")
    return p if p.startswith("/") and not p.startswith("//") and "\\" not in p else "/"


@router.get("/login")
def login_page(request: Request, next: str = "/") -> Response:
    if session_of(request) is not None:
        return redirect(request, _local(next))
    return render(request, "login.html", next=_local(next), error=None, login="")


@router.post("/login")
async def login(request: Request) -> Response:
    form = await request.form()
    next_url = _local(str(form.get("next") or "/"))
    login_name = str(form.get("login") or "")
    try:
        token, _session = app_state(request).accounts.login(
            login_name, str(form.get("password") or "")
        )
    except LoginFailed as e:
        return render(
            request, "login.html", status=401, next=next_url, error=str(e), login=login_name
        )
    resp = redirect(request, next_url)
    resp.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=secure(request),
        path="/",
        max_age=16 * 3600,
    )
    return resp


@router.post("/logout")
async def logout(request: Request) -> Response:
    app_state(request).accounts.logout(request.cookies.get(SESSION_COOKIE))
    resp = redirect(request, "/login")
    resp.delete_cookie(SESSION_COOKIE, path="/")
    return resp


@router.get("/")
def home(request: Request) -> Response:
    s = require_login(request)
    members = s.account.members
    if len(members) == 1:
        (prod,) = members
        return redirect(request, f"/p/{prod}/board")
    return render(request, "productions.html", members=sorted(members.items()))


@router.get("/account")
def account(request: Request) -> Response:
    require_login(request)
    return render(request, "account.html", token=None)


@router.post("/account/tokens")
async def new_token(request: Request) -> Response:
    s = require_login(request)
    form = await request.form()
    label = str(form.get("label") or "script")[:100]
    token = app_state(request).accounts.create_token(s.account.login, label)
    return render(request, "account.html", token=token, label=label)
