"""The reference server's API over real HTTP: shapes, error statuses, durability."""

from __future__ import annotations

import os
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.conftest import FAKE_OLLAMA_MODELS, Server, ServerFactory


@pytest.fixture
def server(servers: ServerFactory) -> Server:
    return servers.running()


def error_message(response: httpx.Response) -> str:
    body = response.json()
    assert set(body) == {"error"} and isinstance(body["error"]["message"], str), body
    return str(body["error"]["message"])


def test_register_get_list_unregister(server: Server) -> None:
    body = {"model_id": "alias", "provider_model_id": "llama3.2:3b", "metadata": {"k": 1}}
    created = httpx.post(server.url + "/v1/models", json=body)
    assert created.status_code == 200
    answer = created.json()
    assert answer == {
        "identifier": "alias",
        "provider_resource_id": "llama3.2:3b",
        "provider_id": "ollama",
        "type": "model",
        "metadata": {"k": 1},
        "model_type": "llm",
        # The OpenAI model object's fields, beside the seed's.
        "id": "alias",
        "object": "model",
        "created": answer["created"],
        "owned_by": "llama_stack",
    }
    assert isinstance(answer["created"], int)
    # One shape everywhere: the answer to register, to get, and the listing's entry.
    assert httpx.get(server.url + "/v1/models/alias").json() == answer
    assert httpx.get(server.url + "/v1/models").json() == {"object": "list", "data": [answer]}
    assert httpx.delete(server.url + "/v1/models/alias").status_code == 200
    assert httpx.get(server.url + "/v1/models/alias").status_code == 404
    assert httpx.get(server.url + "/v1/models").json() == {"object": "list", "data": []}


def test_ids_with_slashes_and_colons(server: Server) -> None:
    body = {"model_id": "ollama/llama3.2:3b", "provider_model_id": "llama3.2:3b"}
    httpx.post(server.url + "/v1/models", json=body).raise_for_status()
    assert httpx.get(server.url + "/v1/models/ollama/llama3.2:3b").json()["identifier"] == "ollama/llama3.2:3b"
    assert httpx.delete(server.url + "/v1/models/ollama/llama3.2:3b").status_code == 200


def test_same_registration_is_idempotent_a_different_one_conflicts(server: Server) -> None:
    body = {"model_id": "m", "provider_model_id": "a"}
    assert httpx.post(server.url + "/v1/models", json=body).status_code == 200
    assert httpx.post(server.url + "/v1/models", json=body).status_code == 200
    conflict = httpx.post(server.url + "/v1/models", json={**body, "provider_model_id": "b"})
    assert conflict.status_code == 409 and "'m'" in error_message(conflict)
    assert httpx.get(server.url + "/v1/models/m").json()["provider_resource_id"] == "a"


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"provider_id": "ollama"}, "model_id: is required"),
        ({"model_id": 5}, "model_id"),
        ({"model_id": "m", "model_type": "vision"}, "model_type"),
        ({"model_id": "all-minilm:l6-v2", "model_type": "embedding"}, "embedding_dimension"),
        ({"model_id": "e", "model_type": "embedding", "metadata": {"embedding_dimension": "x"}}, "embedding_dimension"),
        ({"model_id": "m", "provider_id": "nope"}, "provider 'nope' not found"),
        ({"model_id": "ghost:1b"}, "available: " + ", ".join(FAKE_OLLAMA_MODELS)),
    ],
)
def test_invalid_registrations_are_400_naming_the_problem(
    server: Server, body: dict[str, object], fragment: str
) -> None:
    response = httpx.post(server.url + "/v1/models", json=body)
    assert response.status_code == 400
    assert fragment in error_message(response)


def test_several_providers_need_an_explicit_one(servers: ServerFactory) -> None:
    text = servers.minimal().replace(
        "metadata_store",
        '  - {provider_id: vllm, provider_type: remote::vllm, config: {url: "http://127.0.0.1:9"}}\nmetadata_store',
    )
    server = servers.running(servers.config(text))
    response = httpx.post(server.url + "/v1/models", json={"model_id": "m"})
    assert response.status_code == 400 and "ollama, vllm" in error_message(response)


@pytest.mark.parametrize(
    ("content", "content_type", "fragment"),
    [
        (b'{"model_id":', "application/json", "not valid JSON"),
        (b'{"model_id": "m"}', "text/plain", "JSON object"),
        (b"[1, 2]", "application/json", "request body must be a JSON object"),
        # Python's parser takes these; stored, they would make every later listing a 500.
        (b'{"model_id": "m", "metadata": {"x": NaN}}', "application/json", "NaN is not valid JSON"),
        (b'{"model_id": "m", "metadata": {"x": -Infinity}}', "application/json", "-Infinity is not valid JSON"),
    ],
)
def test_unreadable_bodies_are_400(server: Server, content: bytes, content_type: str, fragment: str) -> None:
    response = httpx.post(server.url + "/v1/models", content=content, headers={"content-type": content_type})
    assert response.status_code == 400 and fragment in error_message(response)
    assert httpx.get(server.url + "/v1/models").status_code == 200


def test_routing_misses_use_the_error_shape(server: Server) -> None:
    missing = httpx.get(server.url + "/v1/nope")
    assert missing.status_code == 404 and "/v1/nope" in error_message(missing)
    wrong_method = httpx.put(server.url + "/v1/health")
    assert wrong_method.status_code == 405 and wrong_method.headers["allow"] == "GET"
    error_message(wrong_method)
    assert httpx.delete(server.url + "/v1/models/ghost").status_code == 404


def test_providers_and_routes(server: Server) -> None:
    [provider] = httpx.get(server.url + "/v1/providers").json()["data"]
    assert provider["provider_id"] == "ollama" and provider["health"] == {"status": "OK"}
    assert httpx.get(server.url + "/v1/providers/ollama").json() == provider
    assert httpx.get(server.url + "/v1/providers/nope").status_code == 404
    routes = httpx.get(server.url + "/v1/inspect/routes").json()["data"]
    assert {"route": "/v1/models", "method": "POST", "provider_types": ["remote::ollama"]} in routes


def test_secrets_are_redacted(servers: ServerFactory) -> None:
    text = servers.minimal().replace(
        "metadata_store",
        "  - {provider_id: vllm, provider_type: remote::vllm,"
        ' config: {url: "http://x", api_token: s3cret}}\nmetadata_store',
    )
    server = servers.running(servers.config(text))
    body = httpx.get(server.url + "/v1/providers/vllm").text
    assert "s3cret" not in body and "********" in body


def test_runtime_registrations_survive_a_restart(servers: ServerFactory) -> None:
    config = servers.config()
    first = servers.running(config)
    httpx.post(first.url + "/v1/models", json={"model_id": "kept", "provider_model_id": "a"}).raise_for_status()
    assert first.process.stop() is not None
    second = servers.running(config)
    assert httpx.get(second.url + "/v1/models/kept").status_code == 200


def test_config_models_are_authoritative_at_start_up(servers: ServerFactory) -> None:
    base = servers.minimal()
    first = servers.running(servers.config(base + "models:\n- {model_id: m, provider_model_id: a}\n"))
    assert httpx.get(first.url + "/v1/models/m").json()["provider_resource_id"] == "a"
    first.process.stop()
    second = servers.running(servers.config(base + "models:\n- {model_id: m, provider_model_id: b}\n"))
    assert httpx.get(second.url + "/v1/models/m").json()["provider_resource_id"] == "b"


def test_kill_9_during_registrations_loses_nothing_acknowledged(servers: ServerFactory) -> None:
    config = servers.config()
    server = servers.running(config)
    acknowledged: list[str] = []
    lock = threading.Lock()
    killed = threading.Event()

    def register(index: int) -> None:
        name = f"burst-{index}"
        try:
            body = {"model_id": name, "provider_model_id": "llama3.2:3b"}
            response = httpx.post(server.url + "/v1/models", json=body, timeout=10)
        except httpx.TransportError:
            return
        if response.status_code == 200:
            with lock:
                acknowledged.append(name)
                if len(acknowledged) == 40 and not killed.is_set():
                    killed.set()
                    os.kill(server.process.pid, signal.SIGKILL)

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(register, range(200)))
    assert killed.is_set(), "the burst finished before the kill; the test did not exercise anything"
    server.process.popen.wait(timeout=10)
    restarted = servers.running(config)
    stored = {m["identifier"] for m in httpx.get(restarted.url + "/v1/models").json()["data"]}
    lost = sorted(set(acknowledged) - stored)
    assert not lost, f"acknowledged registrations lost after kill -9: {lost}"


def test_a_deleted_metadata_file_loses_nothing_acknowledged(servers: ServerFactory) -> None:
    config = servers.config()
    server = servers.running(config)
    httpx.post(server.url + "/v1/models", json={"model_id": "before", "provider_model_id": "a"}).raise_for_status()
    for suffix in ("", "-wal", "-shm"):
        (servers.state / f"registry.db{suffix}").unlink(missing_ok=True)
    httpx.post(server.url + "/v1/models", json={"model_id": "after", "provider_model_id": "b"}).raise_for_status()
    server.process.stop()
    restarted = servers.running(config)
    stored = {m["identifier"] for m in httpx.get(restarted.url + "/v1/models").json()["data"]}
    assert {"before", "after"} <= stored, stored


def test_a_locked_metadata_store_is_503_and_recovers(servers: ServerFactory) -> None:
    import sqlite3

    server = servers.running()
    holder = sqlite3.connect(servers.state / "registry.db", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with ThreadPoolExecutor(max_workers=4) as pool:
            writes = [
                pool.submit(httpx.post, server.url + "/v1/models", json={"model_id": f"m{i}", "provider_model_id": "a"})
                for i in range(3)
            ]
            # While writers wait on the locked file, the event loop is free: health answers at once.
            started = time.monotonic()
            assert httpx.get(server.url + "/v1/health", timeout=5).status_code == 200
            health_took = time.monotonic() - started
            started = time.monotonic()
            answers = [write.result(timeout=30) for write in writes]
            writes_took = time.monotonic() - started
        # Served from the event loop behind a locked store, health would wait out at least one
        # writer's busy timeout (1 s); a free loop answers well within it, even on a busy machine.
        assert health_took < 1.0, f"/v1/health took {health_took:.2f} s behind a locked store"
        for answer in answers:
            assert answer.status_code == 503 and "registry.db" in answer.json()["error"]["message"], answer.text
        assert writes_took < 10, f"three writers were answered after {writes_took:.1f} s"
    finally:
        holder.execute("COMMIT")
        holder.close()
    answer = httpx.post(server.url + "/v1/models", json={"model_id": "m", "provider_model_id": "a"}, timeout=30)
    assert answer.status_code == 200
