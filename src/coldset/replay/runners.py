"""Where a replay runs: the custody service, or the HTTP API in process. Both on a FRESH
temporary install (data directory, signing key, SQLite database) removed afterwards,
with a :class:`~coldset.clock.FixedClock` that each step sets to its time.
"""

from __future__ import annotations

import re
import secrets
import shutil
import tempfile
import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from coldset.clock import FixedClock
from coldset.config import Settings
from coldset.install import Install, init_install, open_install

VIA = ("service", "api")
BLOCKING = ("block", "block_overridable")


@dataclass
class Outcome:
    """What one command came to, the same whichever way it ran."""

    status: str                              # allowed | refused | rejected
    verdicts: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    error_kind: str | None = None
    error: str | None = None
    http_status: int | None = None
    problem: str | None = None               # the transport itself misbehaved

    @property
    def blocking(self) -> tuple[str, ...]:
        """Rules that blocked (refused), or that an override let through (allowed)."""
        return tuple(sorted({v["rule"] for v in self.verdicts if v["verdict"] in BLOCKING}))

    @property
    def raised(self) -> tuple[str, ...]:
        """Rules that raised an alert or a stop-work."""
        return tuple(sorted({v["rule"] for v in self.verdicts
                             if v["verdict"] not in BLOCKING}))

    @property
    def alerts(self) -> int:
        return sum(1 for v in self.verdicts if v["verdict"] == "alert")

    @classmethod
    def from_dict(cls, d: dict[str, Any], http_status: int | None = None) -> Outcome:
        """From a ``Result.to_dict()`` or an API answer: a 200's result, or a problem
        (``application/problem+json``: its HTTP ``status``, the command's ``outcome``
        and ``detail``; a problem that is no command's result counts as ``error``)."""
        status = d.get("status")
        if isinstance(status, int):
            status = d.get("outcome") or "error"
        return cls(status=str(status), verdicts=list(d.get("verdicts") or []),
                   events=list(d.get("events") or []), error_kind=d.get("error_kind"),
                   error=d.get("detail", d.get("error")), http_status=http_status)


class Runner(Protocol):
    via: str

    def execute(self, command: dict[str, Any], at: datetime) -> Outcome: ...

    def state(self, production: str) -> Any:
        """The production's committed state (what the tablet's pages read)."""
        ...

    def close(self) -> None: ...


def _fresh_install() -> tuple[Path, Install]:
    home = Path(tempfile.mkdtemp(prefix="coldset-replay-"))
    settings = Settings.load(home=home)
    init_install(settings, "replay.local")
    return home, open_install(settings)


class ServiceRunner:
    """Commands straight into :class:`~coldset.service.CustodyService`."""

    via = "service"

    def __init__(self) -> None:
        from coldset.service import CustodyService

        self.home, self.install = _fresh_install()
        self.clock = FixedClock(datetime(2000, 1, 1, tzinfo=UTC))
        self.service = CustodyService(self.install.store, self.install.ledger, self.clock,
                                      pins=self.install.pins)

    def execute(self, command: dict[str, Any], at: datetime) -> Outcome:
        self.clock.set(at)
        return Outcome.from_dict(self.service.execute(command).to_dict())

    def state(self, production: str) -> Any:
        return self.service.state(production)

    def close(self) -> None:
        self.install.close()
        shutil.rmtree(self.home, ignore_errors=True)


def _test_client() -> Any:
    """Starlette's in-process client (its notice about httpx is not for our users)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient
    return TestClient


def api_unavailable() -> str | None:
    """Why the HTTP API cannot be used here, or None when it can."""
    try:
        _test_client()
        from coldset.web.app import create_app  # noqa: F401
    except ImportError as e:
        return f"the web app / HTTP API is not importable yet ({e})"
    return None


#: HTTP status the API must answer for each outcome (refusals: 409 with the verdicts).
EXPECTED_HTTP = {"allowed": (200,), "refused": (409,), "rejected": (403, 409, 422)}


class ApiRunner:
    """Commands as JSON over HTTP to the web app's API, in process (no socket).

    Every person of the scenario gets an account linked to their person on the
    production and an API token; each command is POSTed with its actor's token.
    """

    via = "api"

    def __init__(self, production: str, people: list[str], admin: str) -> None:
        why = api_unavailable()
        if why:
            raise RuntimeError(why)
        from coldset.service.accounts import LOGIN_RE
        from coldset.web.app import create_app

        TestClient = _test_client()  # noqa: N806

        self.production = production
        self.home, self.install = _fresh_install()
        self.clock = FixedClock(datetime(2000, 1, 1, tzinfo=UTC))
        self.app = create_app(self.install, clock=self.clock)
        self.client = TestClient(self.app)
        self.client.__enter__()
        accounts = self.app.state.coldset.accounts
        self.tokens: dict[str, str] = {}
        for i, person in enumerate(people):
            # the API makes a production's creator the person named like their login
            login = person if LOGIN_RE.match(person) else (
                f"replay-{i}-" + re.sub(r"[^a-z0-9]+", "-", person.lower())[:40])
            accounts.create(login, person, secrets.token_urlsafe(18),
                            site_admin=person == admin)   # a site admin creates productions
            accounts.link(login, production, person)
            self.tokens[person] = accounts.create_token(login, "replay")

    def execute(self, command: dict[str, Any], at: datetime) -> Outcome:
        self.clock.set(at)
        body = {k: v for k, v in command.items() if k not in ("type", "production", "actor")}
        url = f"/api/v1/productions/{command['production']}/commands/{command['type']}"
        r = self.client.post(url, json=body, headers={
            "Authorization": f"Bearer {self.tokens[command['actor']]}"})
        try:
            data = r.json()
        except ValueError:
            return Outcome("rejected", error_kind="http", http_status=r.status_code,
                           error=r.text[:200], problem=f"HTTP {r.status_code}, not JSON")
        out = Outcome.from_dict(data, r.status_code)
        if out.status not in EXPECTED_HTTP or r.status_code not in EXPECTED_HTTP[out.status]:
            out.problem = (f"the API answered HTTP {r.status_code} for a command that was "
                           f"{out.status} ({out.error_kind or 'no error kind'}: {out.error})")
        return out

    def state(self, production: str) -> Any:
        return self.app.state.coldset.custody.state(production)

    def close(self) -> None:
        try:
            self.client.__exit__(None, None, None)
        finally:
            self.install.close()
            shutil.rmtree(self.home, ignore_errors=True)
