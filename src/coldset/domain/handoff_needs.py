"""What a handoff on the tablet needs, given the state: the one action model.

The handoff page (``web/routes/handoff.py``) builds its form from
:func:`handoff_needs` (what the record expects at each position, which scene,
performer and 1st AD it pre-selects, whether a 1st AD must confirm), and the
replay's friction count (``replay/interactions.py``) counts a handoff with
:func:`handoff_actions` on the same needs. A browser test drives the page and
checks that it takes exactly the actions this module says.

An *action* is a tap (a click) or a scan (a handheld scanner types and presses
Enter: one action). A PIN is typed by its owner and ended with Enter; that
Enter belongs to the PIN and is not an action (the last PIN's Enter sends the
form). Looking is never saved: every position and the barrel are on screen, and
the armorer's one tap confirms what they see against what the record expects.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from coldset.domain.state import State

#: what an armorer can find at a position (the inspection's words)
POSITION_STATES = ("empty", "dummy", "blank", "spent", "live", "obstructed")
#: one-tap fills offered besides "as the record says"
SHORTCUTS = ("empty", "blank", "dummy")


@dataclass(frozen=True)
class HandoffNeeds:
    """What the tablet shows and pre-selects for a handoff of one firearm."""

    firearm: str
    expected: tuple[str, ...]  # what the record says each position holds
    scenes: tuple[str, ...]  # open scenes whose plan lists the firearm
    scene: str | None  # pre-selected (the only such scene)
    performers: tuple[str, ...]  # performers in those scenes' cast
    performer: str | None  # pre-selected (the only planned performer)
    first_ads: tuple[str, ...]  # 1st ADs in those scenes' cast
    first_ad: str | None  # pre-selected (the only one)

    @property
    def needs_first_ad(self) -> bool:
        """A scene of this firearm has a 1st AD: they confirm too (the form asks for them)."""
        return bool(self.first_ads)


def expected_positions(state: State, firearm: str) -> tuple[str, ...]:
    """Position by position, what the last load (and discharge) record says is in it."""
    f = state.firearms[firearm]
    out: list[str] = []
    for i in range(f.capacity):
        ch = f.chambers[i] if i < len(f.chambers) else None
        if ch is None:
            out.append("empty")
        elif ch.spent:
            out.append("spent")
        else:
            lot = state.lots.get(ch.lot)
            out.append(str(lot.kind) if lot is not None else "live")
    return tuple(out)


def _only(xs: Sequence[str]) -> str | None:
    return xs[0] if len(xs) == 1 else None


def handoff_needs(
    state: State, firearm: str, scene: str | None = None, performer: str | None = None
) -> HandoffNeeds:
    """The needs of handing ``firearm`` over now.

    ``scene`` and ``performer``: the scene it was last issued for and the performer who
    had it, when it was just collected back from them (the next take of the same
    scene); each is pre-selected only while it still fits (an open scene that plans the
    firearm, a performer in its cast). Otherwise the only such scene, and the only
    performer and 1st AD in its cast, are pre-selected."""
    scenes = tuple(
        s.id
        for s in state.scenes.values()
        if s.wrapped_at is None and firearm in s.plan.firearm_ids()
    )
    chosen = scene if scene in scenes else _only(scenes)
    cast_of = [chosen] if chosen else list(scenes)
    performers: list[str] = []
    ads: list[str] = []
    for sid in cast_of:
        for p in state.scenes[sid].cast_crew:
            if state.has_role(p, "performer") and p not in performers:
                performers.append(p)
            if state.has_role(p, "first_ad") and p not in ads:
                ads.append(p)
    return HandoffNeeds(
        firearm=firearm,
        expected=expected_positions(state, firearm),
        scenes=scenes,
        scene=chosen,
        performers=tuple(performers),
        performer=performer if performer in performers else _only(performers),
        first_ads=tuple(ads),
        first_ad=_only(ads),
    )


def checklist_taps(expected: Sequence[str], seen: Sequence[str]) -> int:
    """Taps to record ``seen`` on the checklist: one when it is what the record expects
    ("as the record says") or one state everywhere ("all empty / blank / dummy");
    otherwise "as the record says" and one tap per position that differs."""
    seen = list(seen)
    if not seen:
        return 0
    if seen == list(expected) or (len(set(seen)) == 1 and seen[0] in SHORTCUTS):
        return 1
    return 1 + sum(1 for i, s in enumerate(seen) if i >= len(expected) or expected[i] != s)


@dataclass(frozen=True)
class HandoffActions:
    """The actions of one handoff on the tablet (names, in order) and its PINs."""

    actions: tuple[str, ...]
    pins: int

    @property
    def count(self) -> int:
        return len(self.actions)


def handoff_actions(
    needs: HandoffNeeds,
    seen: Sequence[str],
    *,
    to: str,
    scene: str | None,
    first_ad: str | None = None,
    tag_scanned: bool = True,
    collect: bool = False,
) -> HandoffActions:
    """What the tablet needs for this handoff: scan the tag (unless the firearm is
    open already), the checklist, the barrel, then whatever is not pre-selected
    (the scene, the performer's badge, the 1st AD), and the PINs.

    ``collect``: collecting back with the inspection (no performer, scene or PINs)."""
    acts: list[str] = []
    if tag_scanned:
        acts.append("scan the firearm's tag")
    acts.extend(["confirm the positions"] * checklist_taps(needs.expected, seen))
    acts.append("barrel clear")
    if collect:
        acts.append("collect")
        return HandoffActions(tuple(acts), 0)
    if scene != needs.scene:
        acts.append("choose the scene")
    if to != needs.performer:
        acts.append("scan the performer's badge")
    pins = 1
    if first_ad is not None:
        pins += 1
        if first_ad != needs.first_ad:
            acts.append("choose the 1st AD")
    return HandoffActions(tuple(acts), pins)
