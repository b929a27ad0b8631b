"""The board: every firearm and lot right now, alerts and stop-works on top.

The page polls ``/board/version`` (the log size) every 1.5 s and swaps in
``/board/fragment`` when it changed, so it updates within 2 s.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from coldset.web.context import HTTPProblem, app_state, member, render

router = APIRouter()


def board_data(request: Request, production: str) -> dict[str, Any]:
    try:
        return app_state(request).custody.board(production)
    except LookupError as e:
        raise HTTPProblem(404, "No such production", str(e)) from None


def version(request: Request, production: str) -> int:
    return app_state(request).custody.state(production).size


@router.get("/p/{production}/board")
def board(request: Request, production: str) -> Response:
    m = member(request, production)
    data = board_data(request, production)
    return render(request, "board.html", production=production, m=m, b=data,
                  version=version(request, production))


@router.get("/p/{production}/board/fragment")
def board_fragment(request: Request, production: str) -> Response:
    m = member(request, production)
    return render(request, "_board.html", production=production, m=m,
                  b=board_data(request, production), version=version(request, production))


@router.get("/p/{production}/board/version")
def board_version(request: Request, production: str) -> Response:
    member(request, production)
    return JSONResponse({"version": version(request, production)},
                        headers={"Cache-Control": "no-store"})
