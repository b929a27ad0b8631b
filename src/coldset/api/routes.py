"""JSON routes: ``POST /api/v1/productions/{production}/commands/{type}`` for every command,
and reads (board, timeline, productions). Authentication: ``Authorization: Bearer <token>``.

The actor is the person the token's account is on that production. A command
may carry an ``Idempotency-Key`` header (or ``idempotency_key`` field): a retry
with the same key answers the first result and writes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any, Literal

from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError
from starlette.convertors import Convertor, register_url_convertor
from starlette.routing import Route

from coldset import reports
from coldset.api.body import BodyError, read_object
from coldset.api.errors import malformed, problem, result_problem, status_of
from coldset.api.schemas import (
    REF,
    SET_BY_SERVER,
    HandoffBody,
    HandoffOut,
    ResultOut,
    body_name,
    command_components,
    handoff_components,
    problem_components,
    problem_responses,
)
from coldset.api.state import HTTPProblem, app_state
from coldset.domain.commands import COMMAND_TYPES, CommandBase
from coldset.reports import pdf as report_pdf
from coldset.reports import tables as report_tables
from coldset.service.accounts import Account
from coldset.service.core import create_production_for
from coldset.service.handoff import INSPECT_KEY, Handoff, run_handoff
from coldset.service.result import Result
from coldset.service.writer_process import WriterStopped

PREFIX = "/api/v1"
MAX_KEY = 128  # the longest Idempotency-Key (as the command's idempotency_key)
MAX_HANDOFF_KEY = MAX_KEY - len(INSPECT_KEY)  # a handoff's key gets -inspect / -issue
_RES = {"model": ResultOut, "description": "allowed (also an idempotent retry: replayed)"}
#: what every command can answer besides 200
COMMAND_PROBLEMS = (401, 403, 409, 413, 422, 503)

ReportFormat = Literal["pdf", "csv"]
DayTable = Literal[
    "custody",
    "lots",
    "incidents",
    "stop-works",
    "alerts",
    "overrides",
    "refusals",
    "meetings",
    "training",
    "open-items",
]


class Unauthenticated(Exception):
    pass


def bearer(request: Request) -> Account:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    account = (
        app_state(request).accounts.token_account(token.strip())
        if scheme.lower() == "bearer"
        else None
    )
    if account is None:
        raise Unauthenticated()
    return account


def actor(request: Request, production: str) -> str:
    person = bearer(request).person_on(production)
    if person is None:
        raise HTTPProblem(
            403, "forbidden", f"This token's account is not on production {production!r}."
        )
    return person


def _command_route(type_: str) -> Callable[[Request, str], Awaitable[Response]]:
    async def run_command(request: Request, production: str) -> Response:
        if type_ == "create_production":
            account = bearer(request)
            if not account.site_admin:
                raise HTTPProblem(403, "forbidden", "Only a site admin creates productions.")
            person = account.login  # becomes the production's first person (admin)
        else:
            person = actor(request, production)
        try:
            body = read_object(await request.body())
        except BodyError as e:
            return malformed([("body", str(e))])
        wrong = [
            (k, "set by the URL and your token; leave it out") for k in SET_BY_SERVER if k in body
        ]
        key = request.headers.get("idempotency-key")
        if key is not None:
            if not 1 <= len(key) <= MAX_KEY:
                wrong.append(
                    (
                        "Idempotency-Key",
                        f"must be 1 to {MAX_KEY} characters; leave the header out to send no key",
                    )
                )
            elif body.get("idempotency_key", key) != key:
                wrong.append(("idempotency_key", "differs from the Idempotency-Key header"))
            else:
                body["idempotency_key"] = key
        if wrong:
            return malformed(wrong)
        cmd: dict[str, Any] | CommandBase = {
            **body,
            "type": type_,
            "production": production,
            "actor": person,
        }
        if type_ == "create_production":
            # the creator's login is linked in the same transaction as the production
            linked = create_production_for(cmd, person)
            if isinstance(linked, Result):
                return result_problem(linked, status_of(linked))
            cmd = linked
        st = app_state(request)
        result = await st.queue.run(cmd)
        if result.ok:
            if type_ == "create_production" and not result.replayed:
                st.accounts.forget_cached()  # the new link: on this token's next request
            return JSONResponse(result.to_dict())
        return result_problem(result, status_of(result))

    run_command.__name__ = f"command_{type_}"
    run_command.__doc__ = (COMMAND_TYPES[type_].__doc__ or type_).strip().splitlines()[0]
    return run_command


class _CommandType(Convertor[str]):
    """``{command:coldset_command}``: exactly the command types (others stay 404)."""

    regex = "|".join(sorted(COMMAND_TYPES, key=lambda t: (-len(t), t)))

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("coldset_command", _CommandType())
_HANDLERS = {type_: _command_route(type_) for type_ in COMMAND_TYPES}


async def run_any_command(request: Request) -> Response:
    """Every command's endpoint: ONE plain Starlette route, matched first (see
    :func:`install`). It takes the request as it is: the handler parses the body and
    the token itself, so FastAPI's parameter and dependency machinery (~10% of the
    web process's time per command) has nothing to do here."""
    params = request.path_params
    return await _HANDLERS[params["command"]](request, params["production"])


def _command_docs() -> APIRouter:
    """One POST route per command type: what the OpenAPI document shows.

    The app serves these paths through :func:`run_any_command` (the same
    handlers), so a command does not walk every page route and every other
    command's route before it is matched; this router is never mounted.
    """
    r = APIRouter(prefix=PREFIX)
    for type_ in sorted(COMMAND_TYPES):
        r.add_api_route(
            f"/productions/{{production}}/commands/{type_}",
            _command_route(type_),
            methods=["POST"],
            tags=["commands"],
            summary=type_.replace("_", " "),
            responses={200: _RES, **problem_responses(*COMMAND_PROBLEMS)},
            openapi_extra={
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {"schema": {"$ref": REF.format(model=body_name(type_))}}
                    },
                },
                "parameters": [
                    {
                        "name": "Idempotency-Key",
                        "in": "header",
                        "required": False,
                        "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY},
                        "description": "a retry with the same key writes nothing "
                        "(leave the header out to send no key)",
                    }
                ],
            },
        )
    return r


def _router() -> APIRouter:
    r = APIRouter(prefix=PREFIX)

    @r.get(
        "/health", tags=["reads"], responses=problem_responses(503), openapi_extra={"security": []}
    )  # no token needed
    async def health(request: Request) -> Response:
        """Is the server able to record? No login needed (for monitoring): the writer's
        mode and counters; 503 when the writer has stopped or does not answer."""
        try:
            found = await app_state(request).queue.health()
        except WriterStopped as e:
            return problem(503, "writer-stopped", str(e), ok=False, writer="stopped")
        found.pop("pid", None)
        if not found.get("running", True):
            return problem(
                503, "writer-stopped", "The recorder is not running.", **{**found, "ok": False}
            )
        return JSONResponse({"ok": True, **found})

    @r.post(
        "/productions/{production}/handoffs",
        tags=["commands"],
        responses={
            200: {"model": HandoffOut, "description": "inspected and issued"},
            **problem_responses(*COMMAND_PROBLEMS),
        },
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {"schema": {"$ref": REF.format(model="HandoffBody")}}
                },
            },
            "parameters": [
                {
                    "name": "Idempotency-Key",
                    "in": "header",
                    "required": False,
                    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_HANDOFF_KEY},
                    "description": "a retry with the same key writes nothing",
                }
            ],
        },
    )
    async def handoffs(request: Request, production: str) -> Response:
        """Hand a firearm to a performer: inspect it, then issue it (one operation).

        The inspection is recorded whatever the issue comes to; the issue is tried only
        when the inspection was allowed. A problem answer says which step it is about
        (``step``: inspect or issue) and, for the issue, carries the recorded
        ``inspection``."""
        person = actor(request, production)
        try:
            raw = read_object(await request.body())
            body = HandoffBody.model_validate(raw)
        except BodyError as e:
            return malformed([("body", str(e))])
        except ValidationError as e:
            return malformed(
                [(".".join(str(x) for x in err["loc"]) or "body", err["msg"]) for err in e.errors()]
            )
        key = request.headers.get("idempotency-key")
        if key is not None:
            if not 1 <= len(key) <= MAX_HANDOFF_KEY:
                return malformed(
                    [
                        (
                            "Idempotency-Key",
                            f"must be 1 to {MAX_HANDOFF_KEY} "
                            "characters; leave the header out to send no key",
                        )
                    ]
                )
            if body.idempotency_key not in (None, key):
                return malformed([("idempotency_key", "differs from the Idempotency-Key header")])
        h = Handoff(
            production=production,
            actor=person,
            firearm=body.firearm,
            chambers=list(body.chambers),
            barrel_clear=body.barrel_clear,
            to=body.to,
            pin=body.pin,
            scene=body.scene,
            confirmations=[c.model_dump() for c in body.confirmations],
            idempotency_key=key or body.idempotency_key,
        )
        done = await run_handoff(app_state(request).queue, h)
        if done.issue is None:
            return result_problem(done.inspection, status_of(done.inspection), step="inspect")
        if not done.issue.ok:
            return result_problem(
                done.issue,
                status_of(done.issue),
                step="issue",
                inspection=done.inspection.to_dict(),
            )
        return JSONResponse(
            {"inspection": done.inspection.to_dict(), "issue": done.issue.to_dict()}
        )

    @r.get("/productions", tags=["reads"], responses=problem_responses(401))
    def productions(request: Request) -> dict[str, Any]:
        """The productions this token's account is on, and the person it acts as."""
        account = bearer(request)
        return {
            "login": account.login,
            "productions": [
                {"production": p, "person": person} for p, person in sorted(account.members.items())
            ],
        }

    @r.get(
        "/productions/{production}/board",
        tags=["reads"],
        responses=problem_responses(401, 403, 404),
    )
    def board(request: Request, production: str) -> dict[str, Any]:
        """Every firearm and lot right now; open alerts and stop-works."""
        actor(request, production)
        try:
            return app_state(request).custody.board(production)
        except LookupError as e:
            raise HTTPProblem(404, "not-found", str(e)) from None

    @r.get(
        "/productions/{production}/firearms/{firearm}/timeline",
        tags=["reads"],
        responses=problem_responses(401, 403, 404),
    )
    def timeline(request: Request, production: str, firearm: str) -> dict[str, Any]:
        """Everything that happened to one firearm, in log order."""
        actor(request, production)
        try:
            rows = app_state(request).custody.timeline(production, firearm)
        except LookupError as e:
            raise HTTPProblem(404, "not-found", str(e)) from None
        return {"firearm": firearm, "entries": rows}

    _FILES: dict[int | str, dict[str, Any]] = {
        200: {
            "description": "The report: a PDF, or one table as CSV.",
            "content": {
                "application/pdf": {"schema": {"type": "string", "format": "binary"}},
                "text/csv": {"schema": {"type": "string"}},
            },
        }
    }

    def _report_reader(request: Request, production: str) -> None:
        person = actor(request, production)
        if not reports.may_read(app_state(request).custody, production, person):
            raise HTTPProblem(
                403,
                "forbidden",
                "Reports are for the armorer, the safety "
                "contact, the 1st AD, the producer and the admin.",
            )

    def _send(data: bytes | str, fmt: str, name: str) -> Response:
        if fmt == "pdf":
            return Response(
                data,
                media_type="application/pdf",
                headers={"content-disposition": f'inline; filename="{name}.pdf"'},
            )
        return Response(
            data,
            media_type="text/csv; charset=utf-8",
            headers={"content-disposition": f'inline; filename="{name}.csv"'},
        )

    @r.get(
        "/productions/{production}/reports/day/{shoot_day}",
        tags=["reads"],
        response_class=Response,
        responses={**_FILES, **problem_responses(401, 403, 404, 422)},
    )
    def day_report(
        request: Request,
        production: str,
        shoot_day: str,
        format: ReportFormat = "pdf",
        unit: str | None = None,
        table: DayTable = "custody",
    ) -> Response:
        """The day report of a shoot day (and one unit), made from the log's latest
        signed checkpoint: PDF, or one of its tables as CSV."""
        _report_reader(request, production)
        try:
            rep = reports.production_day(app_state(request).custody, production, shoot_day, unit)
        except reports.ReportError as e:
            raise HTTPProblem(404, "not-found", str(e)) from None
        data = report_pdf.day_pdf(rep) if format == "pdf" else report_tables.day_csv(rep, table)
        return _send(data, format, f"{production}-{shoot_day}")

    @r.get(
        "/productions/{production}/reports/firearm/{firearm}",
        tags=["reads"],
        response_class=Response,
        responses={**_FILES, **problem_responses(401, 403, 404, 422)},
    )
    def firearm_report(
        request: Request, production: str, firearm: str, format: ReportFormat = "pdf"
    ) -> Response:
        """A firearm's history over the whole production, each entry with its log index."""
        _report_reader(request, production)
        try:
            h = reports.production_firearm(app_state(request).custody, production, firearm)
        except reports.ReportError as e:
            raise HTTPProblem(404, "not-found", str(e)) from None
        data = report_pdf.history_pdf(h) if format == "pdf" else report_tables.history_csv(h)
        return _send(data, format, f"{production}-{firearm}")

    @r.get(
        "/productions/{production}/reports/incident/{incident}",
        tags=["reads"],
        response_class=Response,
        responses={**_FILES, **problem_responses(401, 403, 404, 422)},
    )
    def incident_report(
        request: Request, production: str, incident: str, format: ReportFormat = "pdf"
    ) -> Response:
        """The entries around an incident on its unit, each with what the rules said."""
        _report_reader(request, production)
        try:
            rep = reports.production_incident(app_state(request).custody, production, incident)
        except reports.ReportError as e:
            raise HTTPProblem(404, "not-found", str(e)) from None
        data = report_pdf.incident_pdf(rep) if format == "pdf" else report_tables.incident_csv(rep)
        return _send(data, format, f"{production}-{incident}")

    @r.get(
        "/productions/{production}/reports/bound-book",
        tags=["reads"],
        response_class=Response,
        responses={**_FILES, **problem_responses(401, 403, 404)},
    )
    def bound_book(request: Request, production: str) -> Response:
        """The acquisition and disposition record of the real firearms (CSV; the fields of
        27 CFR 478.125(e), columns in docs/reports.md)."""
        _report_reader(request, production)
        try:
            lines = reports.production_book(app_state(request).custody, production)
        except reports.ReportError as e:
            raise HTTPProblem(404, "not-found", str(e)) from None
        return _send(report_tables.bound_book_csv(lines), "csv", f"{production}-bound-book")

    return r


def install(app: FastAPI) -> None:
    """Add the API routes, its 401 handler and the command schemas to ``app``'s OpenAPI.

    Call it before the pages' routers are included: the command route is then
    the app's first route, so the busiest requests are matched at once.
    """
    app.router.routes.append(
        Route(
            f"{PREFIX}/productions/{{production}}/commands/{{command:coldset_command}}",
            run_any_command,
            methods=["POST"],
            include_in_schema=False,
        )
    )
    app.include_router(_router())
    docs = _command_docs()

    @app.exception_handler(Unauthenticated)
    async def _unauth(request: Request, exc: Unauthenticated) -> Response:
        return problem(
            401, "unauthenticated", "Send a valid API token: Authorization: Bearer <token>."
        )

    def openapi() -> dict[str, Any]:
        """FastAPI's own generator (``get_openapi``), given what it cannot find itself.

        Kept on purpose (issue 16 asked whether FastAPI alone could serve the same
        document; it cannot, without serving slower or documenting wrongly): the
        command paths are served by one raw route (``run_any_command``, first in the
        app so a command matches at once) and documented from a router that is never
        mounted; their bodies are the domain's command models minus the fields the
        server sets, referenced by ``$ref`` and so added as components here; the
        bearer scheme applies to the whole API (FastAPI sets security per route only
        through a dependency that would run on every request); and FastAPI's
        ``HTTPValidationError`` 422, which this API never answers, is dropped.
        """
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=[*app.routes, *docs.routes],
        )
        # the pages are not part of the API
        schema["paths"] = {k: v for k, v in schema["paths"].items() if k.startswith(PREFIX)}
        comps = schema.setdefault("components", {})
        comps.setdefault("schemas", {}).update(command_components())
        comps["schemas"].update(problem_components())
        comps["schemas"].update(handoff_components())
        _drop_validation_error(schema)
        comps["securitySchemes"] = {"bearer": {"type": "http", "scheme": "bearer"}}
        schema["security"] = [{"bearer": []}]
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _drop_validation_error(schema: dict[str, Any]) -> None:
    """FastAPI documents a 422 ``HTTPValidationError`` for every route with a path
    parameter; the reads answer no such thing (a path parameter is any text), and a
    422 of a command is a ``ProblemOut``."""
    for ops in schema["paths"].values():
        for op in ops.values():
            r422 = op.get("responses", {}).get("422")
            if r422 and "HTTPValidationError" in json.dumps(r422):
                del op["responses"]["422"]
    comps = schema.get("components", {}).get("schemas", {})
    if "HTTPValidationError" not in json.dumps(schema["paths"]):
        comps.pop("HTTPValidationError", None)
        comps.pop("ValidationError", None)
