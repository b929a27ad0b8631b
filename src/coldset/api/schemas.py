"""OpenAPI schemas: one request body per command (its fields minus those the URL and token
set), the result an allowed command answers with, and the problem every other answer is."""

from __future__ import annotations

import copy
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from coldset.domain.commands import COMMAND_TYPES

SET_BY_SERVER = ("type", "production", "actor")
REF = "#/components/schemas/{model}"


class VerdictOut(BaseModel):
    rule: str = Field(description="rule id from docs/rules.md")
    verdict: str = Field(description="block | block_overridable | alert | stop_work")
    reason: str
    source: str
    overridable_by: list[str] = Field(default_factory=list)


class FieldError(BaseModel):
    field: str
    message: str


class ResultOut(BaseModel):
    """What an allowed command answers (200). Every other answer is a ``ProblemOut``."""

    status: str = Field(description="allowed")
    production: str | None
    command: str | None
    at: str | None
    index: int | None = Field(description="the ledger entry (when recorded)")
    events: list[dict[str, Any]]
    verdicts: list[VerdictOut]
    replayed: bool = Field(description="true: an idempotent retry; nothing new was written")
    error_kind: str | None = None
    error: str | None = None
    field_errors: list[FieldError] = Field(default_factory=list)
    secrets: dict[str, str] = Field(default_factory=dict)


class ProblemOut(BaseModel):
    """Every API answer that is not a 2xx: an RFC 9457 problem (``application/problem+json``).
    A command that was not allowed adds its result's members (``outcome`` … ``replayed``);
    a refusal is recorded, and ``index`` is its ledger entry."""

    type: str = Field(description="urn:coldset:problem:<error_kind>")
    title: str = Field(description="what went wrong, in a few words")
    status: int = Field(description="the HTTP status")
    detail: str = Field(description="what went wrong and what to do, in a sentence")
    error_kind: str = Field(
        description="malformed | unknown-id | wrong-role | credential | "
        "refused | stale-state | duplicate | unauthenticated "
        "| forbidden | not-found | method-not-allowed | "
        "writer-stopped | too-large | rate-limited"
    )
    outcome: str | None = Field(None, description="a command's: refused | rejected")
    production: str | None = None
    command: str | None = None
    at: str | None = None
    index: int | None = Field(None, description="the ledger entry (when recorded)")
    events: list[dict[str, Any]] = Field(default_factory=list)
    verdicts: list[VerdictOut] = Field(default_factory=list)
    field_errors: list[FieldError] = Field(default_factory=list)
    replayed: bool = Field(False, description="true: an idempotent retry; nothing new was written")
    step: str | None = Field(
        None, description="a handoff's: the step this is about, inspect | issue"
    )
    inspection: ResultOut | None = Field(
        None, description="a handoff whose issue was not allowed: the recorded inspection"
    )


#: what each status an API route can answer means (the OpenAPI document's descriptions)
STATUS_TEXT = {
    200: "done",
    401: "no API token, or an unknown or revoked one",
    403: "not on this production, not allowed for your role, or a PIN not accepted",
    404: "no such production or firearm",
    409: "refused by safety rules (every verdict), not possible now, or already exists",
    413: "the body is larger than this route takes",
    422: "malformed (one field_errors entry per field) or an unknown id; nothing written",
    429: "too many requests; try again after Retry-After seconds",
    503: "nothing can be recorded right now: the writer stopped and is being started again",
}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for problem answers with these statuses."""
    content = {"application/problem+json": {"schema": {"$ref": REF.format(model="ProblemOut")}}}
    return {s: {"description": STATUS_TEXT[s], "content": content} for s in statuses}


def problem_components() -> dict[str, Any]:
    """``ProblemOut`` and the models it uses, for the document's components."""
    schema = ProblemOut.model_json_schema(ref_template=REF)
    out: dict[str, Any] = schema.pop("$defs", {})
    out["ProblemOut"] = schema
    return out


def body_name(type_: str) -> str:
    return COMMAND_TYPES[type_].__name__ + "Body"


def command_components() -> dict[str, Any]:
    """Component schemas for every command body and the models they use."""
    out: dict[str, Any] = {}
    for type_, cls in sorted(COMMAND_TYPES.items()):
        schema = copy.deepcopy(cls.model_json_schema(ref_template=REF))
        defs = schema.pop("$defs", {})
        out.update(defs)
        for name in SET_BY_SERVER:
            schema.get("properties", {}).pop(name, None)
        schema["required"] = [r for r in schema.get("required", []) if r not in SET_BY_SERVER]
        schema["title"] = body_name(type_)
        schema["additionalProperties"] = False
        out[body_name(type_)] = schema
    return out


class HandoffConfirmation(BaseModel):
    """One more person confirming the issue with their own PIN."""

    model_config = ConfigDict(extra="forbid", strict=True)

    person: str = Field(description="Id of the person confirming, e.g. rio")
    pin: str = Field(description="Their PIN: 4 to 8 digits")


class HandoffBody(BaseModel):
    """A handoff: the checklist (every chamber and the barrel), then the firearm issued to
    the performer, who confirms with their PIN. The inspection is recorded whatever the
    issue comes to; the issue is tried only when the inspection was allowed."""

    model_config = ConfigDict(extra="forbid", strict=True)

    firearm: str = Field(description="Id of the firearm, e.g. colt-1")
    chambers: list[str] = Field(
        max_length=100,
        description="What each position holds, from "
        "position 1 on: empty | dummy | blank | spent | live | "
        "obstructed",
    )
    barrel_clear: bool = Field(description="true: you looked through the barrel and it is clear")
    to: str = Field(description="Id of the performer receiving it, e.g. alec")
    pin: str = Field(description="The performer's PIN: 4 to 8 digits")
    scene: str | None = Field(None, description="Id of today's scene it is for, e.g. sc-12")
    confirmations: list[HandoffConfirmation] = Field(
        default_factory=list,
        max_length=20,
        description="Further confirmations of the issue (e.g. the 1st AD's)",
    )
    idempotency_key: str | None = Field(
        None,
        min_length=1,
        max_length=120,
        description=("a retry with the same key writes nothing (or the Idempotency-Key header)"),
    )


class HandoffOut(BaseModel):
    """A handoff that was done (200): the inspection's result and the issue's."""

    inspection: ResultOut
    issue: ResultOut


def handoff_components() -> dict[str, Any]:
    """``HandoffBody``, ``HandoffOut`` and the models they use."""
    out: dict[str, Any] = {}
    for model in (HandoffBody, HandoffOut):
        schema = model.model_json_schema(ref_template=REF)
        out.update(schema.pop("$defs", {}))
        out[model.__name__] = schema
    return out
