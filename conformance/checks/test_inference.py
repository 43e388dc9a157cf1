"""Profile ``inference``: chat, streaming and embeddings through both route families (black box).

Models are taken from the target's own listing (``--provider-id`` narrows it to one provider).
Answers are checked for structure only, never for what the model said.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from conformance.checks.shapes import expect_data_list, expect_json_error, pick_model, sse_events
from conformance.http import RecordingClient, require_authorised
from conformance.plugin import Settings

requirement = pytest.mark.requirement
PROMPT = [{"role": "user", "content": "Say hello."}]


def listed(stack_api: RecordingClient) -> list[Any]:
    return expect_data_list(stack_api.get_json("/v1/models"), "/v1/models")


def llm(stack_api: RecordingClient, settings: Settings) -> str:
    return str(pick_model(listed(stack_api), "llm", settings.provider_id)["identifier"])


@requirement("INF-CHAT-001")
def test_native_chat(stack_api: RecordingClient, stack_settings: Settings) -> None:
    body = {"model_id": llm(stack_api, stack_settings), "messages": PROMPT}
    answer = stack_api.post("/v1/inference/chat-completion", json_body=body, expect=200).json()
    message = answer.get("completion_message") if isinstance(answer, dict) else None
    assert isinstance(message, dict), f"no completion_message in {answer!r:.300}"
    assert message.get("role") == "assistant", f"completion_message.role is {message.get('role')!r}"
    assert isinstance(message.get("content"), str), f"completion_message.content is {message.get('content')!r:.100}"


@requirement("INF-CHAT-002")
def test_native_chat_stream(stack_api: RecordingClient, stack_settings: Settings) -> None:
    body = {"model_id": llm(stack_api, stack_settings), "messages": PROMPT, "stream": True}
    events = sse_events(stack_api.post("/v1/inference/chat-completion", json_body=body, expect=200), "native stream")
    kinds = [(e.get("event") or {}).get("event_type") if isinstance(e, dict) else None for e in events]
    assert kinds[0] == "start" and kinds[-1] == "complete", f"event types in order: {kinds}"


@requirement("INF-OPENAI-001")
def test_openai_models_lists_every_model(stack_api: RecordingClient) -> None:
    ours = {m.get("identifier") for m in listed(stack_api)}
    openai = expect_data_list(stack_api.get_json("/v1/openai/v1/models"), "/v1/openai/v1/models")
    ids = {m.get("id") for m in openai if isinstance(m, dict)}
    assert ours <= ids, f"missing from /v1/openai/v1/models: {sorted(map(str, ours - ids))}"


@requirement("INF-OPENAI-002")
def test_openai_chat(stack_api: RecordingClient, stack_settings: Settings) -> None:
    model = llm(stack_api, stack_settings)
    answer = stack_api.post(
        "/v1/openai/v1/chat/completions", json_body={"model": model, "messages": PROMPT}, expect=200
    ).json()
    choices = answer.get("choices") if isinstance(answer, dict) else None
    assert isinstance(choices, list) and choices, f"no choices in {answer!r:.300}"
    assert (choices[0].get("message") or {}).get("role") == "assistant", f"choices[0] is {choices[0]!r:.200}"
    assert answer.get("model") == model, f"model is {answer.get('model')!r}, the request named {model!r}"


@requirement("INF-OPENAI-003")
def test_openai_chat_stream(stack_api: RecordingClient, stack_settings: Settings) -> None:
    body = {"model": llm(stack_api, stack_settings), "messages": PROMPT, "stream": True}
    events = sse_events(stack_api.post("/v1/openai/v1/chat/completions", json_body=body, expect=200), "OpenAI stream")
    kinds = {e.get("object") if isinstance(e, dict) else type(e).__name__ for e in events}
    assert kinds == {"chat.completion.chunk"}, f"event objects: {kinds}"


@requirement("INF-EMBED-001")
def test_native_embeddings(stack_api: RecordingClient, stack_settings: Settings) -> None:
    model = pick_model(listed(stack_api), "embedding", stack_settings.provider_id)
    dimension = (model.get("metadata") or {}).get("embedding_dimension")
    body = {"model_id": model["identifier"], "contents": ["first text", "second text"]}
    answer = stack_api.post("/v1/inference/embeddings", json_body=body, expect=200).json()
    vectors = answer.get("embeddings") if isinstance(answer, dict) else None
    assert isinstance(vectors, list) and len(vectors) == 2, f"expected 2 vectors, got {answer!r:.200}"
    for vector in vectors:
        assert isinstance(vector, list) and all(isinstance(x, int | float) for x in vector), "a vector is not numbers"
        assert len(vector) == dimension, f"a vector has {len(vector)} numbers, the model says {dimension}"


@requirement("INF-ERR-001")
def test_chat_with_unknown_model(stack_api: RecordingClient) -> None:
    name = f"conformance-missing-{uuid.uuid4().hex[:10]}"
    response = stack_api.post("/v1/openai/v1/chat/completions", json_body={"model": name, "messages": PROMPT})
    require_authorised(response, {400, 404})
    expect_json_error(response, range(400, 500), "chat with an unknown model")
    assert name in response.text, f"the error does not name the model: {response.text[:300]}"
