"""What both adapters (the pages and the JSON API) get from the app: its services and
settings (:class:`AppState`, built once by :func:`coldset.web.app.create_app`), and the
problem a handler raises (:class:`HTTPProblem`; a page shows it, the API answers it as
an RFC 9457 problem)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates

from coldset.clock import Clock
from coldset.service.accounts import AccountService
from coldset.service.command_queue import CommandRunner
from coldset.service.core import CustodyService


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
    secure_cookies: bool | None  # None: Secure when the request came over HTTPS
    install_name: str
    csrf_secret: bytes  # signs the logged-out CSRF token (coldset.web.csrf)
    #: the anonymous concern form's rate limit (a ``coldset.web.ratelimit.ConcernLimiter``;
    #: the pages' module, above this layer, so not named here)
    concern_limiter: Any
    demo_logins: list[Any] = field(default_factory=list)
    board_events: Any = None  # coldset.web.live.BoardEvents: the live board streams


def app_state(request: Request) -> AppState:
    st: AppState = request.app.state.coldset
    return st
