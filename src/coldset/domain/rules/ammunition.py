"""A. Ammunition rules (SAFETY_RULES.md section A).

``no-live-ammo``, ``dummy-verified``, ``round-accounting`` and ``ammo-secured``.
Every number comes from ``ctx.settings``; every reason names the lot, the
person and the count, and says what to do.
"""

from __future__ import annotations

from datetime import datetime

from coldset.clock import parse_rfc3339
from coldset.domain.commands import (
    CheckAlerts,
    Inspect,
    Issue,
    Load,
    ReceiveLot,
    ReportLiveRound,
    StartMealBreak,
    WrapDay,
)
from coldset.domain.model import QUARANTINE_INCIDENTS, DummySource, Exemption, RoundKind
from coldset.domain.rules import RuleContext, Verdict, rule
from coldset.domain.rules.wording import minutes_since, person_name
from coldset.domain.shootday import call_at
from coldset.domain.state import State

# ------------------------------------------------------------------ wording helpers


def _lot_label(state: State, lid: str) -> str:
    lot = state.lots.get(lid)
    if lot is None:
        return f"lot {lid}"
    return f"lot {lid} ({lot.caliber} {lot.kind.value}, {lot.maker})"


def _rounds(n: int) -> str:
    return f"{n} round" + ("" if n == 1 else "s")


def _norm(caliber: str) -> str:
    return "".join(ch for ch in caliber.lower() if ch.isalnum())


# ------------------------------------------------------------------ no-live-ammo


def _exempt(state: State) -> bool:
    return state.production is not None and state.production.exemption != Exemption.none


def _suspects(state: State, firearm: str | None, lot: str | None) -> list[str]:
    """Every firearm and lot a found live round could have come from."""
    out: set[str] = set()
    if lot and lot in state.lots:
        out.add(f"lot:{lot}")
        # any firearm still holding unfired rounds of that lot may hold live ones too
        out.update(
            f"firearm:{fid}"
            for fid, f in state.firearms.items()
            if any(ch is not None and ch.lot == lot and not ch.spent for ch in f.chambers)
        )
    if firearm and firearm in state.firearms:
        f = state.firearms[firearm]
        out.add(f"firearm:{firearm}")
        out.update(f"lot:{ch.lot}" for ch in f.chambers if ch is not None)
        out.update(
            f"lot:{lid}"
            for lid, lt in state.lots.items()
            if _norm(lt.caliber) == _norm(f.caliber) and lt.counts.expected_stock > 0
        )
    if not out:  # nothing named: everything out of lock-up and every lot in stock
        out.update(f"firearm:{fid}" for fid in state.firearms_out())
        out.update(
            f"firearm:{fid}" for fid, f in state.firearms.items() if f.loaded and not f.disposed
        )
        out.update(
            f"lot:{lid}"
            for lid, lt in state.lots.items()
            if lt.counts.expected_stock > 0 or lt.counts.in_firearms > 0
        )
    return sorted(out)


def _quarantine_list(subjects: list[str]) -> str:
    return ", ".join(s.replace(":", " ") for s in subjects) or "nothing named"


def _live_quarantine(state: State, fid: str) -> bool:
    """Is ``fid`` quarantined for a live round (not for a misfire: misfire-quarantine's)?"""
    f = state.firearms.get(fid)
    if f is None or not f.quarantined:
        return False
    if f.quarantine_rule is not None:
        return f.quarantine_rule == "no-live-ammo"
    return not any(
        i.firearm == f.id and i.kind in QUARANTINE_INCIDENTS for i in state.incidents.values()
    )


@rule(
    "no-live-ammo",
    applies_to=(ReceiveLot, Load, Issue, ReportLiveRound, Inspect),
    source="Safety Bulletin #1; Cal. Labor Code §9155; Rust (2021)",
)
def no_live_ammo(ctx: RuleContext) -> list[Verdict]:
    """Live ammunition is never received or loaded; a live round found stops the production.

    A production created with a Cal. Labor Code §9155 exemption category may receive
    and load live lots; a live round *reported found* stops work even there.
    """
    cmd, state = ctx.command, ctx.state
    if isinstance(cmd, ReceiveLot) and cmd.kind == RoundKind.live and not _exempt(state):
        return [
            ctx.block(
                f"Lot {cmd.lot} is live ammunition ({_rounds(cmd.count)} of {cmd.caliber} from "
                f"{cmd.maker}). Live ammunition can never come onto this production: refuse the "
                "delivery and send it back to the supplier."
            )
        ]
    if isinstance(cmd, Load):
        lot = state.lots.get(cmd.lot)
        if lot is None:
            return []
        if lot.kind == RoundKind.live and not _exempt(state):
            return [
                ctx.block(
                    f"{_lot_label(state, lot.id)} is live ammunition; it can never be loaded. "
                    "Leave it locked away and call the safety contact."
                )
            ]
        if _live_quarantine(state, cmd.firearm):  # a misfire is misfire-quarantine's
            return [
                ctx.block(
                    f"{cmd.firearm} is quarantined (a live round may have come from it); nothing "
                    "is loaded into it until a handler and the safety contact release it."
                )
            ]
        if lot.quarantined:
            return [
                ctx.block(
                    f"{_lot_label(state, lot.id)} is quarantined (it may hold live rounds); no "
                    f"round of it goes into {cmd.firearm} until a handler and the safety contact "
                    "release it."
                )
            ]
    if isinstance(cmd, Issue) and _live_quarantine(state, cmd.firearm):
        return [
            ctx.block(
                f"{cmd.firearm} is quarantined (a live round may have come from it): it is not "
                f"issued to {person_name(state, cmd.to)} until a handler and the safety contact "
                "release it (release_quarantine), even after the stop-work is cleared."
            )
        ]
    if isinstance(cmd, ReportLiveRound):
        suspects = _suspects(state, cmd.firearm, cmd.lot)
        return [
            ctx.stop_work(
                f"{person_name(state, cmd.actor)} reported a live round: all firearm use on the "
                "production stops until a handler and the safety contact clear it. Quarantined: "
                f"{_quarantine_list(suspects)}.",
                scope="production",
                quarantine=suspects,
            )
        ]
    if isinstance(cmd, Inspect) and "live" in cmd.chambers and not _exempt(state):
        suspects = _suspects(state, cmd.firearm, None)
        positions = ", ".join(str(i + 1) for i, c in enumerate(cmd.chambers) if c == "live")
        return [
            ctx.stop_work(
                f"The inspection of {cmd.firearm} by {person_name(state, cmd.actor)} found a live "
                f"round (position {positions}): all firearm use on the production stops until a "
                "handler and the safety contact clear it. Quarantined: "
                f"{_quarantine_list(suspects)}.",
                scope="production",
                quarantine=suspects,
            )
        ]
    return []


# ------------------------------------------------------------------ dummy-verified


@rule(
    "dummy-verified",
    applies_to=(ReceiveLot, Load),
    source='The Crow (1993); supplier practice ("unless it rattles it\'s not to be trusted")',
)
def dummy_verified(ctx: RuleContext) -> list[Verdict]:
    """Dummies come only from a commercial lot with a recorded, passed verification of
    every round loaded: a lot checked in part is loaded only up to the count checked."""
    cmd, state = ctx.command, ctx.state
    if isinstance(cmd, ReceiveLot) and cmd.kind == RoundKind.dummy:
        if cmd.dummy_source == DummySource.made_on_production:
            return [
                ctx.block(
                    f"Lot {cmd.lot} is dummies made on the production (pulled bullets can keep a "
                    "live primer). Only commercial dummies are allowed: destroy these and order a "
                    "commercial lot."
                )
            ]
        if cmd.dummy_source is None:
            return [
                ctx.block(
                    f"Lot {cmd.lot} is dummies of unstated origin. Record where they come from "
                    "(dummy_source: commercial); dummies made on the production are refused."
                )
            ]
    if isinstance(cmd, Load):
        lot = state.lots.get(cmd.lot)
        if lot is None or lot.kind != RoundKind.dummy:
            return []
        label = _lot_label(state, lot.id)
        if lot.dummy_source != DummySource.commercial:
            return [ctx.block(f"{label} is not a commercial dummy lot; it cannot be loaded.")]
        v = lot.verification
        if v is None:
            return [
                ctx.block(
                    f"{label} has no recorded verification. A handler checks every round to be "
                    "loaded (no primer or inert primer, side hole or drilled, rattle, see-through "
                    "body, marking) and records how many and how with verify_dummy_lot before "
                    f"any is loaded into {cmd.firearm}."
                )
            ]
        if v.result != "pass":
            return [
                ctx.block(
                    f"{label} failed its verification ({v.method.value}, {v.sample} checked by "
                    f"{person_name(state, v.by)}): quarantine it and return it to the supplier."
                )
            ]
        # a lot checked in part: every load counts against the rounds checked (a round
        # unloaded goes back into the box and cannot be told from an unchecked one)
        n, loaded = len(cmd.positions), lot.counts.loaded
        if lot.dummies_checked < lot.counts.received and loaded + n > lot.dummies_checked:
            held = f", {loaded} loaded from it already" if loaded else ""
            return [
                ctx.block(
                    f"Only {lot.dummies_checked} of the {lot.counts.received} rounds of {label} "
                    f"have been checked{held}: {n} more cannot be loaded into {cmd.firearm}. A "
                    "lot checked in part is loaded only up to the count checked: check the rest "
                    "(verify_dummy_lot, with how many and how) first."
                )
            ]
    return []


# ------------------------------------------------------------------ round-accounting


def _moment(at: str | None) -> datetime | None:
    if not at:
        return None
    try:
        return parse_rfc3339(at)
    except ValueError:
        return None


def _wrap_unreconciled(ctx: RuleContext, cmd: WrapDay) -> list[Verdict]:
    """At wrap, every lot that moved during the shoot day (since its call, across midnight
    if it runs so) is counted after its last movement."""
    state = ctx.state
    day = state.shoot_days.get(cmd.shoot_day)
    since = min(call_at(state, day), ctx.now) if day else ctx.now
    parts = []
    for lid, lot in sorted(state.lots.items()):
        moved = _moment(lot.moved_at)
        if lot.discrepancy:
            what = (
                f"{abs(lot.discrepancy)} missing"
                if lot.discrepancy < 0
                else f"{lot.discrepancy} too many"
            )
            parts.append(
                f"{_lot_label(state, lid)}: the last count is off ({what}) and not resolved"
            )
        elif lot.unreconciled and moved is not None and moved >= since:
            last = f"last counted at {lot.reconciled_at}" if lot.reconciled_at else "never counted"
            parts.append(
                f"{_lot_label(state, lid)}: moved at {lot.moved_at}, {last}; "
                f"{lot.counts.expected_stock} expected in stock"
            )
    if not parts:
        return []
    return [
        ctx.block_overridable(
            "Counts are reconciled at wrap — " + "; ".join(parts) + ". Count each lot "
            "(reconcile_counts) before wrapping the day; a difference is resolved by the "
            "armorer with an explanation, confirmed by the safety contact (or override: "
            "armorer and safety contact).",
            "armorer",
            "safety_contact",
        )
    ]


@rule(
    "round-accounting",
    applies_to=(Issue, WrapDay),
    source="Safety Bulletin #1 (inventory at every issue); practitioner two-person counts",
)
def round_accounting(ctx: RuleContext) -> list[Verdict]:
    """A lot whose last count did not match blocks every issue until it is resolved; the
    day does not wrap while a lot that moved that day is not counted since."""
    state = ctx.state
    if isinstance(ctx.command, WrapDay):
        return _wrap_unreconciled(ctx, ctx.command)
    off = [
        (lid, lot.discrepancy, lot.counts.expected_stock)
        for lid, lot in sorted(state.lots.items())
        if lot.discrepancy
    ]
    if not off:
        return []
    parts = []
    for lid, diff, expected in off:
        what = f"{abs(diff)} missing" if diff < 0 else f"{diff} too many"
        parts.append(
            f"{_lot_label(state, lid)}: counted {expected + diff}, expected {expected} ({what})"
        )
    return [
        ctx.block_overridable(
            "Round counts do not reconcile — " + "; ".join(parts) + ". No firearm is issued on "
            "the production until the armorer recounts the lot with a recorded explanation and "
            "the safety contact confirms with their PIN.",
            "armorer",
            "safety_contact",
        )
    ]


# ------------------------------------------------------------------ ammo-secured


def _place_unit(state: State, place: str) -> str | None:
    kind, _, ref = place.partition(":")
    if kind == "container":
        box = state.containers.get(ref)
        return box.unit if box is not None else None
    where = state.checked_in.get(ref)
    return where[0] if where else None


def _unsecured(state: State, unit: str | None = None) -> dict[str, dict[str, int]]:
    """place -> {lot: rounds} for rounds neither in a firearm nor in a locked container.

    With ``unit``, only places on that unit (or on no known unit).
    """
    out: dict[str, dict[str, int]] = {}
    for lid, lot in sorted(state.lots.items()):
        for place, n in sorted(lot.where.items()):
            kind, _, ref = place.partition(":")
            if n <= 0 or (
                kind == "container"
                and state.containers.get(ref) is not None
                and state.containers[ref].locked
            ):
                continue
            if unit is not None and _place_unit(state, place) not in (None, unit):
                continue
            out.setdefault(place, {})[lid] = n
    return out


def _describe(state: State, place: str, lots: dict[str, int]) -> str:
    kind, _, ref = place.partition(":")
    where = (
        f"in the open container {ref}"
        if kind == "container"
        else f"in the hands of {person_name(state, ref)}"
    )
    rounds = ", ".join(f"{_rounds(n)} of lot {lid}" for lid, n in lots.items())
    return f"{rounds} {where}"


@rule(
    "ammo-secured",
    applies_to=(CheckAlerts, StartMealBreak, WrapDay),
    source="Safety Bulletin #1 (locked storage); Rust (2021: ammunition on an open cart "
    "over lunch)",
)
def ammo_secured(ctx: RuleContext) -> list[Verdict]:
    """Ammunition out of a firearm is locked away; alert after the grace period, block at
    a meal break or wrap."""
    cmd, state = ctx.command, ctx.state
    if isinstance(cmd, StartMealBreak | WrapDay):
        unit = cmd.unit if isinstance(cmd, StartMealBreak) else None
        loose = _unsecured(state, unit)
        if not loose:
            return []
        moment = f"a meal break on {unit}" if unit else "wrapping the day"
        return [
            ctx.block(
                "Ammunition is not locked away: "
                + "; ".join(_describe(state, p, lots) for p, lots in loose.items())
                + f". Lock it in a container before {moment}."
            )
        ]
    # CheckAlerts: the grace period runs from the moment the container was opened
    grace = ctx.settings.ammo_grace_min
    out: list[Verdict] = []
    openers: set[str] = set()
    for cid, box in sorted(state.containers.items()):
        if box.locked:
            continue
        if box.opened_by:
            openers.add(box.opened_by)
        loose = {
            p: lots
            for p, lots in _unsecured(state).items()
            if p in (f"container:{cid}", f"person:{box.opened_by}")
        }
        open_for = minutes_since(ctx.now, box.opened_at)
        if not loose or open_for is None or open_for <= grace:
            continue
        out.append(
            ctx.alert(
                f"Container {cid} ({box.name}) has been open for {int(open_for)} minutes "
                f"(opened by {person_name(state, box.opened_by)}; the limit is {grace}) with "
                + "; ".join(_describe(state, p, lots) for p, lots in loose.items())
                + ". Lock the ammunition away.",
                subject=f"container:{cid}",
                roles=("handler",),
            )
        )
    # rounds in someone's hand with no open container of theirs: nothing records since
    # when, so the alert is raised at the first check
    for place, lots in _unsecured(state).items():
        kind, _, ref = place.partition(":")
        if kind != "person" or ref in openers:
            continue
        text = _describe(state, place, lots)
        out.append(
            ctx.alert(
                f"{text[:1].upper()}{text[1:]}, outside any container. "
                "Put the rounds in a locked container.",
                subject=place,
                roles=("handler",),
            )
        )
    return out
