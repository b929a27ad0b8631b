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
from coldset.service.handoff import Handoff, run_handoff_sync

VIA = ("service", "api")
BLOCKING = ("block", "block_overridable")


@dataclass
class Outcome:
    """What one command came to, the same whichever way it ran."""

    status: str  # allowed | refused | rejected
    verdicts: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    error_kind: str | None = None
    error: str | None = None
    http_status: int | None = None
    problem: str | None = None  # the transport itself misbehaved

    @property
    def blocking(self) -> tuple[str, ...]:
        """Rules that blocked (refused), or that an override let through (allowed)."""
        return tuple(sorted({v["rule"] for v in self.verdicts if v["verdict"] in BLOCKING}))

    @property
    def raised(self) -> tuple[str, ...]:
        """Rules that raised an alert or a stop-work."""
        return tuple(sorted({v["rule"] for v in self.verdicts if v["verdict"] not in BLOCKING}))

    @property
    def alerts(self) -> int:
        """Alerts this command opened: an alert verdict whose alert is already open (same
        rule and subject) opens no new one and is not counted again."""
        return sum(1 for e in self.events if e.get("type") == "alert_raised")

    @classmethod
    def from_dict(cls, d: dict[str, Any], http_status: int | None = None) -> Outcome:
        """From a ``Result.to_dict()`` or an API answer: a 200's result, or a problem
        (``application/problem+json``: its HTTP ``status``, the command's ``outcome``
        and ``detail``; a problem that is no command's result counts as ``error``)."""
        status = d.get("status")
        if isinstance(status, int):
            status = d.get("outcome") or "error"
        return cls(
            status=str(status),
            verdicts=list(d.get("verdicts") or []),
            events=list(d.get("events") or []),
            error_kind=d.get("error_kind"),
            error=d.get("detail", d.get("error")),
            http_status=http_status,
        )


class Runner(Protocol):
    via: str

    def execute(self, command: dict[str, Any], at: datetime) -> Outcome: ...

    def handoff(self, h: Handoff, at: datetime) -> tuple[Outcome, Outcome | None]:
        """The handoff operation (inspect, then issue) at ``at``: the inspection's outcome
        and the issue's (None: not tried, the inspection was not allowed)."""

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
        self.service = CustodyService(
            self.install.store, self.install.ledger, self.clock, pins=self.install.pins
        )

    def execute(self, command: dict[str, Any], at: datetime) -> Outcome:
        self.clock.set(at)
        return Outcome.from_dict(self.service.execute(command).to_dict())

    def handoff(self, h: Handoff, at: datetime) -> tuple[Outcome, Outcome | None]:
        self.clock.set(at)
        done = run_handoff_sync(self.service, h)
        return (
            Outcome.from_dict(done.inspection.to_dict()),
            Outcome.from_dict(done.issue.to_dict()) if done.issue is not None else None,
        )

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


def _checked(out: Outcome, http_status: int) -> Outcome:
    """``out``, with a problem noted when the HTTP status does not fit its outcome."""
    if out.status not in EXPECTED_HTTP or http_status not in EXPECTED_HTTP[out.status]:
        out.problem = (
            f"the API answered HTTP {http_status} for a command that was "
            f"{out.status} ({out.error_kind or 'no error kind'}: {out.error})"
        )
    return out


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
            login = (
                person
                if LOGIN_RE.match(person)
                else (f"replay-{i}-" + re.sub(r"[^a-z0-9]+", "-", person.lower())[:40])
            )
            accounts.create(
                login, person, secrets.token_urlsafe(18), site_admin=person == admin
            )  # a site admin creates productions
            accounts.link(login, production, person)
            self.tokens[person] = accounts.create_token(login, "replay")

    def execute(self, command: dict[str, Any], at: datetime) -> Outcome:
        self.clock.set(at)
        if command["actor"] == "anonymous" and command["type"] == "raise_concern":
            return self._anonymous_concern(command)
        body = {k: v for k, v in command.items() if k not in ("type", "production", "actor")}
        url = f"/api/v1/productions/{command['production']}/commands/{command['type']}"
        r = self.client.post(
            url, json=body, headers={"Authorization": f"Bearer {self.tokens[command['actor']]}"}
        )
        try:
            data = r.json()
        except ValueError:
            return Outcome(
                "rejected",
                error_kind="http",
                http_status=r.status_code,
                error=r.text[:200],
                problem=f"HTTP {r.status_code}, not JSON",
            )
        return _checked(Outcome.from_dict(data, r.status_code), r.status_code)

    def handoff(self, h: Handoff, at: datetime) -> tuple[Outcome, Outcome | None]:
        """``POST .../handoffs`` with the armorer's token (what the tablet's page sends)."""
        self.clock.set(at)
        body: dict[str, Any] = {
            "firearm": h.firearm,
            "chambers": h.chambers,
            "barrel_clear": h.barrel_clear,
            "to": h.to,
            "pin": h.pin,
            "confirmations": h.confirmations,
        }
        if h.scene:
            body["scene"] = h.scene
        r = self.client.post(
            f"/api/v1/productions/{h.production}/handoffs",
            json=body,
            headers={"Authorization": f"Bearer {self.tokens[h.actor]}"},
        )
        try:
            data = r.json()
        except ValueError:
            bad = Outcome(
                "rejected",
                error_kind="http",
                http_status=r.status_code,
                error=r.text[:200],
                problem=f"HTTP {r.status_code}, not JSON",
            )
            return bad, None
        if r.status_code == 200:
            return (
                _checked(Outcome.from_dict(data["inspection"], 200), 200),
                _checked(Outcome.from_dict(data["issue"], 200), 200),
            )
        if data.get("step") == "issue":  # the inspection was recorded, the issue not
            return (
                Outcome.from_dict(data["inspection"], 200),
                _checked(Outcome.from_dict(data, r.status_code), r.status_code),
            )
        return _checked(Outcome.from_dict(data, r.status_code), r.status_code), None

    def _anonymous_concern(self, command: dict[str, Any]) -> Outcome:
        """An anonymous concern has no account and no token: it goes through the public
        concern form (``/c/{production}``) as a person with no login sends it, and the
        outcome is read back from the entry the form wrote."""
        from coldset import canonical

        url = f"/c/{command['production']}"
        page = self.client.get(url)
        m = re.search(r'name="csrf" value="([^"]+)"', page.text)
        if page.status_code != 200 or m is None:
            return Outcome(
                "rejected",
                error_kind="http",
                http_status=page.status_code,
                problem=f"the concern form answered HTTP {page.status_code}",
            )
        form = {"csrf": m.group(1), "text": command["text"]}
        if command.get("unit"):
            form["unit"] = command["unit"]
        r = self.client.post(url, data=form)
        if r.status_code != 200:
            return Outcome(
                "rejected", error_kind="http", http_status=r.status_code, error=r.text[:200]
            )
        origin = self.app.state.coldset.custody.origin(command["production"])
        with self.install.store.read() as conn:
            last = None
            for _i, data in self.install.ledger.entries(conn, origin):
                last = data
        entry = canonical.loads(last) if last is not None else {}
        outcome = str(entry.get("outcome") or "")
        status = outcome if outcome in ("allowed", "refused") else "rejected"
        return Outcome(
            status,
            verdicts=list(entry.get("verdicts") or []),
            events=list(entry.get("events") or []),
            http_status=r.status_code,
        )

    def state(self, production: str) -> Any:
        return self.app.state.coldset.custody.state(production)

    def close(self) -> None:
        try:
            self.client.__exit__(None, None, None)
        finally:
            self.install.close()
            shutil.rmtree(self.home, ignore_errors=True)
