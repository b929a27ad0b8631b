"""Who is logged in, and as whom on a production: the session cookie, the login a page
needs, the person and roles of the account on a production (:func:`member`)."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from coldset.api.state import HTTPProblem, app_state
from coldset.service.accounts import Session
from coldset.service.queries import member_roles

SESSION_COOKIE = "coldset_session"


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
        raise HTTPProblem(
            403,
            "Not on this production",
            f"Your login ({s.account.login}) is not linked to a person on "
            f"production {production!r}. Ask the production's admin.",
        )
    roles = member_roles(app_state(request).custody.state(production), person)
    return Member(s, production, person, roles)
