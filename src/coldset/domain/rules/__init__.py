"""The rule catalogue: one function per rule id of docs/rules.md (= SAFETY_RULES.md).

A rule is a plain function of a :class:`RuleContext` (state before the command,
the command, the time, the production settings) that returns the verdicts it
gives — an empty list when the command passes it. Register it with
:func:`rule`::

    @rule("no-live-ammo", applies_to=(ReceiveLot, Load), source="Bulletin #1; Cal. LC §9155")
    def no_live_ammo(ctx: RuleContext) -> list[Verdict]:
        ...
        return [ctx.block("Live ammunition is never allowed on a production.")]

:func:`evaluate` runs EVERY rule that applies to the command and returns every
failing verdict (not only the first). The service decides from the verdict
kinds: ``block`` refuses; ``block_overridable`` refuses unless the command
carries a valid override naming the ``overridable_by`` roles; ``alert`` allows
and raises an alert; ``stop_work`` allows and stops firearm use on ``scope``.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal
from zoneinfo import ZoneInfo

from coldset.domain.commands import CommandBase
from coldset.domain.model import ProductionSettings, replace
from coldset.domain.state import State

VerdictKind = Literal["block", "block_overridable", "alert", "stop_work"]
BLOCKING: frozenset[str] = frozenset({"block", "block_overridable"})

#: Every rule id of the catalogue, in catalogue order. The docs test checks this
#: list against docs/rules.md; :data:`REGISTRY` must end up with exactly these.
RULE_IDS: tuple[str, ...] = (
    "no-live-ammo",
    "dummy-verified",
    "round-accounting",
    "ammo-secured",
    "armorer-only-handoff",
    "no-performer-transfer",
    "single-custody",
    "show-clear-before-issue",
    "recheck-after-break",
    "collect-after-take",
    "scene-bound",
    "performer-trained",
    "handler-credentials",
    "armorer-dedicated",
    "handler-present",
    "safety-meeting",
    "muzzle-plan",
    "blank-distance",
    "load-at-take",
    "misfire-quarantine",
    "unplanned-discharge",
    "barrel-check-before-blanks",
    "concern-answered",
    "stop-work",
)


@dataclass(frozen=True)
class Verdict:
    """One rule's failing verdict on one command."""

    rule: str
    kind: VerdictKind
    reason: str  # a sentence a person on set understands
    source: str  # where the rule comes from
    overridable_by: tuple[str, ...] = ()  # Role values, or "handler" for any handler role
    scope: str | None = None  # stop_work: "production" or a unit id
    quarantine: tuple[str, ...] = ()  # stop_work: "firearm:ID" / "lot:ID" to quarantine
    subject: str = ""  # alert: what it is about, e.g. "firearm:colt-1"
    alert_roles: tuple[str, ...] = ()  # alert: who must resolve it

    @property
    def blocks(self) -> bool:
        return self.kind in BLOCKING

    def to_entry(self) -> dict[str, str]:
        """The verdict as it is stored in a ledger entry."""
        return {
            "rule": self.rule,
            "verdict": self.kind,
            "reason": self.reason,
            "source": self.source,
        }


@dataclass(frozen=True)
class RuleContext:
    state: State  # the state BEFORE the command
    command: CommandBase
    now: datetime  # timezone-aware UTC
    settings: ProductionSettings
    confirmed: frozenset[str] = frozenset()  # people whose PIN in `confirmations` checked out
    # filled in by the @rule wrapper while the rule runs:
    rule_id: str = ""
    source: str = ""

    @property
    def today(self) -> date:
        """The calendar day at the production's location."""
        tz = self.state.production.time_zone if self.state.production else "UTC"
        return self.now.astimezone(ZoneInfo(tz)).date()

    def block(self, reason: str) -> Verdict:
        return Verdict(self.rule_id, "block", reason, self.source)

    def block_overridable(self, reason: str, *by: str) -> Verdict:
        return Verdict(
            self.rule_id, "block_overridable", reason, self.source, overridable_by=tuple(by)
        )

    def alert(self, reason: str, subject: str = "", roles: Iterable[str] = ()) -> Verdict:
        return Verdict(
            self.rule_id, "alert", reason, self.source, subject=subject, alert_roles=tuple(roles)
        )

    def stop_work(self, reason: str, scope: str, quarantine: Iterable[str] = ()) -> Verdict:
        return Verdict(
            self.rule_id,
            "stop_work",
            reason,
            self.source,
            scope=scope,
            quarantine=tuple(quarantine),
        )


RuleFn = Callable[[RuleContext], list[Verdict]]


class RuleMisapplied(TypeError):
    """A rule was given a command it was not registered for (a bug, never user input).

    A real check rather than ``assert``: asserts vanish under ``python -O``, and a rule
    reading the wrong command's fields must fail loudly, not decide."""


def misapplied(ctx: RuleContext) -> RuleMisapplied:
    return RuleMisapplied(f"rule {ctx.rule_id!r} does not apply to {type(ctx.command).__name__}")


@dataclass(frozen=True)
class Rule:
    id: str
    fn: RuleFn
    applies_to: tuple[type[CommandBase], ...]
    source: str
    doc: str = field(default="")


REGISTRY: dict[str, Rule] = {}


def rule(
    rule_id: str, *, applies_to: Iterable[type[CommandBase]], source: str
) -> Callable[[RuleFn], RuleFn]:
    """Register ``fn`` as the rule ``rule_id`` for the given command classes."""
    if rule_id not in RULE_IDS:
        raise ValueError(f"{rule_id!r} is not a rule id of the catalogue")

    def deco(fn: RuleFn) -> RuleFn:
        if rule_id in REGISTRY and REGISTRY[rule_id].fn is not fn:
            raise ValueError(f"rule {rule_id!r} registered twice")
        REGISTRY[rule_id] = Rule(rule_id, fn, tuple(applies_to), source, (fn.__doc__ or "").strip())
        _BY_TYPE.clear()
        return fn

    return deco


_loaded = False


def load_rules() -> dict[str, Rule]:
    """Import every module of this package so each registers its rules."""
    global _loaded
    if not _loaded:
        for mod in pkgutil.iter_modules(__path__):
            importlib.import_module(f"{__name__}.{mod.name}")
        _loaded = True
    return REGISTRY


_BY_TYPE: dict[type, tuple[Rule, ...]] = {}


def applicable(command: CommandBase) -> list[Rule]:
    """The rules that apply to ``command`` (found once per command class)."""
    found = _BY_TYPE.get(type(command))
    if found is None:
        load_rules()
        found = _BY_TYPE[type(command)] = tuple(
            r for r in REGISTRY.values() if isinstance(command, r.applies_to)
        )
    return list(found)


def evaluate(ctx: RuleContext) -> list[Verdict]:
    """Run every rule that applies to the command; return every verdict they give."""
    out: list[Verdict] = []
    for r in applicable(ctx.command):
        out.extend(r.fn(replace(ctx, rule_id=r.id, source=r.source)))
    return out


__all__ = [
    "BLOCKING",
    "REGISTRY",
    "RULE_IDS",
    "Rule",
    "RuleContext",
    "RuleMisapplied",
    "Verdict",
    "VerdictKind",
    "applicable",
    "evaluate",
    "load_rules",
    "misapplied",
    "rule",
]
