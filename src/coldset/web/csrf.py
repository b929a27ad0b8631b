"""CSRF for the pages: one check, for every unsafe request, run by the app itself.

Every POST, PUT, PATCH or DELETE outside ``/api/`` passes :func:`csrf_guard`, a
dependency of the whole FastAPI app (``FastAPI(dependencies=...)``), before its
handler runs; a handler cannot forget it. The form's ``csrf`` field must be:

- logged in: the session's token (random, kept server-side with the session);
- logged out: the ``coldset_csrf`` cookie's value, and that value must be
  ``<random>.<HMAC-SHA256(install secret, random)>``, so a pair an attacker
  makes up (the same made-up value in a cookie and a field) is refused.

A form a browser says came from another site (``Sec-Fetch-Site: cross-site``)
is refused even with a good token.

The JSON API under ``/api/`` is exempt: it authenticates with an
``Authorization: Bearer`` header that a browser never adds by itself to a
cross-site request, and it accepts no cookie.

The install secret is 32 random bytes in ``<data dir>/csrf.key`` (mode 0600),
made the first time the web app starts on an install and read at every start
after; a secret readable by group or others refuses the start, as for the
signing key.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import os
import secrets
import stat
import tempfile
from pathlib import Path
from typing import Any

from fastapi import Request

from coldset.api.state import HTTPProblem, app_state
from coldset.config import ConfigError
from coldset.service.accounts import csrf_equal
from coldset.web.session import session_of

SECRET_FILE = "csrf.key"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_LABEL = b"coldset logged-out csrf v1\x00"

#: the logged-out CSRF token's cookie
ANON_CSRF_COOKIE = "coldset_csrf"


def load_secret(home: Path) -> bytes:
    """The install's CSRF secret; made (mode 0600, atomically) when there is none yet."""
    path = home / SECRET_FILE
    if not path.exists():
        _make_secret(home, path)
    try:
        st = path.stat()
        text = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"CSRF secret {path} is unreadable ({e})") from None
    if not stat.S_ISREG(st.st_mode):
        raise ConfigError(f"CSRF secret {path} is not a regular file")
    if st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(
            f"CSRF secret {path} is readable by other users (mode "
            f"{stat.S_IMODE(st.st_mode):04o}); run `chmod 600 {path}`"
        )
    try:
        secret = bytes.fromhex(text)
    except ValueError:
        secret = b""
    if len(secret) != 32:
        raise ConfigError(
            f"CSRF secret {path} is damaged: delete it and start the server "
            "again (a new one is made; pages open on tablets need a reload)"
        )
    return secret


def _make_secret(home: Path, path: Path) -> None:
    try:
        fd, tmp = tempfile.mkstemp(dir=home, prefix=".csrf-", suffix=".tmp")  # mode 0600
    except OSError as e:
        raise ConfigError(f"cannot create the CSRF secret in {home} ({e})") from None
    try:
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(secrets.token_hex(32) + "\n")
            f.flush()
            os.fsync(f.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)  # never replaces one made meanwhile
    finally:
        os.unlink(tmp)


def _mac(secret: bytes, rand: str) -> str:
    digest = hmac.new(secret, _LABEL + rand.encode("ascii"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def new_anonymous_token(secret: bytes) -> str:
    """A logged-out token: ``<random>.<mac>``."""
    rand = secrets.token_urlsafe(24)
    return f"{rand}.{_mac(secret, rand)}"


def anonymous_token_valid(secret: bytes, token: str | None) -> bool:
    """True when ``token`` was made by :func:`new_anonymous_token` under ``secret``."""
    if not token or len(token) > 200 or token.count(".") != 1:
        return False
    rand, mac = token.split(".")
    if not rand or not rand.isascii():
        return False
    return hmac.compare_digest(mac.encode("ascii", "replace"), _mac(secret, rand).encode("ascii"))


def needs_check(request: Request) -> bool:
    return request.method in UNSAFE_METHODS and not request.url.path.startswith("/api/")


async def csrf_guard(request: Request) -> None:
    """The app-wide dependency: refuse an unsafe page request without a good token."""
    if not needs_check(request):
        return
    if request.headers.get("sec-fetch-site", "").lower() == "cross-site":
        raise HTTPProblem(
            403,
            "This form came from another site",
            "Nothing was changed. Open coldset's own page and send the form from there.",
        )
    form: Any = await request.form()  # cached on the request: the handler reads it again
    check_csrf(request, form)


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
            app_state(request).csrf_secret, cookie
        )
    if not ok:
        raise HTTPProblem(
            403,
            "This form has expired",
            "The form was missing its security token or it was from an old "
            "page. Nothing was changed. Go back, reload the page and try again.",
        )
