"""Accounts: per-person logins (argon2id), the person an account is on each production,
sessions (with their CSRF token) and API tokens for scripts.

The only writer of the ``account_*`` tables. A person's *roles* are not here:
they live in the production's log (``grant_role`` / ``add_person``) and the
custody service answers them; an account only says which person it acts as.

Login lock-out: after ``LOCK_AFTER`` wrong passwords within ``LOCK_WINDOW`` the
login is locked for ``LOCK_FOR``, whatever password comes next.

Auth cache (process-local, shared by every ``AccountService`` on the same
``Store``): what an API token or session digest resolved to (the account and its
production links; never a role, never a password or token in clear) is kept for
at most ``AUTH_CACHE_FOR`` seconds, so a busy tablet or script does not read
three account rows per request. The rule:

- any account write made in this process (revoke a token, log out, link a
  login to a person, change a password) empties the cache
  before it returns, so it takes effect on the very next request;
- a write made by another process (``coldset account ...`` while the server
  runs) takes effect within ``AUTH_CACHE_FOR`` (1 s);
- only hits are kept (an unknown or revoked token is looked up every time), a
  session's expiry is checked on every use, and roles are never cached: they
  come from the production's log on every command.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
import time
import weakref
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, insert, select, update

from coldset.clock import Clock, parse_rfc3339, rfc3339
from coldset.store.accounts_schema import (
    account_logins,
    account_members,
    account_sessions,
    account_tokens,
)
from coldset.store.db import Store
from coldset.text import TextError, clean_text

LOGIN_RE = re.compile(r"[a-z0-9][a-z0-9._\-]{0,63}")  # matched whole (fullmatch)
_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._\-]{0,63}")  # a production or person id
MIN_PASSWORD = 10
MAX_NAME, MAX_LABEL = 200, 200
_ENDS = " \t\n\r"  # what is stripped from a login name typed in (as coldset.text does)
SESSION_FOR = timedelta(hours=16)  # a long shoot day
LOCK_AFTER, LOCK_WINDOW, LOCK_FOR = 5, timedelta(minutes=15), timedelta(minutes=15)

_HASHER = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1)  # argon2id
# A hash to verify against when the login does not exist, so timing does not tell.
_DUMMY_HASH = _HASHER.hash(secrets.token_hex(16))


AUTH_CACHE_FOR = 1.0  # seconds; see "Auth cache" above
_AUTH_CACHE_MAX = 10_000


class _AuthCache:
    """digest -> (monotonic deadline, value) for tokens and sessions; see the module doc.

    ``generation`` moves on every invalidation; a lookup that started before an
    invalidation does not store its (possibly stale) answer.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.entries: dict[tuple[str, str], tuple[float, Any]] = {}
        self.generation = 0

    def get(self, kind: str, digest: str) -> Any | None:
        hit = self.entries.get((kind, digest))
        if hit is None or hit[0] <= time.monotonic():
            return None
        return hit[1]

    def put(self, kind: str, digest: str, value: Any, generation: int) -> None:
        with self.lock:
            if generation != self.generation:
                return
            if len(self.entries) >= _AUTH_CACHE_MAX:
                self.entries.clear()
            self.entries[(kind, digest)] = (time.monotonic() + AUTH_CACHE_FOR, value)

    def clear(self) -> None:
        with self.lock:
            self.generation += 1
            self.entries.clear()


_AUTH_CACHES: weakref.WeakKeyDictionary[Store, _AuthCache] = weakref.WeakKeyDictionary()
_AUTH_CACHES_LOCK = threading.Lock()


def _auth_cache(store: Store) -> _AuthCache:
    with _AUTH_CACHES_LOCK:
        cache = _AUTH_CACHES.get(store)
        if cache is None:
            cache = _AUTH_CACHES[store] = _AuthCache()
        return cache


class AccountError(ValueError):
    """Bad account input (the message says what to fix)."""


class LoginFailed(Exception):
    """Wrong login or password, or the login is locked (the message is safe to show)."""


def _is_login(login: object) -> bool:
    """Is ``login`` a well-formed login name? Nothing else is ever looked up: a NUL
    reaching PostgreSQL is an error there, not "no such login"."""
    return isinstance(login, str) and LOGIN_RE.fullmatch(login) is not None


def _line(what: str, value: str, limit: int, *, required: bool) -> str:
    """One line of text as the command models take it (see :mod:`coldset.text`)."""
    try:
        value = clean_text(value if isinstance(value, str) else "")
    except TextError as e:
        raise AccountError(f"{what} {e.message}") from None
    if required and not value:
        raise AccountError(f"{what} is required")
    if len(value) > limit:
        raise AccountError(f"{what} must be at most {limit} characters")
    return value


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Account:
    login: str
    name: str
    site_admin: bool
    demo: bool
    members: dict[str, str] = field(default_factory=dict)  # production -> person

    def person_on(self, production: str) -> str | None:
        return self.members.get(production)


@dataclass(frozen=True)
class Session:
    account: Account
    csrf: str
    expires_at: str


class AccountService:
    """Create accounts, log in and out, check sessions and API tokens."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock
        self._cache = _auth_cache(store)

    def forget_cached(self) -> None:
        """Drop every cached token and session lookup (every account write calls this)."""
        self._cache.clear()

    # ------------------------------------------------------------------ accounts

    def create(
        self, login: str, name: str, password: str, *, demo: bool = False, site_admin: bool = False
    ) -> Account:
        login = login.strip(_ENDS).lower()
        if not _is_login(login):
            raise AccountError(
                "login must be lower-case letters, digits, '.', '_' or '-' (up to 64, no spaces)"
            )
        name = _line("name", name, MAX_NAME, required=True)
        _check_password(password, demo)
        pw = _HASHER.hash(password)
        with self.store.write() as conn:
            if conn.execute(
                select(account_logins.c.login).where(account_logins.c.login == login)
            ).first():
                raise AccountError(f"login {login!r} already exists")
            conn.execute(
                insert(account_logins).values(
                    login=login,
                    name=name,
                    password_hash=pw,
                    demo=demo,
                    site_admin=site_admin,
                    created_at=rfc3339(self.clock.now()),
                    failed_count=0,
                )
            )
        return Account(login, name, site_admin, demo)

    def set_password(self, login: str, password: str) -> None:
        if not _is_login(login):
            raise AccountError(f"no login {login!r}")
        _check_password(password, False)
        pw = _HASHER.hash(password)
        try:
            with self.store.write() as conn:
                n = conn.execute(
                    update(account_logins)
                    .where(account_logins.c.login == login)
                    .values(password_hash=pw, demo=False, failed_count=0, locked_until=None)
                ).rowcount
                if not n:
                    raise AccountError(f"no login {login!r}")
                conn.execute(delete(account_sessions).where(account_sessions.c.login == login))
        finally:
            self.forget_cached()  # its sessions are gone: at once

    def link(self, login: str, production: str, person: str) -> None:
        """Make ``login`` act as ``person`` on ``production`` (replacing any earlier link)."""
        if not _is_login(login):
            raise AccountError(f"no login {login!r}")
        for what, value in (("production", production), ("person", person)):
            if not isinstance(value, str) or not _ID_RE.fullmatch(value):
                raise AccountError(
                    f"{what} must be a tag: letters, digits, '.', '_' or '-' (up to 64, no spaces)"
                )
        try:
            with self.store.write() as conn:
                if not conn.execute(
                    select(account_logins.c.login).where(account_logins.c.login == login)
                ).first():
                    raise AccountError(f"no login {login!r}")
                conn.execute(
                    delete(account_members).where(
                        account_members.c.login == login, account_members.c.production == production
                    )
                )
                conn.execute(
                    insert(account_members).values(
                        login=login, production=production, person=person
                    )
                )
        finally:
            self.forget_cached()  # the person it acts as changed: at once

    def get(self, login: str) -> Account | None:
        if not _is_login(login):
            return None
        with self.store.read() as conn:
            row = conn.execute(
                select(account_logins).where(account_logins.c.login == login)
            ).first()
            if row is None:
                return None
            members = {
                r.production: r.person
                for r in conn.execute(
                    select(account_members).where(account_members.c.login == login)
                )
            }
        return Account(row.login, row.name, bool(row.site_admin), bool(row.demo), members)

    def logins_for(self, production: str) -> dict[str, str]:
        """person -> login, for the people of a production who have an account."""
        with self.store.read() as conn:
            return {
                r.person: r.login
                for r in conn.execute(
                    select(account_members).where(account_members.c.production == production)
                )
            }

    def demo_accounts(self) -> list[str]:
        """Logins made by the demo (a production server refuses to start while any exist)."""
        with self.store.read() as conn:
            return [
                r.login
                for r in conn.execute(
                    select(account_logins.c.login).where(account_logins.c.demo.is_(True))
                )
            ]

    def count(self) -> int:
        with self.store.read() as conn:
            return len(conn.execute(select(account_logins.c.login)).all())

    # ------------------------------------------------------------------ sessions

    def login(self, login: str, password: str) -> tuple[str, Session]:
        """Check the password; a new session token (for the cookie) and the session."""
        login = (login or "").strip(_ENDS).lower()
        now = self.clock.now()
        row = None
        if _is_login(login):
            with self.store.read() as conn:
                row = conn.execute(
                    select(account_logins).where(account_logins.c.login == login)
                ).first()
        if row is None:
            _verify(_DUMMY_HASH, password)
            raise LoginFailed("wrong login or password")
        if row.locked_until and parse_rfc3339(row.locked_until) > now:
            raise LoginFailed(
                "this login is locked after too many wrong passwords; "
                f"try again after {row.locked_until[11:16]} UTC"
            )
        if not _verify(row.password_hash, password):
            self._failed(login, row.failed_count, row.failed_since)
            raise LoginFailed("wrong login or password")
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
        expires = rfc3339(now + SESSION_FOR)
        with self.store.write() as conn:
            conn.execute(
                update(account_logins)
                .where(account_logins.c.login == login)
                .values(failed_count=0, failed_since=None, locked_until=None)
            )
            conn.execute(
                delete(account_sessions).where(account_sessions.c.expires_at < rfc3339(now))
            )
            conn.execute(
                insert(account_sessions).values(
                    token_hash=_digest(token),
                    login=login,
                    csrf=csrf,
                    created_at=rfc3339(now),
                    expires_at=expires,
                )
            )
        account = self.get(login)
        assert account is not None
        return token, Session(account, csrf, expires)

    def _failed(self, login: str, count: int, since: str | None) -> None:
        now = self.clock.now()
        if since is None or parse_rfc3339(since) < now - LOCK_WINDOW:
            count, since = 0, rfc3339(now)
        count += 1
        values: dict[str, object] = {"failed_count": count, "failed_since": since}
        if count >= LOCK_AFTER:
            values.update(locked_until=rfc3339(now + LOCK_FOR), failed_count=0, failed_since=None)
        with self.store.write() as conn:
            conn.execute(
                update(account_logins).where(account_logins.c.login == login).values(**values)
            )

    def session(self, token: str | None) -> Session | None:
        """The live session a cookie token opens, or None (cached: see "Auth cache")."""
        if not token:
            return None
        digest = _digest(token)
        cached: Session | None = self._cache.get("session", digest)
        if cached is None:
            generation = self._cache.generation
            with self.store.read() as conn:
                row = conn.execute(
                    select(account_sessions).where(account_sessions.c.token_hash == digest)
                ).first()
            if row is None:
                return None
            account = self.get(row.login)
            if account is None:
                return None
            cached = Session(account, row.csrf, row.expires_at)
            self._cache.put("session", digest, cached, generation)
        if parse_rfc3339(cached.expires_at) <= self.clock.now():
            return None
        return cached

    def logout(self, token: str | None) -> None:
        if not token:
            return
        try:
            with self.store.write() as conn:
                conn.execute(
                    delete(account_sessions).where(account_sessions.c.token_hash == _digest(token))
                )
        finally:
            self.forget_cached()

    # ------------------------------------------------------------------ API tokens

    def create_token(self, login: str, label: str) -> str:
        """A new API token for scripts; returned once, stored only as a digest."""
        if self.get(login) is None:
            raise AccountError(f"no login {login!r}")
        label = _line("label", label, MAX_LABEL, required=False) or "script"
        token = "cst_" + secrets.token_urlsafe(32)
        with self.store.write() as conn:
            conn.execute(
                insert(account_tokens).values(
                    token_hash=_digest(token),
                    login=login,
                    label=label,
                    created_at=rfc3339(self.clock.now()),
                )
            )
        return token

    def revoke_token(self, token: str) -> bool:
        """Revoke an API token; the next request with it is refused (401)."""
        try:
            with self.store.write() as conn:
                return bool(
                    conn.execute(
                        update(account_tokens)
                        .where(
                            account_tokens.c.token_hash == _digest(token),
                            account_tokens.c.revoked_at.is_(None),
                        )
                        .values(revoked_at=rfc3339(self.clock.now()))
                    ).rowcount
                )
        finally:
            self.forget_cached()

    def token_account(self, token: str | None) -> Account | None:
        """The account a live API token belongs to, or None (cached: see "Auth cache")."""
        if not token:
            return None
        digest = _digest(token)
        cached: Account | None = self._cache.get("token", digest)
        if cached is not None:
            return cached
        generation = self._cache.generation
        with self.store.read() as conn:
            row = conn.execute(
                select(account_tokens.c.login, account_tokens.c.revoked_at).where(
                    account_tokens.c.token_hash == digest
                )
            ).first()
        if row is None or row.revoked_at is not None:
            return None
        account = self.get(row.login)
        if account is not None:
            self._cache.put("token", digest, account, generation)
        return account


def csrf_equal(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(str(a), str(b))


def _check_password(password: str, demo: bool) -> None:
    if not isinstance(password, str):
        raise AccountError("password is required")
    bad = _PASSWORD_BAD.search(password)
    if bad is not None:
        raise AccountError(
            "password must not contain control characters or broken "
            f"Unicode (U+{ord(bad.group()):04X} at character {bad.start() + 1})"
        )
    if not demo and len(password or "") < MIN_PASSWORD:
        raise AccountError(f"password must be at least {MIN_PASSWORD} characters")
    if demo and not password:
        raise AccountError("password is required")


#: What a password may not contain: the single-line rule of :mod:`coldset.text` (a
#: password is kept exactly as typed: not stripped, not normalised).
_PASSWORD_BAD = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")


def _verify(stored: str, password: str) -> bool:
    try:
        return bool(_HASHER.verify(stored, password or ""))
    except (VerificationError, InvalidHashError):
        return False
    except UnicodeEncodeError:  # a lone surrogate: no stored password holds one
        return False
