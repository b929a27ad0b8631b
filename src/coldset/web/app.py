"""The app factory: ``create_app(install, demo=..., clock=...)``. Nothing is built at import.

A production server (``demo=False``) refuses to start while the install has
demo logins or its signing key is unreadable or readable by others; the demo
says so on every page.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException

from coldset import __version__
from coldset.clock import Clock, SystemClock
from coldset.config import ConfigError, check_key_file
from coldset.install import Install
from coldset.service.accounts import AccountService
from coldset.service.command_queue import warm_up
from coldset.service.core import CustodyService
from coldset.service.writer_process import WriterProcess, WriterStopped
from coldset.web import timefmt
from coldset.web.context import AppState, HTTPProblem, LoginNeeded, render, safe_next
from coldset.web.csrf import csrf_guard, load_secret
from coldset.web.headers import SecurityHeaders, add_security_headers
from coldset.web.limits import BodyLimit
from coldset.web.live import BoardEvents
from coldset.web.ratelimit import ConcernLimiter, ConcernLimits
from coldset.web.words import field_words

HERE = Path(__file__).parent
log = logging.getLogger("coldset.web")


def check_safe_to_serve(install: Install, accounts: AccountService, demo: bool) -> None:
    """Refuse a production start with demo logins or an unsafe signing key."""
    if demo:
        return
    check_key_file(install.settings.key_path)
    demo_logins = accounts.demo_accounts()
    if demo_logins:
        raise ConfigError(
            "this install has demo logins (" + ", ".join(sorted(demo_logins)[:8]) + "); a "
            "production server will not start with demo credentials. Use `coldset serve "
            "--demo`, or give those logins real passwords (`coldset account password`)."
        )


def create_app(
    install: Install,
    *,
    demo: bool = False,
    clock: Clock | None = None,
    secure_cookies: bool | None = None,
    demo_logins: list[Any] | None = None,
    alert_interval: float | None = None,
    concern_limits: ConcernLimits | None = None,
) -> FastAPI:
    """A FastAPI app over ``install``. ``clock`` is injected (tests); default: the wall clock.

    ``alert_interval``: seconds between checks for time-based alerts while the app
    runs (``coldset serve`` passes 30); None runs no timer.

    Custody commands are decided and recorded by the one writer, in a process of its
    own (:mod:`coldset.service.writer_process`), started when the app starts (or earlier,
    by ``coldset serve``) and waited for before the server listens. With an injected
    ``clock`` the writer records every command at the time that clock gave when the
    command arrived, and the alert timer asks it at that clock's time too.

    ``concern_limits``: how many anonymous concerns the public form takes per client
    address and per production (:mod:`coldset.web.ratelimit`; default 5 and 30 a minute).
    """
    clock = clock or SystemClock()
    custody = CustodyService(install.store, install.ledger, clock, pins=install.pins)
    accounts = AccountService(install.store, clock)
    check_safe_to_serve(install, accounts, demo)
    csrf_secret = load_secret(install.settings.home)
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.globals["urlquote"] = quote
    templates.env.filters["age"] = _age
    templates.env.filters["local"] = timefmt.local  # times in the production's zone
    templates.env.filters["local_s"] = timefmt.local_seconds
    templates.env.filters["urlunquote"] = unquote
    templates.env.filters["label"] = lambda s: str(s or "").replace("_", " ")
    templates.env.filters["field"] = field_words
    child = WriterProcess(
        install.settings.home,
        install.settings.database_url,
        clock=None if isinstance(clock, SystemClock) else clock,
        alert_interval=alert_interval,
    )
    board_events = BoardEvents()
    child.on_written = board_events.changed  # the writer's answers wake the board streams

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Before the server listens (uvicorn binds its socket after this): fold every
        # production's log, so no request waits for a lazy load inside the writer.
        if child.pid is None:
            child.start()  # it loads its state while this process loads its own
        warm_up(custody)
        import anyio.to_thread

        await anyio.to_thread.run_sync(child.wait_ready)
        await child.listen_here()  # its socket is read and written on this loop
        try:
            yield
        finally:
            board_events.close()
            child.stop()

    app = FastAPI(
        title="coldset",
        version=__version__,
        description="The armorer's tablet and the JSON API of coldset: every command of the "
        "custody service; refusals answer 409 with the rule ids, reasons and "
        "sources.",
        # no /api/docs: Swagger UI loads its script from a CDN, and nothing a tablet
        # loads may come from another server; the document is /api/openapi.json
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/openapi.json",
        # every POST/PUT/PATCH/DELETE outside /api/ passes the CSRF check before its handler
        dependencies=[Depends(csrf_guard)],
    )
    app.state.coldset = AppState(
        custody=custody,
        accounts=accounts,
        queue=child,
        templates=templates,
        clock=clock,
        demo=demo,
        secure_cookies=secure_cookies,
        install_name=install.signer.name,
        csrf_secret=csrf_secret,
        concern_limiter=ConcernLimiter(clock, concern_limits),
        demo_logins=demo_logins or [],
        board_events=board_events,
    )
    app.state.coldset_home = install.settings.home  # the set's CA for /setup (coldset.tls)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.add_middleware(BodyLimit)  # inside SecurityHeaders: a 413 has them too
    app.add_middleware(SecurityHeaders)
    _routes(app)
    _handlers(app)
    return app


def _routes(app: FastAPI) -> None:
    from coldset.api import routes as api_routes
    from coldset.web.routes import (
        auth,
        board,
        commands,
        handoff,
        labels,
        pages_custody,
        pages_day,
        pages_people,
        pages_safety,
        reports,
        search,
        setup,
    )

    api_routes.install(app)  # first: the command route is the busiest
    for mod in (
        auth,
        board,
        handoff,
        commands,
        pages_custody,
        pages_day,
        pages_people,
        pages_safety,
        labels,
        reports,
        search,
        setup,
    ):
        app.include_router(mod.router)


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


_KIND = re.compile(r"[a-z][a-z-]{1,40}")


def _handlers(app: FastAPI) -> None:
    from coldset.api.errors import KIND_OF_STATUS, field_errors, problem

    @app.exception_handler(LoginNeeded)
    async def _login(request: Request, exc: LoginNeeded) -> Response:
        if _is_api(request):
            return problem(
                401, "unauthenticated", "Send an API token: Authorization: Bearer <token>."
            )
        return RedirectResponse(f"/login?next={quote(exc.next_path)}", status_code=303)

    @app.exception_handler(HTTPProblem)
    async def _problem(request: Request, exc: HTTPProblem) -> Response:
        if _is_api(request):  # the API raises it with the kind as its title
            kind = (
                exc.title
                if _KIND.fullmatch(exc.title)
                else KIND_OF_STATUS.get(exc.status, "forbidden")
            )
            return problem(exc.status, kind, exc.message or exc.title)
        return render(
            request, "error.html", status=exc.status, title=exc.title, message=exc.message
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        title = {404: "Not found", 405: "Not allowed"}.get(exc.status_code, "Problem")
        if _is_api(request):
            kind = KIND_OF_STATUS.get(exc.status_code, title.lower().replace(" ", "-"))
            detail = "There is no such API path." if exc.status_code == 404 else str(exc.detail)
            return problem(exc.status_code, kind, detail, headers=dict(exc.headers or {}))
        return render(
            request,
            "error.html",
            status=exc.status_code,
            title=title,
            message=str(exc.detail) if exc.status_code != 404 else "There is no page here.",
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        fields = [
            {
                "field": ".".join(str(p) for p in e["loc"] if p not in ("body", "query", "path")),
                "message": e["msg"],
            }
            for e in exc.errors()
        ]
        if _is_api(request):
            return problem(
                422,
                "malformed",
                "; ".join(f"{f['field']}: {f['message']}" for f in fields),
                field_errors=field_errors((f["field"], f["message"]) for f in fields),
            )
        return render(
            request,
            "error.html",
            status=422,
            title="Some fields need fixing",
            message="; ".join(f"{f['field']}: {f['message']}" for f in fields),
        )

    @app.exception_handler(WriterStopped)
    async def _no_writer(request: Request, exc: WriterStopped) -> Response:
        if _is_api(request):
            return problem(503, "writer-stopped", str(exc))
        # the page says it in words; the form (its idempotency key with it) is one step back
        ref = urlsplit(request.headers.get("referer") or "")
        production = request.path_params.get("production")
        back = (
            safe_next(ref.path + (f"?{ref.query}" if ref.query else ""), production, "")
            if ref.netloc == request.url.netloc and production
            else ""
        )
        return render(
            request,
            "error.html",
            status=503,
            title="Nothing can be recorded right now",
            message="coldset's recorder stopped and the server is starting it "
            "again, which takes a few seconds. What you just sent may or "
            "may not have been recorded. Wait a moment, then go back to "
            "the form and send it again (PINs must be typed again): if it "
            "was recorded already, it is not recorded twice.",
            back=back or None,
        )

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> Response:
        ref = uuid.uuid4().hex[:8]
        log.exception("internal error %s on %s %s", ref, request.method, request.url.path)
        msg = (
            f"Something went wrong on the server (reference {ref}). Nothing you sent "
            "was changed unless the board shows it. Tell the production's admin."
        )
        # sent by Starlette's outermost middleware, past SecurityHeaders: add them here
        resp: Response = (
            problem(500, "internal", msg)
            if _is_api(request)
            else render(request, "error.html", status=500, title="Server problem", message=msg)
        )
        add_security_headers(resp.headers)
        return resp


def _age(seconds: int | None) -> str:
    if seconds is None:
        return "never"
    if seconds < 60:
        return f"{max(seconds, 0)} s"
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 86400:
        return f"{seconds // 3600} h {seconds % 3600 // 60} min"
    return f"{seconds // 86400} d"
