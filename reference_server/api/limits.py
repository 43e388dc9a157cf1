"""Caps on request size: 431 for oversized headers, 413 for oversized bodies, in the one error
shape, before anything reads them whole. (Headers beyond uvicorn's own parser limit, about
100 kB, are refused by the parser with a plain 400 before this runs.)

Starlette ships a limiter, but it answers in plain text; clients of this server always get
``{"error": {"message": ...}}``. The cap applies to the declared length and to what actually
arrives, so a chunked or lying client cannot slip past it.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reference_server.api.asgi import send_error

MAX_BODY_BYTES = 8 * 1024 * 1024
MAX_HEADER_BYTES = 32 * 1024


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
        message = f"Request body too large: the limit is {self.max_bytes} bytes"
        declared = next((v for k, v in scope["headers"] if k == b"content-length"), b"")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await send_error(send, 413, message)
            return
        # Read the body here, up to the cap, and replay it: the routes read whole JSON bodies
        # anyway, and an error raised while they read would be reported as a malformed body.
        chunks: list[bytes] = []
        size = 0
        while True:
            incoming = await receive()
            if incoming["type"] != "http.request":
                await self.app(scope, _replay([incoming], receive), send)
                return
            chunk = incoming.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await send_error(send, 413, message)
                return
            chunks.append(chunk)
            if not incoming.get("more_body", False):
                break
        body = {"type": "http.request", "body": b"".join(chunks), "more_body": False}
        await self.app(scope, _replay([body], receive), send)


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replayed() -> Message:
        return pending.pop(0) if pending else await receive()

    return replayed
