"""Search (a firearm, a person, a lot, a container, a scene) and what a person holds.

Case-insensitive: tags are printed in lower case but a crew types or scans them any
way ("COLT-1"). A query that is exactly one firearm's or person's id (what a scanner
sends) opens that firearm's timeline or that person's page at once.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from coldset.domain.state import State
from coldset.web.context import app_state, member, redirect, render

router = APIRouter()

#: a longer query is cut (search boxes are short; a scanner sends a tag)
MAX_QUERY = 100


def holdings(state: State, person: str) -> dict[str, Any]:
    """What ``person`` holds right now: firearms (with what the log says is in them and
    the scene they were issued for), rounds by lot, containers they opened, and where
    they are checked in."""
    firearms = []
    for fid in state.held_by(person):
        f = state.firearms[fid]
        loaded = [c for c in f.chambers if c is not None and not c.spent]
        kinds = sorted({state.lots[c.lot].kind.value for c in loaded if c.lot in state.lots})
        firearms.append(
            {
                "id": fid,
                "make": f"{f.manufacturer} {f.model}",
                "issued_for": f.issued_for,
                "loaded": len(loaded),
                "kinds": kinds,
                "quarantined": f.quarantined,
            }
        )
    key = f"person:{person}"
    rounds = [
        {"lot": lid, "kind": lot.kind.value, "caliber": lot.caliber, "n": lot.where[key]}
        for lid, lot in sorted(state.lots.items())
        if lot.where.get(key)
    ]
    opened = [
        c.id
        for c in sorted(state.containers.values(), key=lambda c: c.id)
        if not c.locked and c.opened_by == person
    ]
    return {
        "firearms": firearms,
        "rounds": rounds,
        "containers": opened,
        "checked_in": state.checked_in.get(person),
    }


def search_state(state: State, q: str) -> dict[str, list[dict[str, str]]]:
    """Every firearm, person, lot, container and scene whose id or name holds ``q``
    (case-insensitive), exact id matches first."""
    needle = q.strip().lower()[:MAX_QUERY]
    out: dict[str, list[dict[str, str]]] = {
        "firearms": [],
        "people": [],
        "lots": [],
        "containers": [],
        "scenes": [],
    }
    if not needle:
        return out

    def hit(ident: str, *words: str) -> bool:
        return any(needle in w.lower() for w in (ident, *words) if w)

    def rank(rows: list[dict[str, str]]) -> list[dict[str, str]]:
        return sorted(rows, key=lambda r: (r["id"].lower() != needle, r["id"]))

    out["firearms"] = rank(
        [
            {
                "id": f.id,
                "what": f"{f.manufacturer} {f.model}, serial {f.serial}, {f.caliber}",
                "where": ("with " + f.custody.ref)
                if f.custody.kind == "person"
                else ("locked in " + f.custody.ref),
            }
            for f in state.firearms.values()
            if hit(f.id, f.serial, f.manufacturer, f.model, f.caliber)
        ]
    )
    out["people"] = rank(
        [
            {
                "id": p.id,
                "what": p.name,
                "where": ", ".join(sorted(r.value.replace("_", " ") for r in p.roles)),
            }
            for p in state.people.values()
            if hit(p.id, p.name)
        ]
    )
    out["lots"] = rank(
        [
            {
                "id": lot.id,
                "what": f"{lot.kind.value} {lot.caliber}, {lot.maker} {lot.load}".strip(),
                "where": " · ".join(
                    f"{place.split(':', 1)[1]}: {n}" for place, n in sorted(lot.where.items()) if n
                ),
            }
            for lot in state.lots.values()
            if hit(lot.id, lot.maker, lot.caliber, lot.kind.value)
        ]
    )
    out["containers"] = rank(
        [
            {
                "id": c.id,
                "what": c.name,
                "where": "locked" if c.locked else f"open by {c.opened_by}",
            }
            for c in state.containers.values()
            if hit(c.id, c.name)
        ]
    )
    out["scenes"] = rank(
        [
            {"id": s.id, "what": s.title, "where": f"{s.shoot_day} · unit {s.unit}"}
            for s in state.scenes.values()
            if hit(s.id, s.title)
        ]
    )
    return out


@router.get("/p/{production}/search")
def search(request: Request, production: str, q: str = "") -> Response:
    m = member(request, production)
    state = app_state(request).custody.state(production)
    q = q.strip()[:MAX_QUERY]
    found = search_state(state, q)
    needle = q.lower()
    if needle in state.firearms:
        return redirect(request, f"/p/{production}/firearms/{needle}")
    if needle in state.people:
        return redirect(request, f"/p/{production}/people/{needle}")
    return render(
        request,
        "search.html",
        production=production,
        m=m,
        q=q,
        found=found,
        count=sum(len(v) for v in found.values()),
    )
