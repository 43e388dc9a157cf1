"""One error shape for every failure: ``{"error": {"message": ...}}``.

Upstream mixes three shapes (``{"detail": ...}``, ``{"error": {"detail": ...}}`` and the
middleware's ``{"error": {"message": ...}}``); clients have to guess. The seed documents the
last one (for 429), so every error here uses it, routing misses included. Validation messages
name the offending field instead of dumping pydantic's repr.
"""

# Requirements (conformance/catalog.yaml): CORE-ERR-004

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from reference_server.errors import StackError

log = logging.getLogger("reference_server.api")


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": {"message": message}}, status_code=status, headers=headers)


def _describe(error: dict[str, Any]) -> str:
    location = [str(part) for part in error.get("loc", ()) if part not in ("body", "query", "path")]
    kind = error.get("type", "")
    if kind == "json_invalid":
        position = location[0] if location else "?"
        reason = str((error.get("ctx") or {}).get("error") or "")
        return f"request body is not valid JSON (at character {position})" + (f": {reason}" if reason else "")
    if not location and kind in ("model_attributes_type", "dict_type"):
        return "request body must be a JSON object (Content-Type: application/json)"
    field = ".".join(location) or "body"
    message = "is required" if kind == "missing" else str(error.get("msg", "is invalid")).lower()
    return f"{field}: {message}"


async def _validation(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = [_describe(error) for error in exc.errors()]
    return error_response(400, "Invalid request: " + "; ".join(problems))


async def _stack_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StackError)
    if exc.status >= 500:  # a dependency failed: operators need to see it without a client's report
        log.warning("%s %s answered %d: %s", request.method, request.url.path, exc.status, exc.message)
    return error_response(exc.status, exc.message)


async def _http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 404:
        message = f"Not found: {request.method} {request.url.path}"
    elif exc.status_code == 405:
        message = f"Method {request.method} is not allowed on {request.url.path}"
    else:
        message = str(exc.detail)
    return error_response(exc.status_code, message, dict(exc.headers or {}))


async def _gone(request: Request, _exc: Exception) -> JSONResponse:
    """The client hung up before its body arrived whole (an upload cut off): nothing was stored,
    nobody is left to answer, and it is not the server's fault, so no traceback."""
    log.warning("%s %s: the client disconnected before its body arrived", request.method, request.url.path)
    return error_response(400, "Request body incomplete: the client disconnected")


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(500, "Internal server error")


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StackError, _stack_error)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(ClientDisconnect, _gone)
    app.add_exception_handler(Exception, _unexpected)
