"""Request body limits: every body is counted as it arrives and refused (413) the moment it
passes the limit of its route, before it is ever held whole.

The limits fit what each form needs, in one table (:data:`LIMITS`, first match wins):

- the JSON API's commands: 256 KiB (the largest real command, a scene with its 500
  cast and crew and firearms, is under 100 KiB); a handoff: 64 KiB;
- the anonymous concern form: 32 KiB (2,000 characters, each up to 12 bytes once
  percent-encoded, and the form's few other fields);
- the login form: 8 KiB;
- every other page form: 64 KiB;
- anything else (a GET with a body, an unknown path): 8 KiB.

A ``Content-Length`` over the limit is refused before a byte of the body is read; a
chunked body is refused as soon as its running count passes it. The 413 is a problem
document (RFC 9457) on the API and a short page elsewhere; the handler never sees the
request, so nothing is recorded.
"""

from __future__ import annotations

import re
from typing import Any

from starlette.responses import HTMLResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

KIB = 1024

#: (path pattern, limit in bytes): the first that matches decides.
LIMITS: tuple[tuple[re.Pattern[str], int], ...] = (
    (re.compile(r"/api/v1/productions/[^/]+/commands/[^/]+"), 256 * KIB),
    (re.compile(r"/api/v1/productions/[^/]+/handoffs"), 64 * KIB),
    (re.compile(r"/c/[^/]+"), 32 * KIB),
    (re.compile(r"/login"), 8 * KIB),
    (re.compile(r"/p/.*|/account/.*|/logout"), 64 * KIB),
)
DEFAULT_LIMIT = 8 * KIB


def limit_for(path: str) -> int:
    for pattern, limit in LIMITS:
        if pattern.fullmatch(path):
            return limit
    return DEFAULT_LIMIT


class _TooLarge(Exception):
    pass


class BodyLimit:
    """ASGI middleware: the body limit of :data:`LIMITS` on every HTTP request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        limit = limit_for(path)
        length = _content_length(scope)
        if length is not None and length > limit:
            await _refuse(scope, receive, send, path, limit)
            return
        seen = 0
        over = started = refused = False

        async def counted() -> Message:
            nonlocal seen, over
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    over = True
                    raise _TooLarge
            return message

        async def refuse() -> None:
            nonlocal refused
            if not refused:
                refused = True
                await _refuse(scope, receive, send, path, limit)

        async def watched(message: Message) -> None:
            nonlocal started
            if over and not started:  # whatever the app made of the error: the 413
                await refuse()
                return
            if refused:
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except BaseException:
            if not over or started:
                raise
        if over and not started:
            await refuse()


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _refuse(scope: Scope, receive: Receive, send: Send, path: str, limit: int) -> None:
    size = f"{limit // KIB} KB"
    response: Any
    if path.startswith("/api/"):
        from coldset.api.errors import problem

        response = problem(
            413,
            "too-large",
            f"The request body is larger than this endpoint takes ({size}); nothing was recorded.",
            headers={"Connection": "close"},
            limit=limit,
        )
    else:
        response = HTMLResponse(
            "<!doctype html><meta charset=utf-8><title>Too much to send</title>"
            "<meta name=viewport content='width=device-width'>"
            "<link rel=stylesheet href='/static/coldset.css'>"
            "<main class=page><h1>Too much to send</h1>"
            f"<p>What this form sent is larger than it takes ({size}). Nothing was "
            "recorded. Go back, shorten what you typed, and send it again.</p></main>",
            status_code=413,
            headers={"Connection": "close"},
        )
    await response(scope, receive, send)
