"""What the deciders share (:mod:`.decide`, :mod:`.decide_setup`, :mod:`.decide_handling`).

The rejection a decider raises, the registry that maps a command class to its
decider, and the state checks more than one decider makes. Every decide module
imports from here; this module imports none of them, so there is no import circle.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from coldset.domain import commands as c
from coldset.domain.events import Event
from coldset.domain.model import NON_FIRING_TYPES, ProductionSettings, RoundKind
from coldset.domain.state import State


class Rejection(Exception):
    """A well-formed command that cannot be carried out, with what to do about it."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind  # unknown-id | duplicate | wrong-role | stale-state | malformed
        self.message = message


#: kinds of rejection that are still recorded in the log (the command was well formed
#: and attributable); ``unknown-id`` and ``malformed`` write nothing.
RECORDED_REJECTIONS = frozenset({"wrong-role", "stale-state", "duplicate"})


Decider = Callable[[State, Any, str, int], list[Event]]
DECIDERS: dict[type[c.CommandBase], Decider] = {}


def decides(cls: type[c.CommandBase]) -> Callable[[Decider], Decider]:
    def deco(fn: Decider) -> Decider:
        DECIDERS[cls] = fn
        return fn

    return deco


def stale(message: str) -> Rejection:
    return Rejection("stale-state", message)


def require_holder(state: State, fid: str, person: str, doing: str) -> None:
    f = state.firearms[fid]
    if f.disposed:
        raise stale(f"firearm {fid} was returned on {f.disposition_date}")
    if f.custody.kind == "container":
        raise stale(f"firearm {fid} is locked in {f.custody.ref}: unlock it before you {doing}")
    if f.custody.ref != person:
        raise stale(f"firearm {fid} is held by {f.custody.ref}, not {person}")


def place_of(state: State, container: str | None, actor: str) -> str:
    """Where rounds go to / come from: an open container or the actor's hand.

    A locked container is refused (``stale-state``): rounds never come out of or go
    into a locked container. A handler unlocks it first, which moves its contents into
    their custody (``single-custody``), and locks them back in with ``lock_container``.
    """
    if not container:
        return f"person:{actor}"
    box = state.containers[container]
    if box.locked:
        raise stale(
            f"container {box.id} is locked: rounds do not come out of or go into a "
            "locked container. Unlock it first (its contents pass into your "
            "custody), work from your hand, then lock them back in"
        )
    return f"container:{container}"


def safety_confirmers(state: State, cmd: c.ReconcileCounts) -> list[str]:
    """Safety contacts confirming ``cmd``, other than its actor (a two-person count)."""
    return sorted(
        {
            x.person
            for x in cmd.confirmations
            if x.person != cmd.actor and state.has_role(x.person, "safety_contact")
        }
    )


def resolves_discrepancy(state: State, cmd: c.ReconcileCounts) -> bool:
    """Is this count meant to resolve a difference: it differs from the expected stock
    and carries an explanation and a safety contact's confirmation (``round-accounting``)?"""
    differs = cmd.counted != state.lots[cmd.lot].counts.expected_stock
    return (
        differs
        and bool(cmd.explanation)
        and any(state.has_role(x.person, "safety_contact") for x in cmd.confirmations)
    )


def settings_dict(cmd: c.CreateProduction) -> dict[str, int]:
    return {k: getattr(cmd, k) for k in asdict(ProductionSettings())}


def firing(state: State, fid: str) -> bool:
    return state.firearms[fid].type not in NON_FIRING_TYPES


def lot_kind(state: State, lid: str) -> RoundKind:
    return state.lots[lid].kind
