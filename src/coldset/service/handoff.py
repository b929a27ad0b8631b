"""The handoff, as ONE service operation: inspect the firearm, then issue it to the performer.

The tablet's handoff page, ``POST /api/v1/productions/{production}/handoffs`` and a
scenario's ``handoff`` step all call :func:`run_handoff` with a :class:`Handoff`;
none of them builds the two commands itself.

What it writes: the same two log entries as two separate commands would (an
``inspect``, then an ``issue``), so the log and its readers do not change. The
inspection is a fact that happened at the cart: it is recorded whatever the issue
then comes to. The issue is sent only when the inspection was *allowed* (a
refused or malformed inspection answers at once, and no issue is tried), and
the issue carries the performer's PIN (plus any further confirmations, e.g. the
first AD) as its confirmations.

One runner call each (the same ``run(command, actor_pin)`` the rest of the web
app uses). TODO(runner): the runners (``CommandQueue``, ``WriterProcess``) take one
command per call; once they offer "run these in one batch, stop at the first that
is not allowed", this operation sends both in one call and they commit in one
transaction. Until then the inspection commits on its own first; that changes no
outcome (the issue's rules read the inspection from the state either way).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from coldset.service.result import Result

#: suffixes of the two commands' idempotency keys (the page has always used these)
INSPECT_KEY, ISSUE_KEY = "-inspect", "-issue"


class Runner(Protocol):
    async def run(self, command: Any, actor_pin: str | None = None) -> Result: ...


@dataclass(frozen=True)
class Handoff:
    """What a handoff needs: the checklist, who receives the firearm and their PIN."""

    production: str
    actor: str                          # the armorer (who inspects and issues)
    firearm: str
    chambers: list[Any]
    barrel_clear: Any
    to: str                             # the performer
    pin: Any                            # the performer's PIN
    scene: str | None = None
    confirmations: list[Any] = field(default_factory=list)   # further {person, pin}
    idempotency_key: str | None = None


@dataclass(frozen=True)
class HandoffResult:
    """The inspection's result, and the issue's (None: not tried, the inspection was
    not allowed)."""

    inspection: Result
    issue: Result | None

    @property
    def last(self) -> Result:
        """What the handoff came to: the issue's result, or the inspection's."""
        return self.issue if self.issue is not None else self.inspection

    @property
    def ok(self) -> bool:
        return self.issue is not None and self.issue.ok


def handoff_commands(h: Handoff) -> tuple[dict[str, Any], dict[str, Any]]:
    """The two commands of a handoff, inspect then issue (plain dicts, checked by the
    command models when they run)."""
    inspect: dict[str, Any] = {
        "type": "inspect", "production": h.production, "actor": h.actor,
        "firearm": h.firearm, "chambers": h.chambers, "barrel_clear": h.barrel_clear}
    issue: dict[str, Any] = {
        "type": "issue", "production": h.production, "actor": h.actor,
        "firearm": h.firearm, "to": h.to,
        "confirmations": [{"person": h.to, "pin": h.pin}, *h.confirmations]}
    if h.scene:
        issue["scene"] = h.scene
    if h.idempotency_key:
        inspect["idempotency_key"] = h.idempotency_key + INSPECT_KEY
        issue["idempotency_key"] = h.idempotency_key + ISSUE_KEY
    return inspect, issue


async def run_handoff(runner: Runner, h: Handoff) -> HandoffResult:
    """Inspect, then (when the inspection was allowed) issue: see the module doc."""
    inspect, issue = handoff_commands(h)
    first = await runner.run(inspect)
    if not first.ok:
        return HandoffResult(first, None)
    return HandoffResult(first, await runner.run(issue))


def run_handoff_sync(custody: Any, h: Handoff) -> HandoffResult:
    """:func:`run_handoff` on a :class:`~coldset.service.core.CustodyService` directly
    (the CLI and the replays without a server)."""
    inspect, issue = handoff_commands(h)
    first = custody.execute(inspect)
    if not first.ok:
        return HandoffResult(first, None)
    return HandoffResult(first, custody.execute(issue))
