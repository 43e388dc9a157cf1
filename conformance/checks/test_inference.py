"""Profile ``inference``: chat, streaming and embeddings through every route family (black box).

Three families, each inside its own window: the native ``/v1/inference/*`` routes and the
OpenAI-compatible ones under ``/v1/openai/v1/`` (both gone in 0.4.0), and the OpenAI-compatible
ones at ``/v1/`` (0.3.0 on). Models are taken from the target's own listing (``--provider-id``
narrows it to one provider). Answers are checked for structure only, never for what the model said.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import struct
import time
from typing import Any

import pytest

from conformance.checks.shapes import (
    embedding_dimension,
    expect_data_list,
    expect_json_error,
    model_field,
    model_id,
    model_provider,
    next_second,
    pick_model,
    registration_body,
    require_route,
    serves_route,
    sse_events,
    unique_id,
    walk_listing,
)
from conformance.http import RecordingClient, require_authorised
from conformance.outcomes import inconclusive
from conformance.plugin import ScenarioAccess
from conformance.settings import Settings

requirement = pytest.mark.requirement
PROMPT = [{"role": "user", "content": "Say hello."}]
STOP_REASONS = ("end_of_turn", "end_of_message", "out_of_tokens")  # StopReason at v0.2.12


def listed(stack_api: RecordingClient) -> list[Any]:
    return expect_data_list(stack_api.get_json("/v1/models"), "/v1/models")


def llm(stack_api: RecordingClient, settings: Settings) -> str:
    return model_id(pick_model(listed(stack_api), "llm", settings.provider_id))


def expect_assistant_text(message: Any, where: str) -> None:
    assert isinstance(message, dict), f"no {where} in the answer"
    assert message.get("role") == "assistant", f"{where}.role is {message.get('role')!r}"
    assert isinstance(message.get("content"), str), f"{where}.content is {message.get('content')!r:.100}"


def embedding_model(stack_api: RecordingClient, settings: Settings) -> dict[str, Any]:
    model: dict[str, Any] = pick_model(listed(stack_api), "embedding", settings.provider_id)
    return model


def expect_text_completion_chunks(events: list[Any], where: str) -> None:
    """OpenAI's streamed completion: ``text_completion`` objects, each with a string first text."""
    kinds = {e.get("object") if isinstance(e, dict) else type(e).__name__ for e in events}
    assert kinds == {"text_completion"}, f"{where}: event objects: {kinds}"
    texts = [(e.get("choices") or [{}])[0].get("text") for e in events]
    assert all(isinstance(t, str) for t in texts), f"{where}: choices[0].text per event: {texts[:5]!r:.300}"


def expect_base64_vectors(api: RecordingClient, path: str, model: str, texts: list[str]) -> None:
    """The base64 answer decodes, as little-endian float32, to the float answer of the same request."""
    floats = api.post(path, json_body={"model": model, "input": texts}, expect=200).json()
    encoded = api.post(path, json_body={"model": model, "input": texts, "encoding_format": "base64"}, expect=200)
    data = encoded.json().get("data") if isinstance(encoded.json(), dict) else None
    assert isinstance(data, list) and len(data) == len(texts), f"expected {len(texts)} entries: {encoded.text[:300]}"
    expected = [entry.get("embedding") for entry in floats.get("data", [])] if isinstance(floats, dict) else []
    for index, entry in enumerate(data):
        text = entry.get("embedding") if isinstance(entry, dict) else None
        assert isinstance(text, str), f"entry {index}: the embedding is {type(text).__name__}, not a base64 string"
        try:
            raw = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise AssertionError(f"entry {index}: the embedding is not base64: {text[:60]!r}") from None
        assert len(raw) % 4 == 0, f"entry {index}: {len(raw)} bytes is not a whole number of float32 values"
        values = struct.unpack(f"<{len(raw) // 4}f", raw)
        want = expected[index] if index < len(expected) else None
        if not isinstance(want, list):
            inconclusive(f"the float answer to compare with has no embedding {index}: {floats!r:.200}")
        assert len(values) == len(want), f"entry {index}: {len(values)} values decoded, the floats are {len(want)}"
        off = max(abs(a - float(b)) for a, b in zip(values, want, strict=True))
        assert math.isfinite(off) and off < 1e-3, f"entry {index}: decoded values differ from the floats by {off}"


def expect_chunks(events: list[Any]) -> None:
    kinds = {e.get("object") if isinstance(e, dict) else type(e).__name__ for e in events}
    assert kinds == {"chat.completion.chunk"}, f"event objects: {kinds}"


@requirement("INF-CHAT-001")
def test_native_chat(stack_api: RecordingClient, stack_settings: Settings) -> None:
    body = {"model_id": llm(stack_api, stack_settings), "messages": PROMPT}
    answer = stack_api.post("/v1/inference/chat-completion", json_body=body, expect=200).json()
    assert isinstance(answer, dict), f"the answer is not a JSON object: {answer!r:.300}"
    expect_assistant_text(answer.get("completion_message"), "completion_message")


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


def openai_chat(api: RecordingClient, model: str) -> dict[str, Any]:
    answer = api.post("/v1/openai/v1/chat/completions", json_body={"model": model, "messages": PROMPT}, expect=200)
    body = answer.json()
    assert isinstance(body, dict), f"the answer is not a JSON object: {answer.text[:300]}"
    return body


@requirement("INF-OPENAI-002")
def test_openai_chat(stack_api: RecordingClient, stack_settings: Settings) -> None:
    answer = openai_chat(stack_api, llm(stack_api, stack_settings))
    choices = answer.get("choices")
    assert isinstance(choices, list) and choices, f"no choices in {answer!r:.300}"
    assert (choices[0].get("message") or {}).get("role") == "assistant", f"choices[0] is {choices[0]!r:.200}"


@requirement("INF-OPENAI-004")
def test_openai_chat_names_the_requested_model(stack_api: RecordingClient, stack_settings: Settings) -> None:
    base = pick_model(listed(stack_api), "llm", stack_settings.provider_id)
    model = model_id(base)
    if model != model_field(base, "provider_resource_id"):
        answer = openai_chat(stack_api, model)
        assert answer.get("model") == model, f"model is {answer.get('model')!r}, the request named {model!r}"
        return
    # Named as its backend names it, an echo of the backend's name would pass: ask under an alias.
    alias = unique_id("alias")
    registered = stack_api.post("/v1/models", json_body=registration_body(alias, base))
    if registered.status != 200:
        inconclusive(f"{model!r} is named as its backend names it, and an alias could not be registered: "
                     f"{registered.describe()}")  # fmt: skip
    try:
        answer = openai_chat(stack_api, alias)
        assert answer.get("model") == alias, f"model is {answer.get('model')!r}, the request named alias {alias!r}"
    finally:
        stack_api.delete(f"/v1/models/{alias}")


@requirement("INF-OPENAI-003")
def test_openai_chat_stream(stack_api: RecordingClient, stack_settings: Settings) -> None:
    body = {"model": llm(stack_api, stack_settings), "messages": PROMPT, "stream": True}
    events = sse_events(stack_api.post("/v1/openai/v1/chat/completions", json_body=body, expect=200), "OpenAI stream")
    expect_chunks(events)


@requirement("INF-EMBED-001")
def test_native_embeddings(stack_api: RecordingClient, stack_settings: Settings) -> None:
    model = pick_model(listed(stack_api), "embedding", stack_settings.provider_id)
    dimension = embedding_dimension(model)
    body = {"model_id": model_id(model), "contents": ["first text", "second text"]}
    answer = stack_api.post("/v1/inference/embeddings", json_body=body, expect=200).json()
    vectors = answer.get("embeddings") if isinstance(answer, dict) else None
    assert isinstance(vectors, list) and len(vectors) == 2, f"expected 2 vectors, got {answer!r:.200}"
    for vector in vectors:
        assert isinstance(vector, list) and all(isinstance(x, int | float) for x in vector), "a vector is not numbers"
        assert len(vector) == dimension, f"a vector has {len(vector)} numbers, the model says {dimension}"


@requirement("INF-EMBED-002")
def test_native_embeddings_of_text_items(stack_api: RecordingClient, stack_settings: Settings) -> None:
    model = embedding_model(stack_api, stack_settings)
    items = [{"type": "text", "text": "first text"}, {"type": "text", "text": "second text"}]
    answer = stack_api.post("/v1/inference/embeddings", json_body={"model_id": model_id(model), "contents": items})
    assert answer.status == 200, f"text content items refused: {answer.describe()}"
    vectors = answer.json().get("embeddings") if isinstance(answer.json(), dict) else None
    assert isinstance(vectors, list) and len(vectors) == 2, f"expected 2 vectors, got {answer.text[:200]}"
    dimension = embedding_dimension(model)
    for vector in vectors:
        assert isinstance(vector, list) and all(isinstance(x, int | float) for x in vector), "a vector is not numbers"
        assert len(vector) == dimension, f"a vector has {len(vector)} numbers, the model says {dimension}"


@requirement("INF-EMBED-003")
def test_native_embeddings_refuse_an_unknown_truncation(stack_api: RecordingClient, stack_settings: Settings) -> None:
    model = model_id(embedding_model(stack_api, stack_settings))
    body = {"model_id": model, "contents": ["text"], "text_truncation": "middle"}
    response = stack_api.post("/v1/inference/embeddings", json_body=body)
    require_authorised(response, {400})
    expect_json_error(response, {400}, "embeddings with text_truncation 'middle'")
    assert "text_truncation" in response.text, f"the error does not name text_truncation: {response.text[:300]}"


@requirement("INF-COMPLETION-001")
def test_native_completion_stream(stack_api: RecordingClient, stack_settings: Settings) -> None:
    body = {"model_id": llm(stack_api, stack_settings), "content": "Say hello.", "stream": True}
    response = stack_api.post("/v1/inference/completion", json_body=body, expect=200)
    events = sse_events(response, "native completion stream")
    deltas = [e.get("delta") if isinstance(e, dict) else None for e in events]
    assert all(isinstance(d, str) for d in deltas), f"events without a string delta: {events[:3]!r:.300}"
    last = events[-1].get("stop_reason")
    assert last in STOP_REASONS, f"the last event's stop_reason is {last!r}, not one of {', '.join(STOP_REASONS)}"


def expect_completion_stream(api: RecordingClient, settings: Settings, path: str) -> None:
    body = {"model": llm(api, settings), "prompt": "Say hello.", "max_tokens": 16, "stream": True}
    expect_text_completion_chunks(sse_events(api.post(path, json_body=body, expect=200), path), path)


def expect_base64_embeddings(api: RecordingClient, settings: Settings, path: str) -> None:
    expect_base64_vectors(api, path, model_id(embedding_model(api, settings)), ["first text", "second text"])


@requirement("INF-OPENAI-005")
def test_openai_completion_stream(stack_api: RecordingClient, stack_settings: Settings) -> None:
    expect_completion_stream(stack_api, stack_settings, "/v1/openai/v1/completions")


@requirement("INF-OPENAI-006")
def test_openai_embeddings_in_base64(stack_api: RecordingClient, stack_settings: Settings) -> None:
    expect_base64_embeddings(stack_api, stack_settings, "/v1/openai/v1/embeddings")


def unknown_model_is_named(stack_api: RecordingClient, path: str) -> None:
    name = unique_id("missing")
    response = stack_api.post(path, json_body={"model": name, "messages": PROMPT})
    require_authorised(response, {400, 404})
    expect_json_error(response, range(400, 500), "chat with an unknown model")
    assert name in response.text, f"the error does not name the model: {response.text[:300]}"


@requirement("INF-ERR-001")
def test_chat_with_unknown_model(stack_api: RecordingClient) -> None:
    unknown_model_is_named(stack_api, "/v1/openai/v1/chat/completions")


# ------------------------------------------------ OpenAI-compatible routes at /v1 (0.3.0 on)


def assistant_choice(answer: Any, where: str) -> dict[str, Any]:
    """The first choice of a chat completion, after checking the envelope around it."""
    assert isinstance(answer, dict), f"{where}: the answer is not a JSON object: {answer!r:.300}"
    assert answer.get("object") == "chat.completion", f"{where}: object is {answer.get('object')!r}"
    assert isinstance(answer.get("model"), str) and answer["model"], f"{where}: model is {answer.get('model')!r}"
    choices = answer.get("choices")
    assert isinstance(choices, list) and choices, f"{where}: no choices in {answer!r:.300}"
    message = choices[0].get("message") if isinstance(choices[0], dict) else None
    assert isinstance(message, dict), f"{where}: choices[0] has no message: {choices[0]!r:.200}"
    return message


@requirement("INF-V1-CHAT-001")
def test_v1_chat(stack_api: RecordingClient, stack_settings: Settings) -> None:
    body = {"model": llm(stack_api, stack_settings), "messages": PROMPT}
    answer = stack_api.post("/v1/chat/completions", json_body=body, expect=200).json()
    expect_assistant_text(assistant_choice(answer, "/v1/chat/completions"), "choices[0].message")


@requirement("INF-V1-CHAT-002")
def test_v1_chat_stream(stack_api: RecordingClient, stack_settings: Settings) -> None:
    body = {"model": llm(stack_api, stack_settings), "messages": PROMPT, "stream": True}
    events = sse_events(stack_api.post("/v1/chat/completions", json_body=body, expect=200), "/v1 stream")
    expect_chunks(events)
    deltas = [(e.get("choices") or [{}])[0].get("delta") for e in events if e.get("choices")]
    assert deltas and all(isinstance(d, dict) for d in deltas), (
        f"chunks without a choices[0].delta: {events[:3]!r:.300}"
    )


@requirement("INF-V1-COMPLETION-001")
def test_v1_completion(stack_api: RecordingClient, stack_settings: Settings) -> None:
    body = {"model": llm(stack_api, stack_settings), "prompt": "Say hello.", "max_tokens": 16}
    answer = stack_api.post("/v1/completions", json_body=body, expect=200).json()
    choices = answer.get("choices") if isinstance(answer, dict) else None
    assert isinstance(choices, list) and choices, f"no choices in {answer!r:.300}"
    assert isinstance(choices[0].get("text"), str), f"choices[0].text is {choices[0]!r:.200}"


@requirement("INF-V1-COMPLETION-002")
def test_v1_completion_stream(stack_api: RecordingClient, stack_settings: Settings) -> None:
    expect_completion_stream(stack_api, stack_settings, "/v1/completions")


@requirement("INF-V1-EMBED-002")
def test_v1_embeddings_in_base64(stack_api: RecordingClient, stack_settings: Settings) -> None:
    expect_base64_embeddings(stack_api, stack_settings, "/v1/embeddings")


@requirement("INF-V1-EMBED-001")
def test_v1_embeddings(stack_api: RecordingClient, stack_settings: Settings) -> None:
    model = pick_model(listed(stack_api), "embedding", stack_settings.provider_id)
    body = {"model": model_id(model), "input": ["first text", "second text"]}
    answer = stack_api.post("/v1/embeddings", json_body=body, expect=200).json()
    data = answer.get("data") if isinstance(answer, dict) else None
    assert isinstance(data, list) and len(data) == 2, f"expected 2 embeddings, got {answer!r:.200}"
    dimension = embedding_dimension(model)
    for entry in data:
        vector = entry.get("embedding") if isinstance(entry, dict) else None
        assert isinstance(vector, list) and vector, f"an entry has no embedding list: {entry!r:.200}"
        assert all(isinstance(x, int | float) for x in vector), "an embedding is not numbers"
        if isinstance(dimension, int):
            assert len(vector) == dimension, f"an embedding has {len(vector)} numbers, the model says {dimension}"
    assert len(data[0]["embedding"]) == len(data[1]["embedding"]), "the two embeddings differ in length"


@requirement("INF-V1-ERR-001")
def test_v1_chat_with_unknown_model(stack_api: RecordingClient) -> None:
    unknown_model_is_named(stack_api, "/v1/chat/completions")


# Where each generation's OpenAI-compatible chat lives, newest first.
OPENAI_CHAT_ROUTES = ("/v1/chat/completions", "/v1/openai/v1/chat/completions")
# How a backend request may carry the two sampling values, by protocol: the OpenAI form (vLLM,
# Ollama's /v1) and Ollama's native options.
MAX_TOKENS_FIELDS = (("max_tokens",), ("max_completion_tokens",), ("options", "num_predict"))
TEMPERATURE_FIELDS = (("temperature",), ("options", "temperature"))


def _field(body: dict[str, Any], paths: tuple[tuple[str, ...], ...]) -> Any:
    for path in paths:
        value: Any = body
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        if value is not None:
            return value
    return None


def aliased_llm(api: RecordingClient) -> str | None:
    """A listed Ollama llm whose id is not its provider_model_id: the core scenario's
    conformance/llama, or (from 0.3 on) ollama/llama3.2:3b."""
    for model in expect_data_list(api.get_json("/v1/models"), "/v1/models"):
        if not isinstance(model, dict) or model_field(model, "model_type") != "llm":
            continue
        backend_name = model_field(model, "provider_resource_id")
        if model_provider(model) == "ollama" and backend_name == "llama3.2:3b" != model_id(model):
            return model_id(model)
    return None


@requirement("INF-BACKEND-001")
def test_backend_gets_the_provider_model_id_and_sampling(scenarios: ScenarioAccess) -> None:
    launched = scenarios.pool.shared("core")
    api, ollama = scenarios.client(launched.url), launched.fakes["ollama"]
    route = next((r for r in OPENAI_CHAT_ROUTES if serves_route(api, "POST", r)), None)
    if route is None:
        pytest.skip(f"the target serves none of {', '.join(OPENAI_CHAT_ROUTES)}")
    alias = aliased_llm(api)
    if alias is None:  # the config's alias is REG-*'s and CFG-MODEL-*'s business; without one, nothing to see
        inconclusive("the core scenario lists no Ollama model under another name than llama3.2:3b")
    ollama.clear_requests()
    body = {"model": alias, "messages": PROMPT, "max_tokens": 7, "temperature": 0.25}
    api.post(route, json_body=body, expect=200)
    sent = [json.loads(r["body"]) for r in ollama.requests() if r["path"] in ("/api/chat", "/v1/chat/completions")]
    assert sent, f"no chat request reached Ollama: {[r['path'] for r in ollama.requests()]}"
    last = sent[-1]
    got = (last.get("model"), _field(last, MAX_TOKENS_FIELDS), _field(last, TEMPERATURE_FIELDS))
    assert got == ("llama3.2:3b", 7, 0.25), f"Ollama got (model, max tokens, temperature) = {got}: {last!r:.300}"


SCHEMA = {"type": "object", "properties": {"greeting": {"type": "string"}}, "required": ["greeting"]}


def _schema_sent(body: dict[str, Any]) -> Any:
    """The JSON schema a backend request carries: Ollama's native ``format`` or OpenAI's ``response_format``."""
    if isinstance(body.get("format"), dict):
        return body["format"]
    response_format = body.get("response_format")
    schema = response_format.get("json_schema") if isinstance(response_format, dict) else None
    return schema.get("schema") if isinstance(schema, dict) else None


@requirement("INF-FORMAT-001")
def test_native_chat_response_format_reaches_the_backend(scenarios: ScenarioAccess) -> None:
    launched = scenarios.pool.shared("core")
    api, ollama = scenarios.client(launched.url), launched.fakes["ollama"]
    model = model_id(pick_model(listed(api), "llm", "ollama"))
    ollama.clear_requests()
    body = {"model_id": model, "messages": PROMPT, "response_format": {"type": "json_schema", "json_schema": SCHEMA}}
    api.post("/v1/inference/chat-completion", json_body=body, expect=200)
    chats = ("/api/chat", "/api/generate", "/v1/chat/completions")
    sent = [json.loads(r["body"]) for r in ollama.requests() if r["path"] in chats]
    assert sent, f"no chat request reached Ollama: {[r['path'] for r in ollama.requests()]}"
    schema = _schema_sent(sent[-1])
    assert schema == SCHEMA, f"Ollama got the schema {schema!r:.200} in {sent[-1]!r:.300}"


# ------------------------------------------------ stored chat completions (the inference store)


# Upstream stores a chat completion in the background after answering it (a write queue,
# ogx-ai/ogx#3383; 0.7.3's fire-and-forget task, core/routers/inference.py:268): what it promises
# is that the completion is stored, not that the very next request sees it. 10 s bounds a store
# that never writes; a healthy one takes milliseconds.
STORED_BOUND_S = 10.0


def read_stored(api: RecordingClient, route: str, ident: str, caller: dict[str, Any]) -> Any:
    """The stored completion once it can be read: a bounded wait for that observable state."""
    deadline = time.monotonic() + STORED_BOUND_S
    while True:
        answer = api.get(f"{route}/{ident}", **caller)
        waiting = 400 <= answer.status < 500 and answer.status not in (401, 403, 429)
        if answer.status == 200 or not waiting or time.monotonic() >= deadline:
            break
        time.sleep(0.1)  # paces the polling; the verdict rests on the answers
    require_authorised(answer, {200})  # the suite's credentials, not the store: inconclusive
    assert answer.status == 200, f"{route}/{ident} is not readable within {STORED_BOUND_S:g} s: {answer.describe()}"
    return answer.json()


def chat_once(api: RecordingClient, route: str, model: str, caller: dict[str, Any], text: str) -> str:
    messages = [{"role": "user", "content": text}]
    answer = api.post(route, json_body={"model": model, "messages": messages}, expect=200, **caller).json()
    assert isinstance(answer, dict) and isinstance(answer.get("id"), str), f"no id in {answer!r:.200}"
    return str(answer["id"])


def expect_stored_completions(api: RecordingClient, route: str, model: str, caller: dict[str, Any]) -> None:
    """Three completions made here are read back by id and listed, newest first, near the top."""
    require_route(api, "GET", route, **caller)
    made: list[tuple[str, str]] = []
    for index in range(3):
        if made:
            next_second()  # `created` counts seconds: three in one second could not show an order
        text = f"Say hello, number {index}."
        made.append((chat_once(api, route, model, caller, text), text))
    for ident, text in made:
        stored = read_stored(api, route, ident, caller)
        assert isinstance(stored, dict) and stored.get("id") == ident, f"{route}/{ident} answered {stored!r:.200}"
        sent = [(m.get("role"), m.get("content")) for m in stored.get("input_messages") or [] if isinstance(m, dict)]
        assert sent == [("user", text)], f"input_messages of {ident}: {sent!r:.200}"
        assert isinstance(stored.get("choices"), list) and stored["choices"], f"no choices stored for {ident}"
    # Pages of 100, so that walking across pages (INF-*-STORE-002's question) is not asked here.
    made_ids = {ident for ident, _ in made}
    walked = walk_listing(api, route, caller, limit=100, enough=lambda seen: made_ids <= {e.get("id") for e in seen})
    ids = [entry.get("id") for entry in walked]
    missing = [ident for ident, _ in made if ident not in ids]
    assert not missing, f"GET {route} never listed {missing}"
    created = [entry.get("created") for entry in walked]
    assert all(isinstance(c, int) for c in created), f"entries without an integer created: {created[:5]}"
    stamps = [int(c) for c in created if isinstance(c, int)]
    assert stamps == sorted(stamps, reverse=True), "the listing is not newest first"
    ours = [ident for ident in ids if ident in made_ids]
    assert ours == [ident for ident, _ in reversed(made)], "the three completions are not listed newest first"
    unknown = unique_id("chatcmpl-missing")
    response = api.get(f"{route}/{unknown}", **caller)
    expect_json_error(response, range(400, 500), "an unknown chat completion id")


def expect_same_second_walk(api: RecordingClient, route: str, model: str, caller: dict[str, Any]) -> None:
    """Completions made within one second are each met once in a walk by limit=1 and after: a
    cursor compared by `created` alone (0.7.3's SQL store) skips the others of its second. Three
    are made at the start of a second, so that at least two share it even on a slow target."""
    require_route(api, "GET", route, **caller)
    next_second()
    made = [chat_once(api, route, model, caller, f"Say hello, twin {index}.") for index in range(3)]
    created = {ident: read_stored(api, route, ident, caller).get("created") for ident in made}
    shared = [ident for ident in made if list(created.values()).count(created[ident]) > 1]
    if not shared:
        inconclusive(
            f"no two of the completions were stored within one second (created {sorted(map(str, created.values()))})"
        )
    walked = walk_listing(api, route, caller, limit=1, enough=lambda seen: set(made) <= {e.get("id") for e in seen})
    missing = [ident for ident in made if ident not in {entry.get("id") for entry in walked}]
    assert not missing, (
        f"a walk of GET {route} by limit=1 and after never listed {missing}; {shared} were stored in the "
        f"same second ({created[shared[0]]})"
    )


@requirement("INF-STORE-001")
def test_openai_chat_completions_are_stored(stack_api: RecordingClient, stack_settings: Settings) -> None:
    expect_stored_completions(stack_api, "/v1/openai/v1/chat/completions", llm(stack_api, stack_settings), {})


@requirement("INF-V1-STORE-001")
def test_v1_chat_completions_are_stored(stack_api: RecordingClient, stack_settings: Settings) -> None:
    expect_stored_completions(stack_api, "/v1/chat/completions", llm(stack_api, stack_settings), {})


@requirement("INF-STORE-002")
def test_openai_walk_meets_completions_of_one_second(stack_api: RecordingClient, stack_settings: Settings) -> None:
    expect_same_second_walk(stack_api, "/v1/openai/v1/chat/completions", llm(stack_api, stack_settings), {})


@requirement("INF-V1-STORE-002")
def test_v1_walk_meets_completions_of_one_second(stack_api: RecordingClient, stack_settings: Settings) -> None:
    expect_same_second_walk(stack_api, "/v1/chat/completions", llm(stack_api, stack_settings), {})


# The suite's probe tool, which the fake backends call when offered it (conformance/fakes).
PROBE_TOOL = "conformance_lookup"
TOOL = {
    "tool_name": PROBE_TOOL,
    "description": "Look a word up in the conformance suite's dictionary.",
    "parameters": {"query": {"param_type": "string", "description": "The word.", "required": True}},
}


def offer_probe_tool(scenarios: ScenarioAccess, stream: bool) -> tuple[Any, list[dict[str, Any]]]:
    """Offer the probe tool on the core scenario; the answer, and the chat requests Ollama got."""
    launched = scenarios.pool.shared("core")
    api, ollama = scenarios.client(launched.url), launched.fakes["ollama"]
    model = model_id(pick_model(listed(api), "llm", "ollama"))
    ollama.clear_requests()
    body = {"model_id": model, "messages": PROMPT, "tools": [TOOL], "stream": stream}
    answer = api.post("/v1/inference/chat-completion", json_body=body, expect=200)
    chats = ("/api/chat", "/api/generate", "/v1/chat/completions")
    sent = [json.loads(r["body"]) for r in ollama.requests() if r["path"] in chats]
    assert sent, f"no chat request reached Ollama: {[r['path'] for r in ollama.requests()]}"
    offered = json.dumps(sent[-1].get("tools") or sent[-1].get("messages") or sent[-1].get("prompt"))
    assert PROBE_TOOL in offered, f"the backend was not offered {PROBE_TOOL!r}: {sent[-1]!r:.400}"
    return (sse_events(answer, "native tool stream") if stream else answer.json()), sent


def expect_probe_call(call: Any, where: str) -> None:
    assert isinstance(call, dict), f"{where}: the tool call is {call!r:.200}"
    assert call.get("tool_name") == PROBE_TOOL, f"{where}: tool_name is {call.get('tool_name')!r}"
    assert isinstance(call.get("call_id"), str), f"{where}: call_id is {call.get('call_id')!r}"
    arguments = call.get("arguments")
    assert isinstance(arguments, dict) and "query" in arguments, f"{where}: arguments are {arguments!r:.200}"


@requirement("INF-TOOLS-001")
def test_native_chat_tools_reach_the_backend_and_calls_come_back(scenarios: ScenarioAccess) -> None:
    answer, _sent = offer_probe_tool(scenarios, stream=False)
    message = answer.get("completion_message") if isinstance(answer, dict) else None
    calls = message.get("tool_calls") if isinstance(message, dict) else None
    assert isinstance(calls, list) and len(calls) == 1, f"tool_calls is {calls!r:.300} (the backend called the tool)"
    expect_probe_call(calls[0], "completion_message.tool_calls[0]")


@requirement("INF-TOOLS-002")
def test_native_chat_streams_tool_calls(scenarios: ScenarioAccess) -> None:
    events, _sent = offer_probe_tool(scenarios, stream=True)
    deltas = [(e.get("event") or {}).get("delta") for e in events if isinstance(e, dict)]
    calls = [d for d in deltas if isinstance(d, dict) and d.get("type") == "tool_call"]
    assert calls, f"no tool_call delta in the stream: {deltas!r:.300}"
    assert calls[-1].get("parse_status") == "succeeded", f"the last tool_call delta is {calls[-1]!r:.300}"
    expect_probe_call(calls[-1].get("tool_call"), "the tool_call delta")
