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

Uploads (`streamed` routes, e.g. the Files API's multipart POST) have a cap of their own and are
not buffered here: the route reads them as they arrive, through a receive that counts the bytes
and bounds the wait for each piece, and raises the same 413 / 408 as `StackError`s.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reference_server.asgi_errors import send_error
from reference_server.errors import PayloadTooLarge, RequestTimeout

MAX_BODY_BYTES = 8 * 1024 * 1024
MAX_HEADER_BYTES = 32 * 1024
BODY_TIMEOUT_S = 30.0


def _streamed_cap(scope: Scope, streamed: Mapping[str, int]) -> int | None:
    return streamed.get(scope["path"]) if scope.get("method") == "POST" else None


class RequestLimitsMiddleware:
    def __init__(
        self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES, streamed: Mapping[str, int] | None = None
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.streamed = dict(streamed or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        header_bytes = sum(len(name) + len(value) for name, value in scope["headers"])
        if header_bytes > MAX_HEADER_BYTES:
            await send_error(send, 431, f"Request headers too large: the limit is {MAX_HEADER_BYTES} bytes")
            return
        cap = _streamed_cap(scope, self.streamed) or self.max_bytes
        declared = next((v for k, v in scope["headers"] if k == b"content-length"), b"")
        if declared.isdigit() and int(declared) > cap:
            await send_error(send, 413, too_large(cap))
            return
        await self.app(scope, receive, send)


def too_large(max_bytes: int) -> str:
    return f"Request body too large: the limit is {max_bytes} bytes"


class BodyReader:
    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int = MAX_BODY_BYTES,
        timeout_s: float = BODY_TIMEOUT_S,
        streamed: Mapping[str, int] | None = None,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.timeout_s = timeout_s
        self.streamed = dict(streamed or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cap = _streamed_cap(scope, self.streamed)
        if cap is not None:
            await self.app(scope, _bounded(receive, cap, self.timeout_s), send)
            return
        if not frames_body(scope):
            # Nothing to buffer or to wait for (most GETs): the route's first receive answers at
            # once with an empty body. Skipping the buffering is a fifth of a listing's time.
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


def frames_body(scope: Scope) -> bool:
    """Whether the request frames a body: without Content-Length or Transfer-Encoding an HTTP/1.1
    request has none (RFC 9112, section 6.3), and ``Content-Length: 0`` declares none."""
    for name, value in scope["headers"]:
        if name == b"transfer-encoding" or (name == b"content-length" and value.strip() != b"0"):
            return True
    return False


def _bounded(receive: Receive, max_bytes: int, timeout_s: float) -> Receive:
    """``receive`` for a route that reads its body itself: at most ``max_bytes`` in all, and each
    piece within ``timeout_s`` (an upload may take long; a stalled one may not)."""
    size = 0

    async def bounded() -> Message:
        nonlocal size
        try:
            async with asyncio.timeout(timeout_s):
                incoming = await receive()
        except TimeoutError:
            raise RequestTimeout(f"Request body stalled: nothing arrived for {timeout_s:g} s") from None
        if incoming["type"] == "http.request":
            size += len(incoming.get("body", b""))
            if size > max_bytes:
                raise PayloadTooLarge(too_large(max_bytes))
        return incoming

    return bounded


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replayed() -> Message:
        return pending.pop(0) if pending else await receive()

    return replayed
