"""Stop-work and incidents (anyone logged in), alerts, and the concern form (no login needed).

The concern form is public at ``/c/{production}`` (the production's link and
QR code). The person who raises a concern gets a private link
``/c/{production}/answer/{token}`` where the answer appears.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from coldset.service.result import Result
from coldset.web.context import (
    HTTPProblem,
    app_state,
    member,
    render,
    session_of,
)
from coldset.web.outcome import status_of
from coldset.web.ratelimit import Wait, retry_after
from coldset.web.words import field_words

router = APIRouter()

INCIDENT_KINDS = ("misfire", "squib", "unexpected_discharge", "malfunction", "injury", "near_miss")


@router.get("/p/{production}/safety")
def safety(request: Request, production: str) -> Response:
    m = member(request, production)
    state = app_state(request).custody.state(production)
    return render(
        request,
        "safety.html",
        production=production,
        m=m,
        s=state,
        kinds=INCIDENT_KINDS,
        held_back=app_state(request).concern_limiter.held_back(production),
    )


def _production_title(request: Request, production: str) -> str:
    for p in app_state(request).custody.productions():
        if p["id"] == production:
            return str(p["title"])
    raise HTTPProblem(
        404, "No such production", "This concern link is not for a production on this server."
    )


@router.get("/c/{production}")
def concern_form(request: Request, production: str) -> Response:
    title = _production_title(request, production)
    s = session_of(request)
    person = s.account.person_on(production) if s else None
    people = app_state(request).custody.state(production).people
    return render(
        request,
        "concern.html",
        production=production,
        title=title,
        person=person,
        error=None,
        person_name=people[person].name if person and person in people else None,
    )


@router.post("/c/{production}")
async def raise_concern(request: Request, production: str) -> Response:
    st = app_state(request)
    title = _production_title(request, production)
    form = await request.form()
    s = session_of(request)
    person = s.account.person_on(production) if s else None
    anonymous = person is None or str(form.get("anonymous") or "") in ("1", "on")
    text = str(form.get("text") or "").strip()
    cmd = {
        "type": "raise_concern",
        "production": production,
        "actor": "anonymous" if anonymous else person,
        "text": text,
    }
    unit = str(form.get("unit") or "").strip()
    if unit:
        cmd["unit"] = unit
    key = str(form.get("idempotency_key") or "").strip()
    if key:
        cmd["idempotency_key"] = key
    # the rate limit is for senders the server does not know; a member is never held back
    address = None if person is not None else (request.client.host if request.client else "unknown")
    if address is not None:
        wait = st.concern_limiter.take(production, address)
        if wait is not None:
            return _held_back(request, production, title, text, wait)
    try:
        result = await st.queue.run(cmd)
    except Exception:
        if address is not None:  # e.g. the writer stopped: nothing new was written
            st.concern_limiter.give_back(production, address)
        raise
    if address is not None and (result.replayed or result.status == "rejected"):
        st.concern_limiter.give_back(production, address)
    if not result.ok:
        return render(
            request,
            "concern.html",
            status=status_of(result),
            production=production,
            title=title,
            person=person,
            error=_concern_error(result, text),
            text=cmd["text"],
        )
    token = result.secrets.get("concern_token")
    return render(
        request,
        "concern_sent.html",
        production=production,
        title=title,
        token=token,
        replayed=result.replayed,
        concern=f"concern-{result.index}",
    )


def _concern_error(result: Result, text: str) -> str:
    """What was wrong with a concern, once, in words (never a field name)."""
    if any(f == "text" and "at most" in m for f, m in result.field_errors):
        return (
            f"Your concern is {len(text):,} characters; the limit is 2,000. Shorten it "
            "and send it again: your text is kept below."
        )
    if result.field_errors:
        return " ".join(f"{field_words(f).capitalize()}: {m}." for f, m in result.field_errors)
    return result.error or "The concern was not sent."


def _held_back(request: Request, production: str, title: str, text: str, wait: Wait) -> Response:
    """429: the form again with the text as typed, and when to send it."""
    seconds = retry_after(wait.seconds)
    per_address = app_state(request).concern_limiter.limits.per_address
    why = (
        "This production is receiving many concerns at once."
        if wait.production_wide
        else f"More than {per_address} concerns a minute were sent from this network."
    )
    unit = "second" if seconds == 1 else "seconds"
    error = (
        f"Your concern was not sent yet. {why} Nothing is lost: your text is still in "
        f"the form. Please try again in {seconds} {unit} (press Send concern again). "
        "If someone is in danger now, tell the armorer or the 1st AD in person."
    )
    resp = render(
        request,
        "concern.html",
        status=429,
        production=production,
        title=title,
        person=None,
        error=error,
        text=text,
    )
    resp.headers["Retry-After"] = str(seconds)
    return resp


@router.get("/c/{production}/answer/{token}")
def concern_answer(request: Request, production: str, token: str) -> Response:
    title = _production_title(request, production)
    concern = app_state(request).custody.concern_for_token(production, token)
    if concern is None:
        raise HTTPProblem(404, "Not found", "This private link does not open a concern.")
    return render(request, "concern_answer.html", production=production, title=title, c=concern)
