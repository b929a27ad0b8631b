"""Printable QR labels for firearms, lots, containers and people's badges (segno, inline SVG).

A label's code holds only the tag, so a handheld scanner types exactly the tag
into the focused field. The concern poster holds the public form's URL.
"""

from __future__ import annotations

import segno
from fastapi import APIRouter, Request
from fastapi.responses import Response
from markupsafe import Markup

from coldset.reports import labels as label_sheets
from coldset.web.context import app_state, member, render

router = APIRouter()


def qr_svg(data: str) -> Markup:
    """The code as inline SVG that scales to whatever box the page gives it (a viewBox, no
    fixed size: with a fixed size, the CSS box cut off the concern poster's larger code),
    with the 4-module quiet zone the QR standard asks for."""
    svg = segno.make(data, error="m", micro=False).svg_inline(
        omitsize=True, border=4, dark="#000", light="#fff", svgclass="qr"
    )
    return Markup(svg)  # noqa: S704 - segno's own SVG markup, no user HTML in it


@router.get("/p/{production}/labels")
def labels(request: Request, production: str, kind: str = "firearms") -> Response:
    m = member(request, production)
    state = app_state(request).custody.state(production)
    items = label_sheets.items(state, kind) if kind in label_sheets.KINDS else []
    base = str(request.base_url).rstrip("/")
    concern_url = f"{base}/c/{production}"
    return render(
        request,
        "labels.html",
        production=production,
        m=m,
        kind=kind,
        labels=[(tag, title, sub, qr_svg(tag)) for tag, title, sub in items],
        concern_url=concern_url,
        concern_qr=qr_svg(concern_url),
    )
