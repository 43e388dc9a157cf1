"""A cap on request bodies: 413 in the one error shape, before anything reads them whole.

Starlette ships a limiter, but it answers in plain text; clients of this server always get
``{"error": {"message": ...}}``. The cap applies to the declared length and to what actually
arrives, so a chunked or lying client cannot slip past it.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reference_server.api.asgi import send_error

MAX_BODY_BYTES = 8 * 1024 * 1024


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
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
