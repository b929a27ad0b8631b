"""The handoff: scan the firearm → checklist → scan the performer's badge → their PIN → done.

Step 1 is a GET (the scanner types the tag and presses Enter). Step 2 posts
the checklist, the performer and the PIN; the route reads the form into a
:class:`~coldset.service.handoff.Handoff` and calls the service's
:func:`~coldset.service.handoff.run_handoff` (inspect, then issue), the same
operation the API and the replays call.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from coldset.domain.model import FirearmType
from coldset.domain.state import State
from coldset.service.handoff import Handoff, handoff_commands, run_handoff
from coldset.service.result import Result
from coldset.web import outcome
from coldset.web.context import app_state, kept_form, member, render
from coldset.web.forms import pairs

router = APIRouter()

CHAMBER_STATES = ("empty", "dummy", "blank", "spent", "live", "obstructed")
_REVOLVERS = (FirearmType.single_action_revolver, FirearmType.double_action_revolver)


def position_labels(state: State, firearm: str) -> list[str]:
    """What the armorer checks at each position: chambers, or the chamber and magazine."""
    f = state.firearms[firearm]
    if f.type in _REVOLVERS:
        return [f"Chamber {i}" for i in range(1, f.capacity + 1)]
    return ["Chamber"] + [f"Magazine / tube round {i}" for i in range(1, f.capacity)]


def _handoff_view(state: State, firearm: str) -> dict[str, Any]:
    f = state.firearms[firearm]
    scenes = [s for s in state.scenes.values()
              if s.wrapped_at is None and firearm in s.plan.firearm_ids()]
    performers: list[str] = []
    ads: list[str] = []
    for s in scenes:
        performers.extend(p for p in s.cast_crew if state.has_role(p, "performer")
                          and p not in performers)
        ads.extend(p for p in s.cast_crew if state.has_role(p, "first_ad") and p not in ads)
    others = [s for s in state.scenes.values() if s.wrapped_at is None and s not in scenes]
    return {"f": f, "labels": position_labels(state, firearm), "scenes": scenes,
            "other_scenes": sorted(others, key=lambda s: s.id),
            "performers": [(p, state.people[p].name) for p in performers],
            "ads": [(p, state.people[p].name) for p in ads],
            "locked_in": f.custody.ref if f.custody.kind == "container" else None,
            "holder": f.custody.ref if f.custody.kind == "person" else None}


@router.get("/p/{production}/handoff")
def handoff_page(request: Request, production: str, firearm: str = "") -> Response:
    m = member(request, production)
    state = app_state(request).custody.state(production)
    tag = firearm.strip()
    if not tag:
        return render(request, "handoff.html", production=production, m=m, step=1, error=None,
                      tag="")
    if tag not in state.firearms:
        return render(request, "handoff.html", status=404, production=production, m=m,
                      step=1, tag=tag, error=f"No firearm with tag {tag!r} on this production. "
                                             "Scan again or type the tag.")
    return render(request, "handoff.html", production=production, m=m, step=2, tag=tag,
                  error=None, states=CHAMBER_STATES, values=_kept(request, tag),
                  **_handoff_view(state, tag))


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

    n = max((int(mm.group(1)) for k in v if (mm := re.fullmatch(r"chamber-(\d{1,3})", k))),
            default=0)
    return {"chambers": [one(f"chamber-{i}") for i in range(1, n + 1)],
            "barrel_clear": bool(one("barrel_clear")), "scene": one("scene"),
            "performer": one("performer"), "confirm_person": one("confirm_person")}


@router.post("/p/{production}/handoff")
async def handoff(request: Request, production: str) -> Response:
    m = member(request, production)
    form = await request.form()
    st = app_state(request)
    firearm = str(form.get("firearm") or "").strip()
    key = str(form.get("idempotency_key") or "").strip()
    positions = sorted(int(mm.group(1)) for k in form
                       if (mm := re.fullmatch(r"chamber-(\d{1,3})", k)))
    state = st.custody.state(production)
    capacity = state.firearms[firearm].capacity if firearm in state.firearms else (
        max(positions) if positions else 0)
    h = Handoff(
        production=production, actor=m.person, firearm=firearm,
        chambers=[str(form.get(f"chamber-{i}") or "") for i in range(1, capacity + 1)],
        barrel_clear=str(form.get("barrel_clear") or "") in ("1", "on", "yes", "true"),
        to=str(form.get("performer") or "").strip(), pin=str(form.get("pin") or "").strip(),
        scene=str(form.get("scene") or "").strip() or None,
        confirmations=pairs(form, "confirm_person", "confirm_pin"),
        idempotency_key=key or None)
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
    return outcome.show(request, r2, issue, production, f"/p/{production}/handoff",
                        done_template="handoff_done.html", inspection=r1, form=form,
                        form_url=back)


def _again(request: Request, m: Any, production: str, inspect: dict[str, Any], form: Any,
           result: Result, inspected: Result | None = None) -> Response:
    """The checklist again, as it was filled in, with what was wrong on top: a wrong PIN
    or a missed chamber is fixed in place, not typed again from the start. PINs are
    never sent back; the form gets a new idempotency key (the old one answers the
    rejection it recorded)."""
    firearm = inspect["firearm"]
    state = app_state(request).custody.state(production)
    values = {
        "chambers": inspect["chambers"], "barrel_clear": inspect["barrel_clear"],
        "scene": str(form.get("scene") or ""),
        "performer": str(form.get("performer") or "").strip(),
        "confirm_person": str(form.get("confirm_person") or "").strip(),
    }
    problem = {"title": outcome.problem_title(result), "reason": result.error or "",
               "kind": result.error_kind,
               "fields": list(result.field_errors), "index": result.index,
               "inspected": inspected.index if inspected is not None else None}
    return render(request, "handoff.html", status=outcome.status_of(result),
                  production=production, m=m, step=2, tag=firearm, error=None,
                  states=CHAMBER_STATES, values=values, problem=problem,
                  **_handoff_view(state, firearm))
