"""Answers sent from ASGI middleware, before any route runs, in the one error shape."""

from __future__ import annotations

import json
import logging

from starlette.types import Send

log = logging.getLogger("reference_server.api")


async def send_error(send: Send, status: int, message: str, headers: list[tuple[bytes, bytes]] | None = None) -> None:
    if status >= 500:
        log.warning("answered %d: %s", status, message)
    body = json.dumps({"error": {"message": message}}).encode()
    all_headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": all_headers + (headers or [])})
    await send({"type": "http.response.body", "body": body})
