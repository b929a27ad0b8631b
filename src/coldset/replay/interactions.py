"""What a step costs on the handler's tablet: scans, taps, PIN entries, typed fields, and the
items of the inspection checklist.

A step may say it in the scenario (``interactions: {scans: 1, taps: 1}``); otherwise
:func:`derive` counts it from the command, as the tablet's handoff screen works:

- scanning a firearm's tag opens it, and it stays open for that person's next
  command on the same firearm (so an issue right after the show-clear scans only
  the performer's badge);
- every command is confirmed with one tap; each confirmation (or override
  confirmer) is one PIN entry, typed by that person on the handler's tablet;
- an inspection is one checklist item per chamber (or magazine + chamber), one
  for the barrel and one for a function check;
- free text (descriptions, reasons, answers) is one typed field each.

A handoff (an ``inspect`` followed by the same person's ``issue`` of the same
firearm: one form on the tablet) is counted with the page's own action model,
:func:`coldset.domain.handoff_needs.handoff_actions`, on the state before the
inspection (:func:`handoff`): what the page pre-selects costs nothing, each
scan or tap it still needs costs one, each PIN (ended with its Enter) is a PIN.
The inspection step keeps its checklist items (what is looked at) and no taps:
they are counted with the handoff. A browser test drives the page and checks
the same figures.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from coldset.domain.handoff_needs import HandoffNeeds, handoff_actions

KINDS = ("scans", "taps", "pins", "typed", "checklist")
HANDOFFS = frozenset({"issue", "collect", "transfer"})
#: Commands the server runs on its own (no one touches a tablet).
AUTOMATIC = frozenset({"check_alerts"})
_TEXT_FIELDS = (
    "description",
    "reason",
    "text",
    "answer",
    "resolution",
    "explanation",
    "note",
    "recipient",
)


@dataclass(frozen=True)
class Interactions:
    scans: int = 0
    taps: int = 0
    pins: int = 0
    typed: int = 0
    checklist: int = 0

    @property
    def scans_taps(self) -> int:
        return self.scans + self.taps

    @property
    def total(self) -> int:
        return self.scans + self.taps + self.pins + self.typed + self.checklist

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


def parse_interactions(value: Any) -> Interactions:
    if not isinstance(value, dict):
        raise ValueError("a mapping like {scans: 1, taps: 1, pins: 2, typed: 0, checklist: 7}")
    unknown = [k for k in value if k not in KINDS]
    if unknown:
        raise ValueError(f"unknown kind {unknown[0]!r} (one of {', '.join(KINDS)})")
    for k, v in value.items():
        if not isinstance(v, int) or isinstance(v, bool) or v < 0:
            raise ValueError(f"{k} must be a whole number >= 0")
    return Interactions(**value)


def derive(command: dict[str, Any], previous: dict[str, Any] | None) -> Interactions:
    """The interactions of ``command``; ``previous`` is the same person's command before it."""
    t = command["type"]
    if t in AUTOMATIC:
        return Interactions()
    pins = len(command.get("confirmations") or ()) + len(
        (command.get("override") or {}).get("confirmers") or ()
    )
    typed = sum(1 for k in _TEXT_FIELDS if command.get(k))
    if command.get("override"):
        typed += 1
    fid = command.get("firearm")
    open_already = (
        previous is not None
        and fid is not None
        and previous.get("firearm") == fid
        and previous.get("actor") == command.get("actor")
    )
    gun_scan = 0 if open_already or fid is None else 1
    if t in ("issue", "transfer"):
        return Interactions(scans=gun_scan + 1, taps=1, pins=pins, typed=typed)
    if t in ("collect", "unload", "discharge"):
        return Interactions(scans=gun_scan, taps=1, pins=pins, typed=typed)
    if t == "load":
        return Interactions(scans=gun_scan + 1, taps=1, pins=pins, typed=typed)
    if t == "inspect":
        checklist = inspection_items(command)
        return Interactions(scans=gun_scan, taps=1, pins=pins, typed=typed, checklist=checklist)
    if t in (
        "lock_container",
        "unlock_container",
        "take_from_container",
        "put_in_container",
        "check_in",
        "check_out",
        "reconcile_counts",
        "return_lot",
    ):
        extra = 1 if t in ("reconcile_counts", "return_lot") else 0  # the count, typed
        return Interactions(scans=1, taps=1, pins=pins, typed=typed + extra)
    if t == "hold_safety_meeting":
        people = len(command.get("attendees") or ()) + len(command.get("absent") or ())
        return Interactions(scans=people, taps=1, pins=pins, typed=typed)
    if t in ("report_incident", "report_live_round", "release_quarantine"):
        return Interactions(scans=gun_scan, taps=1, pins=pins, typed=typed)
    if t in (
        "start_meal_break",
        "end_meal_break",
        "wrap_scene",
        "wrap_day",
        "sign_off_plan",
        "clear_stop_work",
        "call_stop_work",
        "raise_concern",
        "acknowledge_concern",
        "resolve_alert",
        "record_consent",
        "record_training",
    ):
        return Interactions(taps=1, pins=pins, typed=typed)
    # office setup: every field typed once
    skip = {"type", "production", "actor", "confirmations", "override", "idempotency_key"}
    return Interactions(taps=1, pins=pins, typed=sum(1 for k in command if k not in skip))


def inspection_items(command: dict[str, Any]) -> int:
    """What an inspection looks at: every position, the barrel, a function check."""
    return len(command.get("chambers") or ()) + 1 + (1 if command.get("function_check") else 0)


def handoff(
    needs: HandoffNeeds, inspect: dict[str, Any], issue: dict[str, Any], tag_scanned: bool
) -> Interactions:
    """The interactions of one handoff on the tablet (the inspection and the issue), from
    the page's action model; ``needs``: :func:`~coldset.domain.handoff_needs.handoff_needs`
    before the inspection; ``tag_scanned``: the firearm was not open on the tablet yet."""
    confirmations = list(issue.get("confirmations") or ())
    people = [str(c.get("person") or "") for c in confirmations if isinstance(c, dict)]
    acts = handoff_actions(
        needs,
        list(inspect.get("chambers") or ()),
        to=str(issue.get("to")),
        scene=issue.get("scene"),
        first_ad=people[1] if len(people) > 1 else None,
        tag_scanned=tag_scanned,
    )
    scans = sum(1 for a in acts.actions if a.startswith("scan "))
    extra = max(0, len(people) - acts.pins) + len(
        (issue.get("override") or {}).get("confirmers") or ()
    )
    typed = sum(1 for k in _TEXT_FIELDS if issue.get(k)) + (1 if issue.get("override") else 0)
    # the checklist items stay with the inspection step (counted once)
    return Interactions(scans=scans, taps=acts.count - scans, pins=acts.pins + extra, typed=typed)
