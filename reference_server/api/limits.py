"""Caps on requests: 431 for oversized headers, 413 for oversized bodies, 408 for a body that
does not arrive in time, in the one error shape. (Headers beyond uvicorn's own parser limit,
about 100 kB, are refused by the parser with a plain 400 before this runs; the time to send
headers is bounded by `reference_server.http_protocol`.)

Two layers. `RequestLimitsMiddleware` is outermost and reads nothing: it refuses oversized
headers and a declared length over the cap. `BodyReader` is innermost, after authentication and
quota, so no body is buffered for a caller who has not proven who they are (100 stalled 8 MiB
bodies from strangers used to take the server from 89 MB to 900 MB). It reads the body up to the
cap within `BODY_TIMEOUT_S` and replays it to the route.

Starlette ships a limiter, but it answers in plain text; clients of this server always get
``{"error": {"message": ...}}``. The cap applies to the declared length and to what actually
arrives, so a chunked or lying client cannot slip past it.
"""

from __future__ import annotations

import asyncio

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reference_server.asgi_errors import send_error

MAX_BODY_BYTES = 8 * 1024 * 1024
MAX_HEADER_BYTES = 32 * 1024
BODY_TIMEOUT_S = 30.0


class RequestLimitsMiddleware:
    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        header_bytes = sum(len(name) + len(value) for name, value in scope["headers"])
        if header_bytes > MAX_HEADER_BYTES:
            await send_error(send, 431, f"Request headers too large: the limit is {MAX_HEADER_BYTES} bytes")
            return
        declared = next((v for k, v in scope["headers"] if k == b"content-length"), b"")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await send_error(send, 413, too_large(self.max_bytes))
            return
        await self.app(scope, receive, send)


def too_large(max_bytes: int) -> str:
    return f"Request body too large: the limit is {max_bytes} bytes"


class BodyReader:
    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES, timeout_s: float = BODY_TIMEOUT_S) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.timeout_s = timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # Read the body here, up to the cap, and replay it: the routes read whole JSON bodies
        # anyway, and an error raised while they read would be reported as a malformed body.
        chunks: list[bytes] = []
        size = 0
        try:
            async with asyncio.timeout(self.timeout_s):
                while True:
                    incoming = await receive()
                    if incoming["type"] != "http.request":
                        await self.app(scope, _replay([incoming], receive), send)
                        return
                    chunk = incoming.get("body", b"")
                    size += len(chunk)
                    if size > self.max_bytes:
                        await send_error(send, 413, too_large(self.max_bytes))
                        return
                    chunks.append(chunk)
                    if not incoming.get("more_body", False):
                        break
        except TimeoutError:
            await send_error(send, 408, f"Request body not received within {self.timeout_s:g} s")
            return
        body = {"type": "http.request", "body": b"".join(chunks), "more_body": False}
        await self.app(scope, _replay([body], receive), send)


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replayed() -> Message:
        return pending.pop(0) if pending else await receive()

    return replayed
