"""Inference through the real server when the backend misbehaves: clear statuses, no restart needed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from conformance.fakes.handle import FakeProcess
from tests.conftest import Server, ServerFactory

CHAT = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}


@pytest.fixture
def own_fake(tmp_path: Path) -> Iterator[FakeProcess]:
    """A fake this test may break without disturbing the others."""
    fake = FakeProcess("ollama", tmp_path / "fake", models=["llama3.2:3b", "all-minilm:l6-v2"])
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def server(servers: ServerFactory, own_fake: FakeProcess) -> Server:
    text = servers.minimal().replace(servers.ollama_url, own_fake.url) + (
        "models:\n- {model_id: m, provider_model_id: llama3.2:3b}\n"
        "- {model_id: e, provider_model_id: all-minilm:l6-v2, model_type: embedding,"
        " metadata: {embedding_dimension: 384}}\n"
    )
    return servers.running(servers.config(text))


def message(response: httpx.Response) -> str:
    return str(response.json()["error"]["message"])


def test_backend_error_is_502_naming_the_provider(server: Server, own_fake: FakeProcess) -> None:
    own_fake.steer(fail_next=1, fail_status=500)
    answer = httpx.post(server.url + "/v1/openai/v1/chat/completions", json=CHAT)
    assert answer.status_code == 502 and "provider 'ollama'" in message(answer)
    assert httpx.post(server.url + "/v1/openai/v1/chat/completions", json=CHAT).status_code == 200


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
