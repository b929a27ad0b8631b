"""One command against one state: the whole decision, pure.

:func:`decide_entry` runs the checks in order — references, role, credentials
(the service verified the PINs and passes the results in), every applicable
safety rule, the state, then the events — and returns the ledger entry to
append (or none, for input that cannot be recorded). The service wraps it
with storage; tests and replays can call it with no database at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from itertools import permutations
from typing import Any, Literal

from coldset.clock import rfc3339
from coldset.domain import commands as c
from coldset.domain.decide import (
    RECORDED_REJECTIONS,
    Rejection,
    check_permission,
    check_references,
    consequences,
    events_for,
)
from coldset.domain.events import Event, envelope, event
from coldset.domain.rules import RuleContext, Verdict, evaluate
from coldset.domain.state import State

PinResult = Literal["ok", "wrong", "locked", "no-pin"]
Status = Literal["allowed", "refused", "rejected"]


@dataclass
class Decision:
    status: Status
    entry: dict[str, Any] | None  # None: nothing is written
    verdicts: list[Verdict] = field(default_factory=list)
    error_kind: str | None = None  # rejected: unknown-id, wrong-role, credential, ...
    error: str | None = None

    @property
    def events(self) -> list[Event]:
        return list(self.entry["events"]) if self.entry else []


def override_satisfies(state: State, cmd: c.CommandBase, verdict: Verdict) -> bool:
    """Do the actor and the override confirmers cover the roles the verdict names?"""
    if cmd.override is None:
        return False
    people = list(dict.fromkeys([cmd.actor, *(x.person for x in cmd.override.confirmers)]))
    roles = verdict.overridable_by
    if not roles or len(people) < len(roles):
        return False
    # each named role needs its own person
    return any(
        all(state.has_role(p, r) for p, r in zip(perm, roles, strict=False))
        for perm in permutations(people, len(roles))
    )


def decide_entry(
    state: State,
    cmd: c.CommandBase,
    now: datetime,
    pins: dict[str, PinResult] | None = None,
    origin: str = "",
) -> Decision:
    """Decide ``cmd`` against ``state`` at ``now``; the entry index is ``state.size``.

    ``pins`` maps every confirmer (that exists) to the result of checking their PIN;
    ``origin`` is the log origin, recorded when the command creates the production.
    """
    at = rfc3339(now)
    index = state.size
    command = c.public_dict(cmd)
    production = cmd.production

    def entry(
        outcome: str,
        verdicts: list[Verdict],
        events: list[Event],
        error: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        return envelope(
            at=at,
            production=production,
            actor=cmd.actor,
            command=command,
            outcome=outcome,
            verdicts=[v.to_entry() for v in verdicts],
            events=events,
            error=error,
        )

    def rejected(r: Rejection) -> Decision:
        if r.kind in RECORDED_REJECTIONS:
            return Decision(
                "rejected",
                entry("rejected", [], [], {"kind": r.kind, "message": r.message}),
                error_kind=r.kind,
                error=r.message,
            )
        return Decision("rejected", None, error_kind=r.kind, error=r.message)

    try:
        check_references(state, cmd)
        check_permission(state, cmd)
    except Rejection as r:
        return rejected(r)

    # credentials: every confirmer's PIN, verified by the caller
    pins = pins or {}
    bad = {p: r for p, r in pins.items() if r != "ok"}
    if bad:
        events: list[Event] = []
        limit = state.settings.pin_lockout_failures
        said: dict[str, str] = {}
        for person, result in sorted(bad.items()):
            if result == "wrong":
                left = limit - (state.recent_pin_failures(person, now) + 1)
                events.append(event("pin_rejected", person=person, locks=left <= 0))
                said[person] = (
                    "wrong PIN: it is now locked after too many wrong tries (a "
                    "handler must reset it)"
                    if left <= 0
                    else f"wrong PIN ({left} {'try' if left == 1 else 'tries'} left "
                    "before it locks)"
                )
        why = "; ".join(
            f"{_name(state, p)}: "
            + said.get(
                p,
                {
                    "wrong": "wrong PIN",
                    "locked": "PIN locked after too many wrong tries (a handler must reset it)",
                    "no-pin": "has no PIN yet",
                }[r],
            )
            for p, r in sorted(bad.items())
        )
        return Decision(
            "rejected",
            entry("rejected-credential", [], events, {"kind": "credential", "message": why}),
            error_kind="credential",
            error=why,
        )
    confirmed = frozenset(pins)

    ctx = RuleContext(state, cmd, now, state.settings, confirmed)
    verdicts = evaluate(ctx)
    blocks = [v for v in verdicts if v.blocks]
    overridden: list[Verdict] = []
    if blocks:
        hard = [v for v in blocks if v.kind == "block"]
        soft = [v for v in blocks if v.kind == "block_overridable"]
        if hard or cmd.override is None or not all(override_satisfies(state, cmd, v) for v in soft):
            error = None
            if cmd.override is not None and not hard:
                need = sorted({r for v in soft for r in v.overridable_by})
                error = {
                    "kind": "override-invalid",
                    "message": "the override needs confirmations (with PINs) from: "
                    + ", ".join(need),
                }
            return Decision(
                "refused",
                entry("refused", verdicts, [], error),
                verdicts,
                error_kind="refused",
                error="; ".join(f"{v.rule}: {v.reason}" for v in blocks),
            )
        overridden = soft

    try:
        events = events_for(state, cmd, at, index)
    except Rejection as r:
        return rejected(r)
    if isinstance(cmd, c.CreateProduction):
        events[0]["origin"] = origin
    events += consequences(state, cmd, verdicts, overridden, index)
    return Decision("allowed", entry("allowed", verdicts, events), verdicts)


def _name(state: State, pid: str) -> str:
    """A person as the crew knows them: their name (the id when unknown)."""
    p = state.people.get(pid)
    return p.name if p is not None else pid
