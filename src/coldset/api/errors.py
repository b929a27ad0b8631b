"""One shape for every API error that is not a command result."""

from __future__ import annotations

from fastapi.responses import JSONResponse


def api_error(status: int, kind: str, message: str) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse({"status": "error", "error_kind": kind, "error": message},
                        status_code=status, headers=headers)
