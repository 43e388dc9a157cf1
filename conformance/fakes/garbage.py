"""A target that is not a Llama Stack: every path answers 200 with plain text (slowly, if steered).

The suite's own tests aim at it to prove a wrong URL ends the run with one clear line."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from conformance.fakes.base import FakeState, RecordingMiddleware, control_routes


def create_app(state: FakeState | None = None) -> Starlette:
    state = state or FakeState()

    async def anything(_request: Request) -> Response:
        return PlainTextResponse("this is not a Llama Stack")

    app = Starlette(routes=[*control_routes(state), Route("/{path:path}", anything, methods=["GET", "POST", "DELETE"])])
    app.add_middleware(RecordingMiddleware, state=state)
    return app
