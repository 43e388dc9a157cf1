"""The OpenAI-compatible surface both Ollama and vLLM expose: models, chat, completions, embeddings.

Answers are deterministic functions of the request, so checks can assert structure and
round-trips without ever depending on generated prose. A model the fake does not serve gets
the 404 both backends answer.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from conformance.fakes.base import FakeState

REPLY = "Hello from the fake backend."
UNSAFE_MARKER = "UNSAFE-CONTENT"


def embedding_dimension(model: str) -> int:
    return 384 if "minilm" in model.lower() else 768


def fake_embedding(text: str, dimension: int) -> list[float]:
    """A unit vector derived from the text: same text, same vector."""
    seed = hashlib.sha256(text.encode()).digest()
    raw = [((seed[i % 32] + i * 31) % 255) / 127.0 - 1.0 for i in range(dimension)]
    norm = math.sqrt(sum(x * x for x in raw)) or 1.0
    return [x / norm for x in raw]


def reply_text(messages: list[Any]) -> str:
    """The guard model's verdict for guard prompts, a fixed greeting otherwise."""
    text = json.dumps(messages)
    if "safety" in text.lower() and ("unsafe" in text.lower() or "Task:" in text):
        return "unsafe\nS1" if UNSAFE_MARKER in text else "safe"
    return REPLY


# The suite's probe tool: a fake model "calls" it, and every tool an OpenAI-shaped request offers.
PROBE_TOOL = "conformance_lookup"
PROBE_ARGUMENT = "conformance"
_SAMPLE = {"string": PROBE_ARGUMENT, "integer": 1, "number": 1.0, "boolean": True}


def tool_call_for(tools: Any) -> dict[str, Any] | None:
    """The call a fake model makes when offered OpenAI-shaped ``tools``: the first one, with a
    sample value for each required parameter. Deterministic, so checks can read it back."""
    if not isinstance(tools, list) or not tools or not isinstance(tools[0], dict):
        return None
    function = tools[0].get("function") or {}
    schema = function.get("parameters") or {}
    properties = schema.get("properties") or {}
    arguments = {
        name: _SAMPLE.get(str((properties.get(name) or {}).get("type")), PROBE_ARGUMENT)
        for name in schema.get("required") or []
    }
    return {"name": str(function.get("name")), "arguments": json.dumps(arguments)}


def raw_prompt_tool_call(prompt: Any) -> str | None:
    """What a Llama model answers in its python_list tool format when its raw prompt (Ollama's
    /api/generate, llama-stack 0.2.x) offers the suite's probe tool."""
    if isinstance(prompt, str) and PROBE_TOOL in prompt:
        return f'[{PROBE_TOOL}(query="{PROBE_ARGUMENT}")]'
    return None


def model_missing(model: str) -> Response:
    return JSONResponse(
        {"error": {"message": f'model "{model}" not found, try pulling it first', "type": "api_error"}}, status_code=404
    )


async def read_json(request: Request) -> dict[str, Any] | Response:
    try:
        body = json.loads(await request.body())
    except ValueError:
        return JSONResponse({"error": {"message": "invalid JSON"}}, status_code=400)
    if not isinstance(body, dict):
        return JSONResponse({"error": {"message": "expected a JSON object"}}, status_code=400)
    return body


async def model_request(
    request: Request, state: FakeState, missing: Callable[[str], Response]
) -> dict[str, Any] | Response:
    """The JSON body of an inference request for a model the fake serves, or the error to send."""
    body = await read_json(request)
    if isinstance(body, Response):
        return body
    if str(body.get("model")) not in state.models:
        return missing(str(body.get("model")))
    return body


def input_texts(body: dict[str, Any]) -> list[str]:
    inputs = body.get("input")
    return [inputs] if isinstance(inputs, str) else [str(t) for t in inputs or []]


def openai_routes(state: FakeState, owned_by: str) -> list[Route]:
    counter = {"n": 0}

    def next_id(prefix: str) -> str:
        counter["n"] += 1
        return f"{prefix}-fake-{counter['n']}"

    async def models(_request: Request) -> Response:
        return JSONResponse(
            {
                "object": "list",
                "data": [{"id": m, "object": "model", "created": 0, "owned_by": owned_by} for m in state.models],
            }
        )

    async def chat(request: Request) -> Response:
        body = await model_request(request, state, model_missing)
        if isinstance(body, Response):
            return body
        model = str(body["model"])
        text = reply_text(body.get("messages") or [])
        call = tool_call_for(body.get("tools")) if body.get("tool_choice") != "none" else None
        ident, created = next_id("chatcmpl"), int(time.time())
        if body.get("stream"):
            chunks = (
                _tool_call_stream(ident, created, model, call) if call else _chat_stream(ident, created, model, text)
            )
            return StreamingResponse(chunks, media_type="text/event-stream")
        message: dict[str, Any] = {"role": "assistant", "content": text}
        if call:
            message = {"role": "assistant", "content": None, "tool_calls": [_call(call, next_id("call"))]}
        return JSONResponse(
            {
                "id": ident,
                "object": "chat.completion",
                "created": created,
                "model": model,
                "choices": [{"index": 0, "finish_reason": "tool_calls" if call else "stop", "message": message}],
                "usage": {"prompt_tokens": 5, "completion_tokens": 4, "total_tokens": 9},
            }
        )

    async def completions(request: Request) -> Response:
        body = await model_request(request, state, model_missing)
        if isinstance(body, Response):
            return body
        model = str(body["model"])
        if body.get("stream"):
            ident, created = next_id("cmpl"), int(time.time())
            return StreamingResponse(_completion_stream(ident, created, model), media_type="text/event-stream")
        return JSONResponse(
            {
                "id": next_id("cmpl"),
                "object": "text_completion",
                "created": int(time.time()),
                "model": model,
                "choices": [{"index": 0, "text": REPLY, "finish_reason": "stop", "logprobs": None}],
                "usage": {"prompt_tokens": 1, "completion_tokens": 4, "total_tokens": 5},
            }
        )

    async def embeddings(request: Request) -> Response:
        body = await model_request(request, state, model_missing)
        if isinstance(body, Response):
            return body
        model = str(body["model"])
        texts = input_texts(body)
        dimension = embedding_dimension(model)
        return JSONResponse(
            {
                "object": "list",
                "model": model,
                "data": [
                    {"object": "embedding", "index": i, "embedding": fake_embedding(str(t), dimension)}
                    for i, t in enumerate(texts)
                ],
                "usage": {"prompt_tokens": len(texts), "total_tokens": len(texts)},
            }
        )

    return [
        Route("/v1/models", models),
        Route("/v1/chat/completions", chat, methods=["POST"]),
        Route("/v1/completions", completions, methods=["POST"]),
        Route("/v1/embeddings", embeddings, methods=["POST"]),
    ]


async def _chat_stream(ident: str, created: int, model: str, text: str) -> AsyncIterator[str]:
    words = text.split(" ")
    for index, word in enumerate(words):
        piece = word if index == 0 else " " + word
        chunk = {
            "id": ident,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "choices": [{"index": 0, "delta": {"role": "assistant", "content": piece}, "finish_reason": None}],
        }
        yield f"data: {json.dumps(chunk)}\n\n"
    last = {
        "id": ident,
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
    }
    yield f"data: {json.dumps(last)}\n\n"
    yield "data: [DONE]\n\n"


async def _completion_stream(ident: str, created: int, model: str) -> AsyncIterator[str]:
    """OpenAI's text_completion chunks: one per word of the reply, then the finish reason."""
    pieces = [*(word if i == 0 else " " + word for i, word in enumerate(REPLY.split(" "))), ""]
    for index, piece in enumerate(pieces):
        last = index == len(pieces) - 1
        choice = {"index": 0, "text": piece, "finish_reason": "stop" if last else None, "logprobs": None}
        chunk = {"id": ident, "object": "text_completion", "created": created, "model": model, "choices": [choice]}
        yield f"data: {json.dumps(chunk)}\n\n"
    yield "data: [DONE]\n\n"


def _call(call: dict[str, Any], ident: str) -> dict[str, Any]:
    return {"id": ident, "type": "function", "function": {"name": call["name"], "arguments": call["arguments"]}}


async def _tool_call_stream(ident: str, created: int, model: str, call: dict[str, Any]) -> AsyncIterator[str]:
    """A streamed tool call as OpenAI sends it: the name first, the arguments in pieces, then the finish."""
    arguments = call["arguments"]
    pieces = [arguments[: len(arguments) // 2], arguments[len(arguments) // 2 :]]
    first = {"index": 0, "id": f"{ident}-call", "type": "function", "function": {"name": call["name"], "arguments": ""}}
    deltas = [{"role": "assistant", "tool_calls": [first]}]
    deltas += [{"tool_calls": [{"index": 0, "function": {"arguments": piece}}]} for piece in pieces]
    for delta in deltas:
        chunk = {"id": ident, "object": "chat.completion.chunk", "created": created, "model": model,
                 "choices": [{"index": 0, "delta": delta, "finish_reason": None}]}  # fmt: skip
        yield f"data: {json.dumps(chunk)}\n\n"
    last = {"id": ident, "object": "chat.completion.chunk", "created": created, "model": model,
            "choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]}  # fmt: skip
    yield f"data: {json.dumps(last)}\n\n"
    yield "data: [DONE]\n\n"
