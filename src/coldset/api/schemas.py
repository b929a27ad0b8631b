"""OpenAPI schemas: one request body per command (its fields minus those the URL and token
set), and the result shape every command answers with."""

from __future__ import annotations

import copy
from typing import Any

from pydantic import BaseModel, Field

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
    """What every command answers: 200 allowed; 409 refused (verdicts) or conflicting
    state; 422 malformed or unknown ids; 403 wrong role or a PIN not accepted."""

    status: str = Field(description="allowed | refused | rejected")
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


class ErrorOut(BaseModel):
    status: str
    error_kind: str
    error: str


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
