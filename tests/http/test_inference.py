"""Inference through the real server when the backend misbehaves: clear statuses, no restart needed."""

from __future__ import annotations

import base64
import json
import struct
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from conformance.fakes.handle import FakeProcess
from tests.conftest import Server, ServerFactory

CHAT = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
TOOL = {
    "tool_name": "get_weather",
    "description": "The weather in a city",
    "parameters": {
        "city": {"param_type": "string", "description": "Its name"},
        "unit": {"param_type": "string", "required": False},
    },
}


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    """The fake behind the server: Ollama unless a test asks for both backends."""
    return str(getattr(request, "param", "ollama"))


# Both remote backends speak OpenAI's protocol through one provider class; the features each
# reaches a backend through are tested on both, so a backend-specific override cannot drop them.
BOTH_BACKENDS = pytest.mark.parametrize("backend", ["ollama", "vllm"], indirect=True)


@pytest.fixture
def own_fake(tmp_path: Path, backend: str) -> Iterator[FakeProcess]:
    """A fake this test may break without disturbing the others."""
    fake = FakeProcess(backend, tmp_path / "fake", models=["llama3.2:3b", "all-minilm:l6-v2"])
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def server(servers: ServerFactory, own_fake: FakeProcess, backend: str) -> Server:
    provider = (
        f'provider_id: ollama\n    provider_type: remote::ollama\n    config: {{url: "{own_fake.url}"}}'
        if backend == "ollama"
        else f'provider_id: vllm\n    provider_type: remote::vllm\n    config: {{url: "{own_fake.url}/v1"}}'
    )
    text = (
        servers.minimal().replace(
            f'provider_id: ollama\n    provider_type: remote::ollama\n    config: {{url: "{servers.ollama_url}"}}',
            provider,
        )
        + f"models:\n- {{model_id: m, provider_id: {backend}, provider_model_id: llama3.2:3b}}\n"
        f"- {{model_id: e, provider_id: {backend}, provider_model_id: all-minilm:l6-v2, model_type: embedding,"
        " metadata: {embedding_dimension: 384}}\n"
    )
    assert f"remote::{backend}" in text
    return servers.running(servers.config(text))


def message(response: httpx.Response) -> str:
    return str(response.json()["error"]["message"])


@BOTH_BACKENDS
def test_backend_error_is_502_naming_the_provider(server: Server, own_fake: FakeProcess, backend: str) -> None:
    own_fake.steer(fail_next=1, fail_status=500)
    answer = httpx.post(server.url + "/v1/openai/v1/chat/completions", json=CHAT)
    assert answer.status_code == 502 and f"provider '{backend}'" in message(answer)
    assert httpx.post(server.url + "/v1/openai/v1/chat/completions", json=CHAT).status_code == 200


@BOTH_BACKENDS
def test_backend_gone_is_503_and_recovers(server: Server, own_fake: FakeProcess) -> None:
    own_fake.down()
    answer = httpx.post(
        server.url + "/v1/inference/chat-completion", json={"model_id": "m", "messages": CHAT["messages"]}
    )
    assert answer.status_code == 503 and own_fake.url in message(answer)
    own_fake.up()
    assert httpx.post(server.url + "/v1/openai/v1/chat/completions", json=CHAT).status_code == 200


def test_backend_is_called_with_its_own_model_id(server: Server, own_fake: FakeProcess) -> None:
    own_fake.clear_requests()
    answer = httpx.post(server.url + "/v1/openai/v1/chat/completions", json=CHAT).json()
    assert answer["model"] == "m"
    [call] = [r for r in own_fake.requests() if r["path"] == "/v1/chat/completions"]
    assert json.loads(call["body"])["model"] == "llama3.2:3b"


@pytest.mark.parametrize(
    ("path", "body", "fragment"),
    [
        ("/v1/openai/v1/chat/completions", {"model": "e", "messages": CHAT["messages"]}, "embedding model"),
        ("/v1/inference/embeddings", {"model_id": "m", "contents": ["x"]}, "not an embedding model"),
        ("/v1/openai/v1/chat/completions", {"model": "m", "messages": []}, "messages"),
        ("/v1/inference/chat-completion", {"model_id": "m", "messages": [{"role": "wizard", "content": "x"}]}, "role"),
        ("/v1/openai/v1/chat/completions", {"model": "ghost", "messages": CHAT["messages"]}, "ghost"),
        # fields this server does not act on are refused by name, never dropped
        (
            "/v1/inference/chat-completion",
            {"model_id": "m", "messages": CHAT["messages"], "tools": [TOOL], "tool_choice": "ghost_tool"},
            "tool_choice",
        ),
        ("/v1/inference/completion", {"model_id": "m", "content": "x", "logprobs": {"top_k": 1}}, "logprobs"),
        (
            "/v1/inference/chat-completion",
            {"model_id": "m", "messages": CHAT["messages"], "response_format": {"type": "grammar", "bnf": {}}},
            "grammar",
        ),
        ("/v1/inference/embeddings", {"model_id": "e", "contents": ["x"], "output_dimension": 8}, "output_dimension"),
        (
            "/v1/inference/embeddings",
            {"model_id": "e", "contents": ["x"], "text_truncation": "middle"},
            "text_truncation",
        ),
        ("/v1/openai/v1/embeddings", {"model": "e", "input": "x", "encoding_format": "hex"}, "encoding_format"),
    ],
)
def test_client_mistakes_are_4xx(server: Server, path: str, body: dict[str, object], fragment: str) -> None:
    answer = httpx.post(server.url + path, json=body)
    assert 400 <= answer.status_code < 500 and fragment in message(answer)


def test_embeddings_both_routes(server: Server) -> None:
    native = httpx.post(server.url + "/v1/inference/embeddings", json={"model_id": "e", "contents": ["a", "b"]}).json()
    openai = httpx.post(server.url + "/v1/openai/v1/embeddings", json={"model": "e", "input": ["a", "b"]}).json()
    assert [len(v) for v in native["embeddings"]] == [384, 384]
    assert [item["embedding"] for item in openai["data"]] == native["embeddings"]
    assert openai["model"] == "e"


def events(response: httpx.Response) -> list[dict[str, object]]:
    assert response.headers["content-type"].startswith("text/event-stream")
    frames = [line[5:].strip() for line in response.text.splitlines() if line.startswith("data:")]
    return [json.loads(frame) for frame in frames if frame != "[DONE]"]


@BOTH_BACKENDS
def test_completions_stream_on_every_route(server: Server, own_fake: FakeProcess) -> None:
    native = events(
        httpx.post(server.url + "/v1/inference/completion", json={"model_id": "m", "content": "hi", "stream": True})
    )
    assert [e["stop_reason"] for e in native][-1] == "end_of_turn"
    assert "".join(str(e["delta"]) for e in native) == "Hello from the fake backend."
    for path in ("/v1/openai/v1/completions", "/v1/completions"):
        chunks = events(httpx.post(server.url + path, json={"model": "m", "prompt": "hi", "stream": True}))
        assert {c["object"] for c in chunks} == {"text_completion"} and {c["model"] for c in chunks} == {"m"}
    sent = [json.loads(r["body"]) for r in own_fake.requests() if r["path"] == "/v1/completions"]
    assert [b.get("stream") for b in sent] == [True, True, True]


@BOTH_BACKENDS
def test_base64_embeddings_are_the_float_vectors(server: Server, own_fake: FakeProcess) -> None:
    body = {"model": "e", "input": ["a", "b"]}
    floats = httpx.post(server.url + "/v1/embeddings", json=body).json()["data"]
    encoded = httpx.post(server.url + "/v1/embeddings", json={**body, "encoding_format": "base64"}).json()["data"]
    decoded = [list(struct.unpack("<384f", base64.b64decode(e["embedding"]))) for e in encoded]
    for got, want in zip(decoded, [e["embedding"] for e in floats], strict=True):
        assert got == pytest.approx(want, abs=1e-6)
    # the backend is asked for floats whatever the client wants
    assert all(
        "encoding_format" not in json.loads(r["body"]) for r in own_fake.requests() if r["path"] == "/v1/embeddings"
    )


def test_native_embeddings_take_text_items(server: Server) -> None:
    items = {"model_id": "e", "contents": [{"type": "text", "text": "a"}], "text_truncation": "end"}
    plain = {"model_id": "e", "contents": ["a"]}
    url = server.url + "/v1/inference/embeddings"
    assert httpx.post(url, json=items).json() == httpx.post(url, json=plain).json()


@BOTH_BACKENDS
def test_a_json_schema_reaches_the_backend(server: Server, own_fake: FakeProcess) -> None:
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}}
    body = {
        "model_id": "m",
        "messages": CHAT["messages"],
        "response_format": {"type": "json_schema", "json_schema": schema},
    }
    for path in ("/v1/inference/chat-completion",):
        assert httpx.post(server.url + path, json=body).status_code == 200
    completion = {"model_id": "m", "content": "hi", "response_format": body["response_format"]}
    assert httpx.post(server.url + "/v1/inference/completion", json=completion).status_code == 200
    sent = [
        json.loads(r["body"]) for r in own_fake.requests() if r["path"] in ("/v1/chat/completions", "/v1/completions")
    ]
    assert [b["response_format"]["json_schema"]["schema"] for b in sent] == [schema, schema]


@BOTH_BACKENDS
def test_tools_reach_the_backend_and_calls_come_back(server: Server, own_fake: FakeProcess) -> None:
    body = {"model_id": "m", "messages": CHAT["messages"], "tools": [TOOL], "tool_config": {"tool_choice": "required"}}
    answer = httpx.post(server.url + "/v1/inference/chat-completion", json=body).json()["completion_message"]
    [call] = answer["tool_calls"]
    assert (call["tool_name"], call["arguments"], answer["stop_reason"]) == (
        "get_weather",
        {"city": "conformance"},
        "end_of_message",
    )
    assert json.loads(call["arguments_json"]) == call["arguments"] and call["call_id"]
    [sent] = [json.loads(r["body"]) for r in own_fake.requests() if r["path"] == "/v1/chat/completions"]
    function = sent["tools"][0]["function"]
    assert function["name"] == "get_weather" and function["parameters"]["required"] == ["city"]
    assert sent["tool_choice"] == "required"


@BOTH_BACKENDS
def test_streamed_tool_calls_arrive_whole(server: Server) -> None:
    body = {"model_id": "m", "messages": CHAT["messages"], "tools": [TOOL], "stream": True}
    stream = [e["event"] for e in events(httpx.post(server.url + "/v1/inference/chat-completion", json=body))]
    calls = [e["delta"] for e in stream if e["delta"]["type"] == "tool_call"]
    assert [(c["parse_status"], c["tool_call"]["tool_name"], c["tool_call"]["arguments"]) for c in calls] == [
        ("succeeded", "get_weather", {"city": "conformance"})
    ]
    assert (stream[0]["event_type"], stream[-1]["event_type"], stream[-1]["stop_reason"]) == (
        "start",
        "complete",
        "end_of_message",
    )


@BOTH_BACKENDS
def test_a_conversation_with_a_tool_answer_reaches_the_backend_in_openai_form(
    server: Server, own_fake: FakeProcess
) -> None:
    call = {"call_id": "c1", "tool_name": "get_weather", "arguments": {"city": "Paris"}}
    messages = [
        {"role": "user", "content": "weather?"},
        {"role": "assistant", "content": "", "stop_reason": "end_of_message", "tool_calls": [call]},
        {"role": "tool", "call_id": "c1", "content": "sunny"},
    ]
    assert (
        httpx.post(
            server.url + "/v1/inference/chat-completion", json={"model_id": "m", "messages": messages}
        ).status_code
        == 200
    )
    [sent] = [json.loads(r["body"]) for r in own_fake.requests() if r["path"] == "/v1/chat/completions"]
    assert sent["messages"][1]["tool_calls"][0] == {
        "id": "c1",
        "type": "function",
        "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
    }
    assert sent["messages"][2] == {"role": "tool", "tool_call_id": "c1", "content": "sunny"}
