"""The board: every firearm and lot right now, alerts and stop-works on top.

The page follows ``/board/events`` (server-sent events, :mod:`coldset.web.live`):
the server says when the log grew and the page swaps in ``/board/fragment``, within
about a second. Without script it is a plain page that shows when it was made.
``/board/version`` (the log size) stays for clients that poll.
"""

from __future__ import annotations

from datetime import UTC, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import anyio.to_thread
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from coldset.web.context import SESSION_COOKIE, HTTPProblem, app_state, member, render
from coldset.web.live import EventStream, board_stream

router = APIRouter()


def board_data(request: Request, production: str) -> dict[str, Any]:
    try:
        return app_state(request).custody.board(production)
    except LookupError as e:
        raise HTTPProblem(404, "No such production", str(e)) from None


def version(request: Request, production: str) -> int:
    return app_state(request).custody.state(production).size


@router.get("/p/{production}/board")
def board(request: Request, production: str) -> Response:
    m = member(request, production)
    data = board_data(request, production)
    tz = data["production"].get("time_zone") or "UTC"
    try:
        zone: tzinfo = ZoneInfo(tz)
    except (ValueError, ZoneInfoNotFoundError):
        tz, zone = "UTC", UTC
    as_of = app_state(request).clock.now().astimezone(zone).strftime("%H:%M:%S %Z")
    return render(
        request,
        "board.html",
        production=production,
        m=m,
        b=data,
        version=version(request, production),
        tz=tz,
        as_of=as_of,
    )


@router.get("/p/{production}/board/fragment")
def board_fragment(request: Request, production: str) -> Response:
    m = member(request, production)
    return render(
        request,
        "_board.html",
        production=production,
        m=m,
        b=board_data(request, production),
        version=version(request, production),
    )


@router.get("/p/{production}/board/version")
def board_version(request: Request, production: str) -> Response:
    member(request, production)
    return JSONResponse(
        {"version": version(request, production)}, headers={"Cache-Control": "no-store"}
    )


class _StreamEnded(Exception):
    """The login behind a stream ended (logged out, expired): the stream stops."""


@router.get("/p/{production}/board/events")
async def board_events(request: Request, production: str) -> Response:
    """The board's live updates (``text/event-stream``): ``board`` events with the log
    size when it grew, a ``ping`` every 15 s when nothing happened."""
    m = await anyio.to_thread.run_sync(member, request, production)
    st = app_state(request)
    hub = st.board_events
    login = m.session.account.login
    refused = hub.acquire(login)
    if refused:
        return JSONResponse(
            {"error": refused},
            status_code=503,
            headers={"Retry-After": "30", "Cache-Control": "no-store"},
        )
    cookie = request.cookies.get(SESSION_COOKIE)

    def check() -> int:
        if st.accounts.session(cookie) is None:
            raise _StreamEnded
        return version(request, production)

    async def current() -> int:
        return await anyio.to_thread.run_sync(check)

    async def stream() -> Any:
        try:
            async for chunk in board_stream(hub, login, production, current):
                yield chunk
        except _StreamEnded:
            return

    return EventStream(stream(), release=lambda: hub.release(login))
