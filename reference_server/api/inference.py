"""Inference routes of the seed's era, forwarded to the provider of the requested model.

* native: ``POST /v1/inference/chat-completion`` (JSON or server-sent events),
  ``/v1/inference/completion`` and ``/v1/inference/embeddings``;
* OpenAI-compatible: ``/v1/openai/v1/models``, ``chat/completions`` (streaming too),
  ``completions`` and ``embeddings``; the last three also at ``/v1/``, where releases since
  0.3.0 serve them (the reference server sits inside every generation's window).

Requests name our model id; the backend is called with the provider's model id, and answers
name our id again.
"""

# Requirements (conformance/catalog.yaml): INF-CHAT-001, INF-CHAT-002, INF-OPENAI-001, INF-OPENAI-002,
#   INF-OPENAI-003, INF-EMBED-001, INF-ERR-001, INF-V1-CHAT-001, INF-V1-CHAT-002,
#   INF-V1-COMPLETION-001, INF-V1-EMBED-001, INF-V1-ERR-001,
#   INF-COMPLETION-001, INF-OPENAI-005, INF-OPENAI-006, INF-V1-COMPLETION-002, INF-V1-EMBED-002,
#   INF-EMBED-002, INF-EMBED-003, INF-FORMAT-001

from __future__ import annotations

import base64
import json
import struct
import time
import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

from fastapi import Query, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from reference_server.api.deps import principal_of, stack_of
from reference_server.api.native_tools import (
    StreamedCalls,
    ToolConfig,
    ToolDefinition,
    choice_index,
    native_tool_calls,
    openai_message,
    openai_tool_choice,
    openai_tools,
)
from reference_server.api.strict_routes import strict_router
from reference_server.content import content_text
from reference_server.errors import InvalidRequest, StackError
from reference_server.resources.models import Model

router = strict_router("inference")


class Message(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: Literal["system", "user", "assistant", "tool"]
    content: str | list[Any] = ""


class SamplingParams(BaseModel):
    model_config = ConfigDict(extra="ignore")

    strategy: dict[str, Any] = Field(default_factory=dict)
    max_tokens: int | None = Field(default=None, ge=0)


class JsonSchemaFormat(BaseModel):
    type: Literal["json_schema"]
    json_schema: dict[str, Any]


class GrammarFormat(BaseModel):
    type: Literal["grammar"]
    bnf: dict[str, Any]


ResponseFormat = Annotated[JsonSchemaFormat | GrammarFormat, Field(discriminator="type")]


class ChatCompletionRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    model_id: str
    messages: list[Message] = Field(min_length=1)
    sampling_params: SamplingParams | None = None
    response_format: ResponseFormat | None = None
    stream: bool = False
    tools: list[ToolDefinition] | None = None
    tool_choice: str | None = None  # deprecated upstream for tool_config.tool_choice; still read
    tool_prompt_format: Literal["json", "function_tag", "python_list"] | None = None  # a prompt hint: moot here
    tool_config: ToolConfig | None = None
    # Not served here: refused by name rather than dropped, see _refuse_unserved.
    logprobs: dict[str, Any] | None = None


class CompletionRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    model_id: str
    content: str | list[Any]
    sampling_params: SamplingParams | None = None
    response_format: ResponseFormat | None = None
    stream: bool = False
    logprobs: dict[str, Any] | None = None


class TextItem(BaseModel):
    type: Literal["text"]
    text: str


class EmbeddingsRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    model_id: str
    # Strings, or interleaved content items of which only text can be embedded here.
    contents: list[str | TextItem | list[str | TextItem]] = Field(min_length=1)
    text_truncation: Literal["none", "start", "end"] | None = "none"
    output_dimension: int | None = Field(default=None, ge=1)
    task_type: Literal["query", "document"] | None = None


class OpenAIChatRequest(BaseModel):
    # Everything beyond these fields is passed to the backend untouched.
    model_config = ConfigDict(extra="allow")

    model: str
    messages: list[dict[str, Any]] = Field(min_length=1)
    stream: bool = False


class OpenAICompletionRequest(BaseModel):
    model_config = ConfigDict(extra="allow")

    model: str
    prompt: str | list[Any]


class OpenAIEmbeddingsRequest(BaseModel):
    model_config = ConfigDict(extra="allow")

    model: str
    input: str | list[Any]
    encoding_format: Literal["float", "base64"] = "float"


async def _model(request: Request, model_id: str, kind: str) -> Model:
    stack = stack_of(request)
    model = await stack.verified(stack.models.get(model_id, principal_of(request)))
    if kind == "embedding" and model.model_type != "embedding":
        raise InvalidRequest(f"Model {model_id!r} is not an embedding model")
    if kind == "llm" and model.model_type != "llm":
        raise InvalidRequest(f"Model {model_id!r} is an embedding model; it cannot generate text")
    return model


def _sampling(params: SamplingParams | None) -> dict[str, Any]:
    if params is None:
        return {}
    options: dict[str, Any] = {}
    strategy = params.strategy
    if strategy.get("type") == "greedy":
        options["temperature"] = 0.0
    for key in ("temperature", "top_p"):
        if strategy.get(key) is not None:
            options[key] = strategy[key]
    if params.max_tokens:
        options["max_tokens"] = params.max_tokens
    return options


def _refuse_unserved(body: ChatCompletionRequest | CompletionRequest) -> None:
    """A field this server does not act on is refused by name: answering as if it were absent
    would hand a logprobs client nothing, with a 200."""
    if body.logprobs is not None:
        raise InvalidRequest("logprobs: log probabilities are not supported by this server")


def _response_format(fmt: JsonSchemaFormat | GrammarFormat | None) -> dict[str, Any]:
    """The structured-output request in the OpenAI form both backends (Ollama's /v1, vLLM) take."""
    if fmt is None:
        return {}
    if isinstance(fmt, GrammarFormat):
        raise InvalidRequest("response_format: type 'grammar' is not supported by this server; use 'json_schema'")
    return {"response_format": {"type": "json_schema", "json_schema": {"name": "response", "schema": fmt.json_schema}}}


def _stop_reason(finish_reason: Any) -> str:
    """Upstream's StopReason for OpenAI's finish_reason (vllm.py at v0.2.12 maps them so)."""
    return {"length": "out_of_tokens", "tool_calls": "end_of_message"}.get(str(finish_reason), "end_of_turn")


def _tools(body: ChatCompletionRequest) -> dict[str, Any]:
    if not body.tools:
        return {}
    configured = body.tool_config.tool_choice if body.tool_config else None
    choice = openai_tool_choice(configured or body.tool_choice, body.tools)
    return {"tools": openai_tools(body.tools), "tool_choice": choice}


def _sse(events: AsyncIterator[dict[str, Any]]) -> StreamingResponse:
    async def frames() -> AsyncIterator[str]:
        try:
            async for event in events:
                yield f"data: {json.dumps(event)}\n\n"
        except StackError as exc:  # the status line is gone; say it in the stream
            yield f"data: {json.dumps({'error': {'message': exc.message}})}\n\n"

    return StreamingResponse(frames(), media_type="text/event-stream")


@router.post("/v1/inference/chat-completion")
async def chat_completion(body: ChatCompletionRequest, request: Request) -> Any:
    _refuse_unserved(body)
    stack = stack_of(request)
    model = await _model(request, body.model_id, "llm")
    provider = stack.inference(model.provider_id)
    upstream = {
        "model": model.provider_resource_id,
        "messages": [openai_message(m.model_dump()) for m in body.messages],
        **_sampling(body.sampling_params),
        **_response_format(body.response_format),
        **_tools(body),
    }
    if not body.stream:
        answer = await provider.chat(upstream)
        choice = (answer.get("choices") or [{}])[0]
        message = choice.get("message") or {}
        return JSONResponse(
            {
                "completion_message": {
                    "role": "assistant",
                    "content": message.get("content") or "",
                    "stop_reason": _stop_reason(choice.get("finish_reason")),
                    "tool_calls": native_tool_calls(message.get("tool_calls")),
                },
                "logprobs": None,
            }
        )
    chunks = await provider.chat_stream(upstream)

    async def events() -> AsyncIterator[dict[str, Any]]:
        yield {"event": {"event_type": "start", "delta": {"type": "text", "text": ""}}}
        stop_reason = "end_of_turn"
        calls = StreamedCalls()
        async for chunk in chunks:
            choice = (chunk.get("choices") or [{}])[0]
            delta = choice.get("delta") or {}
            calls.take(delta)
            text = delta.get("content") if isinstance(delta, dict) else None
            if text:
                yield {"event": {"event_type": "progress", "delta": {"type": "text", "text": text}}}
            if choice.get("finish_reason"):
                stop_reason = _stop_reason(choice["finish_reason"])
        for event in calls.events():
            yield event
        yield {"event": {"event_type": "complete", "delta": {"type": "text", "text": ""}, "stop_reason": stop_reason}}

    return _sse(events())


@router.post("/v1/inference/completion")
async def completion(body: CompletionRequest, request: Request) -> Any:
    _refuse_unserved(body)
    stack = stack_of(request)
    model = await _model(request, body.model_id, "llm")
    provider = stack.inference(model.provider_id)
    upstream = {
        "model": model.provider_resource_id,
        "prompt": content_text(body.content),
        **_sampling(body.sampling_params),
        **_response_format(body.response_format),
    }
    if not body.stream:
        choice = ((await provider.completion(upstream)).get("choices") or [{}])[0]
        stop_reason = _stop_reason(choice.get("finish_reason"))
        return JSONResponse({"content": choice.get("text") or "", "stop_reason": stop_reason, "logprobs": None})
    chunks = await provider.completion_stream(upstream)

    async def events() -> AsyncIterator[dict[str, Any]]:
        # upstream's CompletionResponseStreamChunk: text deltas, then an empty one with the stop reason
        stop_reason = "end_of_turn"
        async for chunk in chunks:
            choice = (chunk.get("choices") or [{}])[0]
            if choice.get("text"):
                yield {"delta": choice["text"], "stop_reason": None, "logprobs": None}
            if choice.get("finish_reason"):
                stop_reason = _stop_reason(choice["finish_reason"])
        yield {"delta": "", "stop_reason": stop_reason, "logprobs": None}

    return _sse(events())


@router.post("/v1/inference/embeddings")
async def embeddings(body: EmbeddingsRequest, request: Request) -> JSONResponse:
    stack = stack_of(request)
    model = await _model(request, body.model_id, "embedding")
    dimension = model.metadata.get("embedding_dimension")
    if body.output_dimension is not None and body.output_dimension != dimension:
        raise InvalidRequest(
            f"output_dimension: {model.identifier!r} embeds in {dimension} dimensions and cannot shorten them"
        )
    texts = [content_text(c.model_dump() if isinstance(c, TextItem) else c) for c in body.contents]
    vectors = await stack.inference(model.provider_id).embed(model.provider_resource_id, texts)
    return JSONResponse({"embeddings": vectors})


@router.get("/v1/openai/v1/models")
async def openai_models(request: Request) -> JSONResponse:
    created = int(time.time())
    return JSONResponse(
        {
            "data": [
                {"id": m.identifier, "object": "model", "created": created, "owned_by": "llama_stack"}
                for m in stack_of(request).models.models(principal_of(request))
            ]
        }
    )


# Seam (tests/defects/seams.py): a negative control replaces this (answers under the backend's model name).
def _renamed(answer: Any, model_id: str) -> Any:
    if isinstance(answer, dict) and "model" in answer:
        return {**answer, "model": model_id}
    return answer


@router.post("/v1/openai/v1/chat/completions")
@router.post("/v1/chat/completions")
async def openai_chat(body: OpenAIChatRequest, request: Request) -> Any:
    stack = stack_of(request)
    model = await _model(request, body.model, "llm")
    provider = stack.inference(model.provider_id)
    upstream = {**body.model_dump(), "model": model.provider_resource_id}
    owner = principal_of(request)
    # Our own id: backends number their answers (Ollama's repeat across restarts), and a stored
    # completion is read back by its id.
    identifier = f"chatcmpl-{uuid.uuid4().hex}"
    if not body.stream:
        answer = _renamed(await provider.chat(upstream), model.identifier)
        if isinstance(answer, dict):
            answer["id"] = identifier
            await stack.chat_completions.add(answer, body.messages, owner)
        return JSONResponse(answer)
    chunks = await provider.chat_stream(upstream)

    async def events() -> AsyncIterator[dict[str, Any]]:
        assembled = _Assembled()
        async for chunk in chunks:
            renamed = _renamed(chunk, model.identifier)
            if isinstance(renamed, dict):
                renamed["id"] = identifier
            assembled.take(renamed)
            yield renamed
        # stored once the stream is whole, before it is closed: the client's next request finds it
        await stack.chat_completions.add(assembled.completion(), body.messages, owner)

    return _sse(events())


class _Assembled:
    """A streamed chat completion put back together, to be stored as the plain answer would be."""

    def __init__(self) -> None:
        self.fields: dict[str, Any] = {}
        self.texts: dict[int, list[str]] = {}
        self.finish: dict[int, Any] = {}

    def take(self, chunk: Any) -> None:
        if not isinstance(chunk, dict):
            return
        for key in ("id", "created", "model"):
            self.fields.setdefault(key, chunk.get(key))
        for choice in chunk.get("choices") or []:
            if not isinstance(choice, dict):
                continue
            index = choice_index(choice.get("index"))
            delta = choice.get("delta") or {}
            if isinstance(delta, dict) and isinstance(delta.get("content"), str):
                self.texts.setdefault(index, []).append(delta["content"])
            if choice.get("finish_reason"):
                self.finish[index] = choice["finish_reason"]

    def completion(self) -> dict[str, Any]:
        indexes = sorted(set(self.texts) | set(self.finish))
        choices = [
            {
                "index": i,
                "finish_reason": self.finish.get(i, "stop"),
                "message": {"role": "assistant", "content": "".join(self.texts.get(i, []))},
            }
            for i in indexes
        ]
        return {**self.fields, "choices": choices}


@router.get("/v1/openai/v1/chat/completions")
@router.get("/v1/chat/completions")
async def list_chat_completions(
    request: Request,
    after: str | None = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 20,
    model: str | None = None,
    order: Literal["asc", "desc"] = "desc",
) -> JSONResponse:
    return JSONResponse(stack_of(request).chat_completions.page(principal_of(request), after, limit, model, order))


@router.get("/v1/openai/v1/chat/completions/{completion_id}")
@router.get("/v1/chat/completions/{completion_id}")
async def get_chat_completion(completion_id: str, request: Request) -> JSONResponse:
    return JSONResponse(stack_of(request).chat_completions.get(completion_id, principal_of(request)))


@router.post("/v1/openai/v1/completions")
@router.post("/v1/completions")
async def openai_completion(body: OpenAICompletionRequest, request: Request) -> Any:
    stack = stack_of(request)
    model = await _model(request, body.model, "llm")
    provider = stack.inference(model.provider_id)
    upstream = {**body.model_dump(), "model": model.provider_resource_id}
    if not upstream.get("stream"):
        return JSONResponse(_renamed(await provider.completion(upstream), model.identifier))
    chunks = await provider.completion_stream(upstream)

    async def events() -> AsyncIterator[dict[str, Any]]:
        async for chunk in chunks:
            yield _renamed(chunk, model.identifier)

    return _sse(events())


@router.post("/v1/openai/v1/embeddings")
@router.post("/v1/embeddings")
async def openai_embeddings(body: OpenAIEmbeddingsRequest, request: Request) -> JSONResponse:
    stack = stack_of(request)
    model = await _model(request, body.model, "embedding")
    # The backend is asked for floats (Ollama ignores encoding_format); base64 is encoded here.
    upstream = {**body.model_dump(exclude={"encoding_format"}), "model": model.provider_resource_id}
    answer = _renamed(await stack.inference(model.provider_id).embeddings(upstream), model.identifier)
    if body.encoding_format == "base64" and isinstance(answer, dict) and isinstance(answer.get("data"), list):
        answer["data"] = [_base64_entry(entry) for entry in answer["data"]]
    return JSONResponse(answer)


def _base64_entry(entry: Any) -> Any:
    """OpenAI's base64 form: the vector's little-endian float32 bytes."""
    vector = entry.get("embedding") if isinstance(entry, dict) else None
    if not isinstance(vector, list) or not all(isinstance(x, int | float) for x in vector):
        return entry
    packed = struct.pack(f"<{len(vector)}f", *vector)
    return {**entry, "embedding": base64.b64encode(packed).decode("ascii")}
