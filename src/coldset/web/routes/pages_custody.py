"""Pages of the gun cart: collect / load / discharge / unload, inventory, a firearm's timeline."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from coldset.domain.model import ContainerKind, FirearmType, RoundKind
from coldset.web.context import HTTPProblem, app_state, member, render

router = APIRouter()


@router.get("/p/{production}/handling")
def handling(request: Request, production: str, firearm: str = "") -> Response:
    """Collect, load, discharge and unload one firearm (scan its tag first)."""
    m = member(request, production)
    state = app_state(request).custody.state(production)
    tag = firearm.strip()
    f = state.firearms.get(tag) if tag else None
    error = None if f or not tag else f"No firearm with tag {tag!r} on this production."
    lots = [
        lt
        for lt in state.lots.values()
        if f is not None and lt.caliber.lower() == f.caliber.lower()
    ]
    out = [state.firearms[x] for x in state.firearms_out()]
    return render(
        request,
        "handling.html",
        status=404 if error else 200,
        production=production,
        m=m,
        f=f,
        tag=tag,
        error=error,
        lots=lots,
        out=out,
        containers=sorted(state.containers.values(), key=lambda c: c.id),
        handlers=[
            (p.id, p.name)
            for p in sorted(state.people.values(), key=lambda p: p.name)
            if state.is_handler(p.id) and p.id != m.person
        ],
        scenes=[s for s in state.scenes.values() if s.wrapped_at is None],
    )


@router.get("/p/{production}/inventory")
def inventory(request: Request, production: str) -> Response:
    m = member(request, production)
    st = app_state(request)
    state = st.custody.state(production)
    return render(
        request,
        "inventory.html",
        production=production,
        m=m,
        s=state,
        firearm_types=list(FirearmType),
        round_kinds=list(RoundKind),
        container_kinds=list(ContainerKind),
        today=st.clock.now().date().isoformat(),
    )


@router.get("/p/{production}/firearms/{firearm}")
def timeline(request: Request, production: str, firearm: str) -> Response:
    m = member(request, production)
    custody = app_state(request).custody
    try:
        rows = custody.timeline(production, firearm)
    except LookupError as e:
        raise HTTPProblem(404, "Not found", str(e)) from None
    f = custody.state(production).firearms[firearm]
    return render(request, "timeline.html", production=production, m=m, f=f, rows=rows)
