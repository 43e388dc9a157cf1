"""A fake vLLM: its OpenAI-compatible server plus ``/health``. Bearer tokens are recorded, not
enforced, so checks can assert what reached the backend."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from conformance.fakes.base import FakeState, RecordingMiddleware, control_routes
from conformance.fakes.openai_compat import openai_routes

DEFAULT_MODELS = ["meta-llama/Llama-3.2-3B-Instruct", "BAAI/bge-small-embed"]


def create_app(state: FakeState | None = None) -> Starlette:
    state = state or FakeState(models=list(DEFAULT_MODELS))

    async def health(_request: Request) -> Response:
        return Response(status_code=200)

    app = Starlette(routes=[Route("/health", health), *openai_routes(state, owned_by="vllm"), *control_routes(state)])
    app.add_middleware(RecordingMiddleware, state=state)
    app.state.fake = state
    return app
