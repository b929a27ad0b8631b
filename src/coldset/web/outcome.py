"""What a page shows after a command: done, the refusal screen, or what was wrong."""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request
from fastapi.responses import Response

# defined with the API's problems (pages and the API agree); named here for the pages
from coldset.api.errors import REJECTED_STATUS as REJECTED_STATUS
from coldset.api.errors import status_of as status_of
from coldset.domain.commands import public_dict
from coldset.domain.rules.scenes import UNTIL_SIGNED
from coldset.service.result import Result
from coldset.web.context import redirect, remember_form, render
from coldset.web.steps import step_links

_LABELS = {
    "handler": "a handler (armorer, assistant armorer or property master)",
    "first_ad": "the 1st AD",
    "safety_contact": "the safety contact",
    "producer": "a producer",
    "admin": "an admin",
    "performer": "a performer",
}


def describe(result: Result) -> str:
    what = (result.command or "command").replace("_", " ")
    if result.replayed:
        return f"Already done: {what} (entry #{result.index}; this was a repeat, nothing new)."
    return f"Done: {what} (entry #{result.index})."


def show(
    request: Request,
    result: Result,
    command: dict[str, Any],
    production: str,
    next_url: str,
    *,
    done_template: str | None = None,
    form: Any = None,
    form_url: str | None = None,
    **ctx: Any,
) -> Response:
    """Allowed → back to ``next_url`` with a note (or ``done_template``); otherwise explain.

    ``form``: the page form that was sent; when the command is rejected or refused, going
    back shows that form again filled in (no PINs) instead of empty. ``form_url``: the
    page of that form, when it is not ``next_url``. ``inspection`` (in ``ctx``): an
    inspection recorded before this command was refused, said on the refusal."""
    if result.status == "allowed":
        if done_template:
            return render(
                request,
                done_template,
                production=production,
                result=result,
                command=command,
                next_url=next_url,
                **ctx,
            )
        return redirect(request, next_url, describe(result))
    if result.status == "refused":
        resp = refusal(
            request,
            result,
            command,
            production,
            next_url,
            before=ctx.get("inspection"),
            back_url=form_url,
        )
        if form is not None and isinstance(command.get("type"), str):
            remember_form(request, resp, command["type"], form, refused_note(result))
        return resp
    resp = render(
        request,
        "problem.html",
        status=status_of(result),
        production=production,
        result=result,
        command=command,
        next_url=next_url,
        title=problem_title(result),
        kept=form is not None,
    )
    if form is not None and isinstance(command.get("type"), str):
        remember_form(
            request, resp, command["type"], form, f"{problem_title(result)}: {result.error or ''}"
        )
    return resp


def problem_title(r: Result) -> str:
    """The heading of what went wrong (the problem page, a form shown again)."""
    return {
        "malformed": "Some fields need fixing",
        "unknown-id": "Not found",
        "wrong-role": "Not allowed for your role",
        "credential": "PIN not accepted",
        "stale-state": "Not possible right now",
        "duplicate": "Already exists",
    }.get(r.error_kind or "", "Not done")


def refused_note(result: Result) -> str:
    """What a form shown again after a refusal says on top (the rules, in words)."""
    reasons = [
        str(v.get("reason") or "")
        for v in result.verdicts
        if str(v.get("verdict", "")).startswith("block")
    ]
    return "Refused: " + " ".join(r for r in reasons if r)


def refusal(
    request: Request,
    result: Result,
    command: dict[str, Any],
    production: str,
    next_url: str,
    before: Result | None = None,
    back_url: str | None = None,
) -> Response:
    """Every failing rule (id, reason, source) and, when all are overridable, the override form."""
    blocks = [v for v in result.verdicts if str(v.get("verdict", "")).startswith("block")]
    hard = [v for v in blocks if v.get("verdict") == "block"]
    needed: list[str] = []
    for v in blocks:
        for role in v.get("overridable_by") or ():
            if role not in needed:
                needed.append(role)
    overridable = bool(blocks) and not hard and bool(needed)
    clean = {
        k: v
        for k, v in command.items()
        if k not in ("override", "idempotency_key", "confirmations", "actor")
    }
    try:
        from coldset.domain.commands import parse_command

        clean = {
            k: v
            for k, v in public_dict(parse_command(command)).items()
            if k not in ("override", "idempotency_key", "confirmations", "actor")
        }
    except ValueError:
        pass
    repin = [x.get("person") for x in command.get("confirmations") or () if x.get("person")]
    # "block until signed": the scene plan's sign-offs are the way through, not an override
    scene = command.get("scene")
    sign_here = (
        f"/p/{production}/scenes/{scene}"
        if isinstance(scene, str) and any(v.get("rule") in UNTIL_SIGNED for v in hard)
        else None
    )
    return render(
        request,
        "refusal.html",
        status=409,
        production=production,
        result=result,
        sign_here=sign_here,
        sign_scene=scene,
        before=before,
        steps=step_links(production, {**command, **clean}, blocks),
        blocks=blocks,
        others=[v for v in result.verdicts if v not in blocks],
        overridable=overridable,
        needed=[(r, _LABELS.get(r, r.replace("_", " "))) for r in needed],
        command_json=json.dumps(clean, sort_keys=True),
        repin=repin,
        next_url=next_url,
        back_url=back_url or next_url,
    )
