"""Printable QR labels for firearms, lots, containers and people's badges (segno, inline SVG).

A label's code holds only the tag, so a handheld scanner types exactly the tag
into the focused field. The concern poster holds the public form's URL.
"""

from __future__ import annotations

import segno
from fastapi import APIRouter, Request
from fastapi.responses import Response
from markupsafe import Markup

from coldset.web.context import app_state, member, render

router = APIRouter()


def qr_svg(data: str) -> Markup:
    """The code as inline SVG that scales to whatever box the page gives it (a viewBox, no
    fixed size: with a fixed size, the CSS box cut off the concern poster's larger code),
    with the 4-module quiet zone the QR standard asks for."""
    svg = segno.make(data, error="m", micro=False).svg_inline(
        omitsize=True, border=4, dark="#000", light="#fff", svgclass="qr")
    return Markup(svg)  # noqa: S704 - segno's own SVG markup, no user HTML in it


@router.get("/p/{production}/labels")
def labels(request: Request, production: str, kind: str = "firearms") -> Response:
    m = member(request, production)
    state = app_state(request).custody.state(production)
    items: list[tuple[str, str, str]] = []   # (tag, title, subtitle)
    if kind == "firearms":
        items = [(f.id, f"{f.manufacturer} {f.model}", f"serial {f.serial} · {f.caliber}")
                 for f in sorted(state.firearms.values(), key=lambda f: f.id) if not f.disposed]
    elif kind == "lots":
        items = [(lt.id, f"{lt.kind.value} · {lt.caliber}", lt.maker)
                 for lt in sorted(state.lots.values(), key=lambda lt: lt.id)]
    elif kind == "containers":
        items = [(c.id, c.name, c.kind.value.replace("_", " "))
                 for c in sorted(state.containers.values(), key=lambda c: c.id)]
    elif kind == "badges":
        items = [(p.id, p.name, ", ".join(sorted(r.value.replace("_", " ") for r in p.roles)))
                 for p in sorted(state.people.values(), key=lambda p: p.id)]
    base = str(request.base_url).rstrip("/")
    concern_url = f"{base}/c/{production}"
    return render(request, "labels.html", production=production, m=m, kind=kind,
                  labels=[(tag, title, sub, qr_svg(tag)) for tag, title, sub in items],
                  concern_url=concern_url, concern_qr=qr_svg(concern_url))
