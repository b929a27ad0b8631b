"""Stop-work and incidents (anyone logged in), alerts, and the concern form (no login needed).

The concern form is public at ``/c/{production}`` (the production's link and
QR code). The person who raises a concern gets a private link
``/c/{production}/answer/{token}`` where the answer appears.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from coldset.web.context import (
    HTTPProblem,
    app_state,
    member,
    render,
    session_of,
)
from coldset.web.outcome import status_of

router = APIRouter()

INCIDENT_KINDS = ("misfire", "squib", "unexpected_discharge", "malfunction", "injury",
                  "near_miss")


@router.get("/p/{production}/safety")
def safety(request: Request, production: str) -> Response:
    m = member(request, production)
    state = app_state(request).custody.state(production)
    return render(request, "safety.html", production=production, m=m, s=state,
                  kinds=INCIDENT_KINDS)


def _production_title(request: Request, production: str) -> str:
    for p in app_state(request).custody.productions():
        if p["id"] == production:
            return str(p["title"])
    raise HTTPProblem(404, "No such production",
                      "This concern link is not for a production on this server.")


@router.get("/c/{production}")
def concern_form(request: Request, production: str) -> Response:
    title = _production_title(request, production)
    s = session_of(request)
    person = s.account.person_on(production) if s else None
    return render(request, "concern.html", production=production, title=title,
                  person=person, error=None)


@router.post("/c/{production}")
async def raise_concern(request: Request, production: str) -> Response:
    title = _production_title(request, production)
    form = await request.form()
    s = session_of(request)
    person = s.account.person_on(production) if s else None
    anonymous = person is None or str(form.get("anonymous") or "") in ("1", "on")
    cmd = {"type": "raise_concern", "production": production,
           "actor": "anonymous" if anonymous else person,
           "text": str(form.get("text") or "").strip()}
    unit = str(form.get("unit") or "").strip()
    if unit:
        cmd["unit"] = unit
    key = str(form.get("idempotency_key") or "").strip()
    if key:
        cmd["idempotency_key"] = key
    result = await app_state(request).queue.run(cmd)
    if not result.ok:
        return render(request, "concern.html", status=status_of(result), production=production,
                      title=title, person=person, error=result.error, text=cmd["text"])
    token = result.secrets.get("concern_token")
    return render(request, "concern_sent.html", production=production, title=title,
                  token=token, replayed=result.replayed, concern=f"concern-{result.index}")


@router.get("/c/{production}/answer/{token}")
def concern_answer(request: Request, production: str, token: str) -> Response:
    title = _production_title(request, production)
    concern = app_state(request).custody.concern_for_token(production, token)
    if concern is None:
        raise HTTPProblem(404, "Not found", "This private link does not open a concern.")
    return render(request, "concern_answer.html", production=production, title=title,
                  c=concern)
