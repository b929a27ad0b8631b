"""Every API answer that is not a 2xx: an RFC 9457 problem (``application/problem+json``).

Members: ``type`` (``urn:coldset:problem:<kind>``), ``title``, ``status`` (the HTTP
status), ``detail`` and ``error_kind`` (the kind); a command that was not allowed adds
its result: ``outcome``, ``production``, ``command``, ``at``, ``index``, ``events``,
``verdicts``, ``field_errors`` and ``replayed``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fastapi.responses import JSONResponse

from coldset.service.result import Result

MEDIA_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:coldset:problem:"

#: the short title of each kind of problem (plain words, the same for every answer)
TITLES = {
    "malformed": "Some fields need fixing",
    "unknown-id": "Unknown id",
    "wrong-role": "Not allowed for your role",
    "credential": "PIN not accepted",
    "refused": "Refused by safety rules",
    "stale-state": "Not possible right now",
    "duplicate": "Already exists",
    "unauthenticated": "API token needed",
    "forbidden": "Not allowed",
    "not-found": "Not found",
    "method-not-allowed": "Method not allowed",
    "writer-stopped": "Nothing can be recorded right now",
    "too-large": "Body too large",
    "rate-limited": "Too many requests",
    "internal": "Server problem",
}

#: the kind of a problem raised with only a status
KIND_OF_STATUS = {
    400: "malformed",
    401: "unauthenticated",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    409: "stale-state",
    413: "too-large",
    422: "malformed",
    429: "rate-limited",
    500: "internal",
    503: "writer-stopped",
}


class ProblemResponse(JSONResponse):
    media_type = MEDIA_TYPE


def problem(
    status: int,
    kind: str,
    detail: str,
    *,
    title: str | None = None,
    headers: dict[str, str] | None = None,
    **members: Any,
) -> JSONResponse:
    """One problem answer: ``status``, its ``kind`` (``error_kind``) and a plain ``detail``;
    ``members`` are added as they are (e.g. ``field_errors``). A 401 says
    ``WWW-Authenticate: Bearer`` unless ``headers`` say otherwise."""
    body: dict[str, Any] = {
        "type": TYPE_PREFIX + kind,
        "title": title or TITLES.get(kind, kind.replace("-", " ").capitalize()),
        "status": status,
        "detail": detail,
        "error_kind": kind,
        **members,
    }
    hdrs = dict(headers or {})
    if status == 401:
        hdrs.setdefault("WWW-Authenticate", "Bearer")
    return ProblemResponse(body, status_code=status, headers=hdrs or None)


def field_errors(fields: Iterable[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"field": f, "message": m} for f, m in fields]


def malformed(fields: list[tuple[str, str]], **members: Any) -> JSONResponse:
    """A 422 for input that is wrong before it is a command: one entry per field."""
    return problem(
        422,
        "malformed",
        "; ".join(f"{f}: {m}" for f, m in fields),
        field_errors=field_errors(fields),
        **members,
    )


def result_problem(result: Result, status: int, **members: Any) -> JSONResponse:
    """A command that was not allowed, as a problem with the whole result in it (and
    ``members``, e.g. a handoff's ``step``)."""
    kind = result.error_kind or ("refused" if result.status == "refused" else "malformed")
    return problem(
        status,
        kind,
        result.error or TITLES.get(kind, "Not done"),
        outcome=result.status,
        production=result.production,
        command=result.command,
        at=result.at,
        index=result.index,
        events=list(result.events),
        verdicts=list(result.verdicts),
        field_errors=field_errors(result.field_errors),
        replayed=result.replayed,
        **members,
    )


#: HTTP status of a rejected command, by its kind (pages and the API agree).
REJECTED_STATUS = {
    "malformed": 422,
    "unknown-id": 422,
    "wrong-role": 403,
    "credential": 403,
    "stale-state": 409,
    "duplicate": 409,
}


def status_of(result: Result) -> int:
    if result.status == "allowed":
        return 200
    if result.status == "refused":
        return 409
    return REJECTED_STATUS.get(result.error_kind or "", 422)
