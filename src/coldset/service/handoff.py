"""The handoff, as ONE service operation: inspect the firearm, then issue it to the performer.

The tablet's handoff page, ``POST /api/v1/productions/{production}/handoffs`` and the
replays (an armorer's ``inspect`` followed by their ``issue`` of the same firearm; see
:mod:`coldset.replay.engine`) all call :func:`run_handoff` (or, without a server,
:func:`run_handoff_sync`) with a :class:`Handoff`; none of them builds the two
commands itself.

What it writes: the same two log entries as two separate commands would (an
``inspect``, then an ``issue``), so the log and its readers do not change. The
inspection is a fact that happened at the cart: it is recorded whatever the issue
then comes to. The issue is sent only when the inspection was *allowed* (a
refused or malformed inspection answers at once, and no issue is tried), and
the issue carries the performer's PIN (plus any further confirmations, e.g. the
first AD) as its confirmations.

ONE runner call: ``run_steps([inspect, issue])``, which the writer runs as one
operation in one transaction, in order, stopping at the first step that is not
allowed (:meth:`~coldset.service.core.CustodyService.execute_groups`). Each step
is still its own log entry, as before. A refused or rejected issue after an
allowed inspection keeps the inspection's entry: the inspection happened at the
cart, whatever the issue came to. A double submit with the same idempotency key
answers the first handoff's two results and writes nothing (both keys are in the
same transaction as their entries).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from coldset.service.result import Result

#: suffixes of the two commands' idempotency keys (the page has always used these)
INSPECT_KEY, ISSUE_KEY = "-inspect", "-issue"


class Runner(Protocol):
    async def run_steps(self, commands: Sequence[Any]) -> list[Result]: ...


@dataclass(frozen=True)
class Handoff:
    """What a handoff needs: the checklist, who receives the firearm and their PIN."""

    production: str
    actor: str  # the armorer (who inspects and issues)
    firearm: str
    chambers: list[Any]
    barrel_clear: Any
    to: str  # the performer
    pin: Any  # the performer's PIN
    scene: str | None = None
    confirmations: list[Any] = field(default_factory=list)  # further {person, pin}
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
        "type": "inspect",
        "production": h.production,
        "actor": h.actor,
        "firearm": h.firearm,
        "chambers": h.chambers,
        "barrel_clear": h.barrel_clear,
    }
    issue: dict[str, Any] = {
        "type": "issue",
        "production": h.production,
        "actor": h.actor,
        "firearm": h.firearm,
        "to": h.to,
        "confirmations": [{"person": h.to, "pin": h.pin}, *h.confirmations],
    }
    if h.scene:
        issue["scene"] = h.scene
    if h.idempotency_key:
        inspect["idempotency_key"] = h.idempotency_key + INSPECT_KEY
        issue["idempotency_key"] = h.idempotency_key + ISSUE_KEY
    return inspect, issue


def _result(found: list[Result]) -> HandoffResult:
    return HandoffResult(found[0], found[1] if len(found) > 1 else None)


async def run_handoff(runner: Runner, h: Handoff) -> HandoffResult:
    """Inspect, then (when the inspection was allowed) issue, as one operation: see the
    module doc."""
    return _result(await runner.run_steps(list(handoff_commands(h))))


def run_handoff_sync(
    custody: Any, h: Handoff, times: tuple[datetime | None, datetime | None] | None = None
) -> HandoffResult:
    """:func:`run_handoff` on a :class:`~coldset.service.core.CustodyService` directly
    (the CLI and the replays without a server); ``times``: when the inspection and the
    issue happened (None: the service's clock)."""
    return _result(
        custody.execute_steps(list(handoff_commands(h)), times=list(times) if times else None)
    )
