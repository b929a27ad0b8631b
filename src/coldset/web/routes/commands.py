"""Every page form posts here: ``POST /p/{production}/do/{command}``, and the override.

The form's fields become the command (:mod:`coldset.web.forms`), the actor is
the logged-in person, the service decides, :mod:`coldset.web.outcome` shows it.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from coldset.api.body import BodyError, read_object
from coldset.domain.commands import COMMAND_TYPES
from coldset.web import outcome
from coldset.web.context import HTTPProblem, app_state, forget_form, member, safe_next
from coldset.web.forms import form_to_command, pairs

router = APIRouter()


@router.post("/p/{production}/do/{command}")
async def do(request: Request, production: str, command: str) -> Response:
    m = member(request, production)
    form = await request.form()
    if command not in COMMAND_TYPES:
        raise HTTPProblem(404, "Unknown action", f"There is no command {command!r}.")
    cmd = form_to_command(command, form, production, m.person)
    next_url = safe_next(form.get("next"), production, f"/p/{production}/board")
    result = await app_state(request).queue.run(cmd)
    return outcome.show(request, result, cmd, production, next_url, form=form)


@router.post("/p/{production}/override")
async def override(request: Request, production: str) -> Response:
    """Send a refused command again with an override: reason and confirmers' PINs."""
    m = member(request, production)
    form = await request.form()
    try:  # what the refusal page embedded; read as the API reads a body (no 500)
        cmd: dict[str, Any] = read_object(str(form.get("command") or "").encode("utf-8", "replace"))
    except BodyError:
        cmd = {}
    if not isinstance(cmd, dict) or cmd.get("production") != production:
        raise HTTPProblem(
            422,
            "Nothing to override",
            "The refused command did not come with this form. Start again.",
        )
    cmd["actor"] = m.person
    confirmations = pairs(form, "confirm_person", "confirm_pin")
    if confirmations:
        cmd["confirmations"] = confirmations
    cmd["override"] = {
        "reason": str(form.get("override_reason") or "").strip(),
        "confirmers": pairs(form, "override_person", "override_pin"),
    }
    key = str(form.get("idempotency_key") or "").strip()
    if key:
        cmd["idempotency_key"] = key
    next_url = safe_next(form.get("next"), production, f"/p/{production}/board")
    result = await app_state(request).queue.run(cmd)
    resp = outcome.show(request, result, cmd, production, next_url)
    forget_form(resp)  # the refused form is not shown again once overridden
    return resp
