"""A fake Ollama: the endpoints the ``remote::ollama`` providers of every era call.

0.2.x probes ``/api/ps`` and checks models with ``/api/tags``; newer releases list models with
``/v1/models``; all of them send inference to the OpenAI-compatible ``/v1/*`` routes, and the
0.2.x native route also uses ``/api/chat``, ``/api/generate`` and ``/api/embed``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from conformance.fakes.base import FakeState, RecordingMiddleware, control_routes
from conformance.fakes.openai_compat import (
    embedding_dimension,
    fake_embedding,
    input_texts,
    model_request,
    openai_routes,
    raw_prompt_tool_call,
    read_json,
    reply_text,
)

DEFAULT_MODELS = ["llama3.2:3b", "all-minilm:l6-v2"]


def _family(model: str) -> str:
    return "bert" if "minilm" in model or "embed" in model else "llama"


def _answer(body: dict[str, Any], shape: Callable[[str], dict[str, Any]], text: str) -> Response:
    """Ollama's native answer: one JSON object, or (``stream``, Ollama's default) newline-delimited
    objects, a word each, then an empty one with ``done`` and the reason, as Ollama sends them."""
    base = {"model": body["model"], "created_at": "2025-06-01T00:00:00Z"}
    if not body.get("stream", True):
        return JSONResponse({**base, **shape(text), "done": True, "done_reason": "stop"})
    words = text.split(" ")
    lines = [{**base, **shape(w if i == 0 else " " + w), "done": False} for i, w in enumerate(words)]
    lines.append({**base, **shape(""), "done": True, "done_reason": "stop"})
    return Response("".join(json.dumps(line) + "\n" for line in lines), media_type="application/x-ndjson")


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

    def missing(model: str) -> Response:
        return JSONResponse({"error": f"model '{model}' not found, try pulling it first"}, status_code=404)

    async def chat(request: Request) -> Response:
        body = await model_request(request, state, missing)
        if isinstance(body, Response):
            return body
        text = reply_text(body.get("messages") or [])
        return _answer(body, lambda piece: {"message": {"role": "assistant", "content": piece}}, text)

    async def generate(request: Request) -> Response:
        body = await model_request(request, state, missing)
        if isinstance(body, Response):
            return body
        text = raw_prompt_tool_call(body.get("prompt")) or reply_text([body.get("prompt")])
        return _answer(body, lambda piece: {"response": piece}, text)

    async def embed(request: Request) -> Response:
        body = await model_request(request, state, missing)
        if isinstance(body, Response):
            return body
        model = str(body["model"])
        vectors = [fake_embedding(t, embedding_dimension(model)) for t in input_texts(body)]
        return JSONResponse({"model": model, "embeddings": vectors})

    async def pull(request: Request) -> Response:
        body = await read_json(request)
        if isinstance(body, Response):
            return body
        if body.get("model") not in state.models:
            return JSONResponse({"error": "pull model manifest: file does not exist"}, status_code=500)
        return Response(json.dumps({"status": "success"}) + "\n", media_type="application/x-ndjson")

    app = Starlette(
        routes=[
            Route("/api/ps", ps),
            Route("/api/version", version),
            Route("/api/tags", tags),
            Route("/api/chat", chat, methods=["POST"]),
            Route("/api/generate", generate, methods=["POST"]),
            Route("/api/embed", embed, methods=["POST"]),
            Route("/api/pull", pull, methods=["POST"]),
            *openai_routes(state, owned_by="library"),
            *control_routes(state),
        ]
    )
    app.add_middleware(RecordingMiddleware, state=state)
    app.state.fake = state
    return app
