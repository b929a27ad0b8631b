"""Security headers on every response: pages, static files, the JSON API, error pages.

- ``Content-Security-Policy``: only this server's own script, style sheet, images
  and connections (``'self'``); no inline script, no inline style, no plugins; forms
  post only here; the pages cannot be framed (``frame-ancestors 'none'``). Every
  script a page runs is ``/static/coldset.js``; a page's JSON data block
  (``<script type="application/json">``) is data, never run.
- ``X-Frame-Options: DENY`` (older browsers), ``X-Content-Type-Options: nosniff``.
- ``Referrer-Policy: same-origin``: a page's own address goes with the requests it
  makes here (the 503 page's "Back to the form" reads it), never to another site.
- ``Permissions-Policy``: no page uses the camera, microphone, location, payment or
  USB (tags are scanned by a handheld scanner that types them; no page scans
  with a camera).
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
}


def add_security_headers(headers: MutableHeaders) -> None:
    """Set each header the response does not set itself."""
    for name, value in HEADERS.items():
        if name not in headers:
            headers[name] = value


class SecurityHeaders:
    """ASGI middleware: :data:`HEADERS` on every HTTP response that passes through it.
    (The app's 500 page is sent outside every middleware; its handler adds them.)"""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                add_security_headers(MutableHeaders(scope=message))
            await send(message)

        await self.app(scope, receive, send_with_headers)
