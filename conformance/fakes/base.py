"""What every fake shares: a request log, steering state, and the ``/_fake/`` control routes."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTROL_PREFIX = "/_fake/"


@dataclass
class FakeState:
    models: list[str] = field(default_factory=list)
    fail_next: int = 0
    fail_status: int = 500
    latency_s: float = 0.0
    # Canned answers keyed by something the fake recognises (the custom validator: the token).
    responses: dict[str, Any] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)

    def steer(self, changes: dict[str, Any]) -> None:
        for key, value in changes.items():
            if key == "requests" or not hasattr(self, key):
                raise ValueError(f"unknown fake setting {key!r}")
            setattr(self, key, value)

    def public(self) -> dict[str, Any]:
        return {
            "models": self.models,
            "fail_next": self.fail_next,
            "fail_status": self.fail_status,
            "latency_s": self.latency_s,
            "responses": self.responses,
        }


async def stall(seconds: float, receive: Receive) -> None:
    """Answer ``seconds`` late (steering: a slow backend), or stop waiting once the client has hung
    up: nobody waits for that answer any more, and a fake still sleeping on it could not stop
    until the sleep ended (a 12 s validator held the suite's clean-up). Call it once the request
    body has been read, when the next message can only be the disconnect."""
    hang_up = asyncio.ensure_future(receive())
    try:
        await asyncio.wait({hang_up}, timeout=seconds)
    finally:
        hang_up.cancel()


class RecordingMiddleware:
    """Logs every non-control request, then applies the steering (latency, injected failures)."""

    def __init__(self, app: ASGIApp, state: FakeState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(CONTROL_PREFIX):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        more = True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        self.state.requests.append(
            {
                "method": scope["method"],
                "path": scope["path"],
                "query": scope.get("query_string", b"").decode(),
                "headers": {k.decode().lower(): v.decode() for k, v in scope["headers"]},
                "body": body.decode("utf-8", "replace"),
            }
        )
        if self.state.latency_s:
            await stall(self.state.latency_s, receive)
        if self.state.fail_next > 0:
            self.state.fail_next -= 1
            failure = JSONResponse({"error": "injected failure"}, status_code=self.state.fail_status)
            await failure(scope, receive, send)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


def control_routes(state: FakeState) -> list[Route]:
    async def get_requests(_request: Request) -> Response:
        return JSONResponse({"data": state.requests})

    async def clear_requests(_request: Request) -> Response:
        state.requests.clear()
        return JSONResponse({"data": []})

    async def get_state(_request: Request) -> Response:
        return JSONResponse(state.public())

    async def set_state(request: Request) -> Response:
        try:
            state.steer(json.loads(await request.body()))
        except (ValueError, TypeError, AttributeError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse(state.public())

    return [
        Route(CONTROL_PREFIX + "requests", get_requests, methods=["GET"]),
        Route(CONTROL_PREFIX + "requests", clear_requests, methods=["DELETE"]),
        Route(CONTROL_PREFIX + "state", get_state, methods=["GET"]),
        Route(CONTROL_PREFIX + "state", set_state, methods=["POST"]),
    ]
