"""The handoff: scan the firearm → checklist → scan the performer's badge → their PIN → done.

Step 1 is a GET (the scanner types the tag and presses Enter; tags are matched
without regard to case). Step 2 posts the checklist, the performer and the PIN;
the route reads the form into a :class:`~coldset.service.handoff.Handoff` and
calls the service's :func:`~coldset.service.handoff.run_handoff` (inspect, then
issue), the same operation the API and the replays call.

What step 2 shows and pre-selects comes from
:func:`coldset.domain.handoff_needs.handoff_needs` (what the record expects at
each position, the planned scene, performer and 1st AD), the same model the
replay's friction count uses. A firearm someone else holds is collected back
here, with the inspection if the armorer records one (``POST …/handoff/collect``).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from coldset.domain.handoff_needs import POSITION_STATES, SHORTCUTS, handoff_needs
from coldset.domain.model import FirearmType
from coldset.domain.state import State
from coldset.service.handoff import Handoff, handoff_commands, run_handoff
from coldset.service.result import Result
from coldset.web import outcome
from coldset.web.context import app_state, kept_form, member, redirect, render
from coldset.web.forms import pairs

router = APIRouter()

CHAMBER_STATES = POSITION_STATES
_REVOLVERS = (FirearmType.single_action_revolver, FirearmType.double_action_revolver)


def position_labels(state: State, firearm: str) -> list[str]:
    """What the armorer checks at each position: chambers, or the chamber and magazine."""
    f = state.firearms[firearm]
    if f.type in _REVOLVERS:
        return [f"Chamber {i}" for i in range(1, f.capacity + 1)]
    return ["Chamber"] + [f"Magazine / tube round {i}" for i in range(1, f.capacity)]


def find_tag(ids: Any, tag: str) -> str | None:
    """The id ``tag`` names: itself, or the one id equal to it without regard to case
    (a scanner or a typed tag in capitals finds ``colt-1``); None if there is none."""
    tag = tag.strip()
    if tag in ids:
        return tag
    found = [x for x in ids if x.casefold() == tag.casefold()]
    return found[0] if len(found) == 1 else None


def _handoff_view(
    state: State, firearm: str, scene: str | None = None, performer: str | None = None
) -> dict[str, Any]:
    f = state.firearms[firearm]
    needs = handoff_needs(state, firearm, scene, performer)
    scenes = [state.scenes[s] for s in needs.scenes]
    others = [s for s in state.scenes.values() if s.wrapped_at is None and s not in scenes]
    holder = f.custody.ref if f.custody.kind == "person" else None
    expected = list(needs.expected)
    return {
        "f": f,
        "labels": position_labels(state, firearm),
        "scenes": scenes,
        "other_scenes": sorted(others, key=lambda s: s.id),
        "performers": [(p, state.people[p].name) for p in needs.performers],
        "ads": [(p, state.people[p].name) for p in needs.first_ads],
        "needs": needs,
        "expected": expected,
        "shortcuts": SHORTCUTS,
        "recorded": _recorded(expected),
        "locked_in": f.custody.ref if f.custody.kind == "container" else None,
        "holder": holder,
        "holder_name": state.people[holder].name if holder and holder in state.people else holder,
    }


def _recorded(expected: list[str]) -> str:
    """The record in words, e.g. "2 blank, 9 empty"."""
    counts: dict[str, int] = {}
    for e in expected:
        counts[e] = counts.get(e, 0) + 1
    return ", ".join(f"{n} {k}" for k, n in counts.items())


@router.get("/p/{production}/handoff")
def handoff_page(
    request: Request, production: str, firearm: str = "", scene: str = "", performer: str = ""
) -> Response:
    """Step 1 (scan a tag) or step 2 (the form). ``scene`` and ``performer``: where the
    firearm was just collected back from (the next take), pre-selected if they still fit."""
    m = member(request, production)
    state = app_state(request).custody.state(production)
    typed = firearm.strip()
    if not typed:
        return render(
            request, "handoff.html", production=production, m=m, step=1, error=None, tag=""
        )
    tag = find_tag(state.firearms, typed)
    if tag is None:
        return render(
            request,
            "handoff.html",
            status=404,
            production=production,
            m=m,
            step=1,
            tag=typed,
            error=f"No firearm with tag {typed!r} on this production. Scan again or type the tag.",
        )
    return render(
        request,
        "handoff.html",
        production=production,
        m=m,
        step=2,
        tag=tag,
        error=None,
        states=CHAMBER_STATES,
        values=_kept(request, tag),
        **_handoff_view(state, tag, scene or None, performer or None),
    )


def _kept(request: Request, firearm: str) -> dict[str, Any] | None:
    """The checklist as it was sent, when a refusal sent the armorer back to it (the
    scan, the ticks and the badges are not lost; PINs are never kept)."""
    kept = kept_form(request)
    if kept is None or kept["command"] not in ("inspect", "issue"):
        return None
    v = kept["values"]
    if v.get("firearm") != [firearm]:
        return None

    def one(name: str) -> str:
        return str((v.get(name) or [""])[0])

    n = max(
        (int(mm.group(1)) for k in v if (mm := re.fullmatch(r"chamber-(\d{1,3})", k))), default=0
    )
    return {
        "chambers": [one(f"chamber-{i}") for i in range(1, n + 1)],
        "barrel_clear": bool(one("barrel_clear")),
        "scene": one("scene"),
        "performer": one("performer"),
        "confirm_person": one("confirm_person"),
    }


@router.post("/p/{production}/handoff")
async def handoff(request: Request, production: str) -> Response:
    m = member(request, production)
    form = await request.form()
    st = app_state(request)
    firearm = str(form.get("firearm") or "").strip()
    key = str(form.get("idempotency_key") or "").strip()
    positions = sorted(
        int(mm.group(1)) for k in form if (mm := re.fullmatch(r"chamber-(\d{1,3})", k))
    )
    state = st.custody.state(production)
    firearm = find_tag(state.firearms, firearm) or firearm
    capacity = (
        state.firearms[firearm].capacity
        if firearm in state.firearms
        else (max(positions) if positions else 0)
    )
    to = str(form.get("performer") or "").strip()
    h = Handoff(
        production=production,
        actor=m.person,
        firearm=firearm,
        chambers=_chambers(form, capacity),
        barrel_clear=_ticked(form, "barrel_clear"),
        to=find_tag(state.people, to) or to,
        pin=str(form.get("pin") or "").strip(),
        scene=str(form.get("scene") or "").strip() or None,
        confirmations=[
            {**c, "person": find_tag(state.people, str(c.get("person") or "")) or c.get("person")}
            for c in pairs(form, "confirm_person", "confirm_pin")
        ],
        idempotency_key=key or None,
    )
    inspect, issue = handoff_commands(h)
    back = f"/p/{production}/handoff?firearm={firearm}"
    done = await run_handoff(st.queue, h)
    r1, r2 = done.inspection, done.issue
    if r2 is None:
        if r1.status == "rejected" and firearm in state.firearms:
            return _again(request, m, production, inspect, form, r1)
        return outcome.show(request, r1, inspect, production, back, form=form)
    if r2.status == "rejected":
        return _again(request, m, production, inspect, form, r2, inspected=r1)
    return outcome.show(
        request,
        r2,
        issue,
        production,
        f"/p/{production}/handoff",
        done_template="handoff_done.html",
        inspection=r1,
        form=form,
        form_url=back,
    )


def _chambers(form: Any, capacity: int) -> list[str]:
    return [str(form.get(f"chamber-{i}") or "") for i in range(1, capacity + 1)]


def _ticked(form: Any, name: str) -> bool:
    return str(form.get(name) or "") in ("1", "on", "yes", "true")


@router.post("/p/{production}/handoff/collect")
async def collect_back(request: Request, production: str) -> Response:
    """Collect a firearm back from whoever holds it and, when the checklist was filled in,
    record the inspection of it at once (``with_inspection``): what came back, position
    by position, is on the record before it goes anywhere else."""
    m = member(request, production)
    form = await request.form()
    st = app_state(request)
    state = st.custody.state(production)
    typed = str(form.get("firearm") or "").strip()
    firearm = find_tag(state.firearms, typed) or typed
    key = str(form.get("idempotency_key") or "").strip() or None
    back = f"/p/{production}/handoff?firearm={firearm}"
    f = state.firearms.get(firearm)
    if f is not None and f.custody.kind == "person" and f.issued_for:
        # the next handoff is most likely the next take: same scene, same performer
        back += "&" + urlencode({"scene": f.issued_for, "performer": f.custody.ref})
    collect: dict[str, Any] = {
        "type": "collect",
        "production": production,
        "actor": m.person,
        "firearm": firearm,
    }
    inspect: dict[str, Any] | None = None
    if str(form.get("with_inspection") or "") == "1" and firearm in state.firearms:
        inspect = {
            "type": "inspect",
            "production": production,
            "actor": m.person,
            "firearm": firearm,
            "chambers": _chambers(form, state.firearms[firearm].capacity),
            "barrel_clear": _ticked(form, "barrel_clear"),
        }
        # check the checklist before anything is written: a half-filled one changes nothing
        if (
            any(c not in CHAMBER_STATES for c in inspect["chambers"])
            or not (inspect["barrel_clear"])
        ):
            values = {"chambers": inspect["chambers"], "barrel_clear": inspect["barrel_clear"]}
            problem: dict[str, Any] = {
                "title": "The inspection is not complete",
                "reason": "Record what you see at every position and tick the "
                "barrel, or collect without the inspection.",
                "kind": "malformed",
                "fields": [],
                "index": None,
                "inspected": None,
            }
            return render(
                request,
                "handoff.html",
                status=422,
                production=production,
                m=m,
                step=2,
                tag=firearm,
                error=None,
                states=CHAMBER_STATES,
                values=values,
                problem=problem,
                **_handoff_view(state, firearm),
            )
    if key:
        collect["idempotency_key"] = key + "-collect"
        if inspect is not None:
            inspect["idempotency_key"] = key + "-inspect"
    r1 = await st.queue.run(collect)
    if not r1.ok or inspect is None:
        return outcome.show(request, r1, collect, production, back)
    r2 = await st.queue.run(inspect)
    if not r2.ok:
        return outcome.show(request, r2, inspect, production, back)
    return redirect(
        request,
        back,
        f"Collected {firearm} and recorded what you saw (entries #{r1.index} and #{r2.index}).",
    )


def _again(
    request: Request,
    m: Any,
    production: str,
    inspect: dict[str, Any],
    form: Any,
    result: Result,
    inspected: Result | None = None,
) -> Response:
    """The checklist again, as it was filled in, with what was wrong on top: a wrong PIN
    or a missed chamber is fixed in place, not typed again from the start. PINs are
    never sent back; the form gets a new idempotency key (the old one answers the
    rejection it recorded)."""
    firearm = inspect["firearm"]
    state = app_state(request).custody.state(production)
    values = {
        "chambers": inspect["chambers"],
        "barrel_clear": inspect["barrel_clear"],
        "scene": str(form.get("scene") or ""),
        "performer": str(form.get("performer") or "").strip(),
        "confirm_person": str(form.get("confirm_person") or "").strip(),
    }
    problem = {
        "title": outcome.problem_title(result),
        "reason": result.error or "",
        "kind": result.error_kind,
        "fields": list(result.field_errors),
        "index": result.index,
        "inspected": inspected.index if inspected is not None else None,
    }
    return render(
        request,
        "handoff.html",
        status=outcome.status_of(result),
        production=production,
        m=m,
        step=2,
        tag=firearm,
        error=None,
        states=CHAMBER_STATES,
        values=values,
        problem=problem,
        **_handoff_view(state, firearm),
    )
