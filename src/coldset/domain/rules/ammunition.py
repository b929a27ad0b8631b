"""A. Ammunition rules (SAFETY_RULES.md section A)."""

from __future__ import annotations

from coldset.domain.commands import Inspect, Load, ReceiveLot, ReportLiveRound
from coldset.domain.model import Exemption, RoundKind
from coldset.domain.rules import RuleContext, Verdict, rule
from coldset.domain.state import State


def _exempt(state: State) -> bool:
    return state.production is not None and state.production.exemption != Exemption.none


def _suspects(state: State, firearm: str | None, lot: str | None) -> list[str]:
    """Every firearm and lot a found live round could have come from."""
    out: set[str] = set()
    if lot and lot in state.lots:
        out.add(f"lot:{lot}")
    if firearm and firearm in state.firearms:
        f = state.firearms[firearm]
        out.add(f"firearm:{firearm}")
        out.update(f"lot:{ch.lot}" for ch in f.chambers if ch is not None)
        out.update(f"lot:{lid}" for lid, lt in state.lots.items()
                   if lt.caliber.lower() == f.caliber.lower() and lt.counts.expected_stock > 0)
    if not out:   # nothing named: everything out of lock-up and every lot in stock
        out.update(f"firearm:{fid}" for fid in state.firearms_out())
        out.update(f"lot:{lid}" for lid, lt in state.lots.items()
                   if lt.counts.expected_stock > 0 or lt.counts.in_firearms > 0)
    return sorted(out)


@rule("no-live-ammo", applies_to=(ReceiveLot, Load, ReportLiveRound, Inspect),
      source="Safety Bulletin #1; Cal. Labor Code §9155; Rust (2021)")
def no_live_ammo(ctx: RuleContext) -> list[Verdict]:
    """Live ammunition is never received or loaded; a live round found stops the production."""
    cmd, state = ctx.command, ctx.state
    if isinstance(cmd, ReceiveLot) and cmd.kind == RoundKind.live and not _exempt(state):
        return [ctx.block("Live ammunition can never come onto a production: this lot of live "
                          "rounds is refused. Send it back to the supplier.")]
    if isinstance(cmd, Load):
        lot = state.lots.get(cmd.lot)
        if lot is not None and lot.kind == RoundKind.live and not _exempt(state):
            return [ctx.block(f"Lot {lot.id} is live ammunition; it can never be loaded.")]
    if isinstance(cmd, ReportLiveRound):
        return [ctx.stop_work(
            "A live round was found: all firearm use on the production stops, and every "
            "firearm and lot it could have come from is quarantined.",
            scope="production", quarantine=_suspects(state, cmd.firearm, cmd.lot))]
    if isinstance(cmd, Inspect) and "live" in cmd.chambers and not _exempt(state):
        return [ctx.stop_work(
            f"The inspection of {cmd.firearm} found a live round: all firearm use on the "
            "production stops, and the firearm and its ammunition are quarantined.",
            scope="production", quarantine=_suspects(state, cmd.firearm, None))]
    return []
