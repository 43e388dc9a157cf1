"""A fake Ollama: the endpoints the ``remote::ollama`` providers of every era call.

Replies are deterministic so checks assert structure, never prose.
"""

from __future__ import annotations

import hashlib

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from conformance.fakes.base import FakeState, RecordingMiddleware, control_routes

DEFAULT_MODELS = ["llama3.2:3b", "all-minilm:l6-v2"]


def _family(model: str) -> str:
    return "bert" if "minilm" in model or "embed" in model else "llama"


def create_app(state: FakeState | None = None) -> Starlette:
    state = state or FakeState(models=list(DEFAULT_MODELS))

    async def ps(_request: Request) -> Response:
        return JSONResponse({"models": []})

    async def version(_request: Request) -> Response:
        return JSONResponse({"version": "0.6.0"})

    async def tags(_request: Request) -> Response:
        return JSONResponse(
            {
                "models": [
                    {
                        "name": model,
                        "model": model,
                        "modified_at": "2025-06-01T00:00:00Z",
                        "size": 1,
                        "digest": hashlib.sha256(model.encode()).hexdigest(),
                        "details": {"family": _family(model), "format": "gguf"},
                    }
                    for model in state.models
                ]
            }
        )

    async def openai_models(_request: Request) -> Response:
        return JSONResponse(
            {
                "object": "list",
                "data": [
                    {"id": model, "object": "model", "created": 0, "owned_by": "library"} for model in state.models
                ],
            }
        )

    app = Starlette(
        routes=[
            Route("/api/ps", ps),
            Route("/api/version", version),
            Route("/api/tags", tags),
            Route("/v1/models", openai_models),
            *control_routes(state),
        ]
    )
    app.add_middleware(RecordingMiddleware, state=state)
    app.state.fake = state
    return app
