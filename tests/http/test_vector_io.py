"""Vector dbs and vector IO over real HTTP, on real faiss and sqlite-vec files."""

from __future__ import annotations

import os
import signal

import httpx
import pytest

from conformance.launchers.process import Exited
from tests.conftest import Server, ServerFactory
from tests.http.test_cli import expect_one_line_error

TEXTS = ["alpha beta gamma", "the quick brown fox", "sqlite and faiss", "a fourth, unrelated line"]


@pytest.fixture
def server(servers: ServerFactory) -> Server:
    return servers.running(servers.config(servers.full()))


def insert(server: Server, db: str, texts: list[str]) -> httpx.Response:
    chunks = [{"content": t, "metadata": {"document_id": t}} for t in texts]
    return httpx.post(server.url + "/v1/vector-io/insert", json={"vector_db_id": db, "chunks": chunks})


def query(server: Server, db: str, text: str, **params: object) -> dict[str, list[object]]:
    body = {"vector_db_id": db, "query": text, "params": params}
    answer = httpx.post(server.url + "/v1/vector-io/query", json=body)
    assert answer.status_code == 200, answer.text
    result: dict[str, list[object]] = answer.json()
    return result


def first_document(result: dict[str, list[object]]) -> object:
    first = result["chunks"][0]
    assert isinstance(first, dict)
    return first["metadata"]["document_id"]


@pytest.mark.parametrize("provider", ["faiss", "sqlite-vec"])
def test_nearest_first_with_cosine_scores(server: Server, provider: str) -> None:
    db = f"db-{provider}"
    body = {"vector_db_id": db, "embedding_model": "e", "provider_id": provider}
    created = httpx.post(server.url + "/v1/vector-dbs", json=body)
    assert created.json() == {
        "identifier": db,
        "provider_resource_id": db,
        "provider_id": provider,
        "type": "vector_db",
        "embedding_model": "e",
        "embedding_dimension": 384,
    }
    assert insert(server, db, TEXTS).status_code == 200
    result = query(server, db, TEXTS[2], max_chunks=10)
    assert first_document(result) == TEXTS[2]
    scores = [float(s) for s in result["scores"]]  # type: ignore[arg-type]
    assert len(scores) == len(TEXTS) and scores == sorted(scores, reverse=True)
    assert scores[0] == pytest.approx(1.0, abs=1e-5) and all(-1.0 - 1e-5 <= s <= 1.0 + 1e-5 for s in scores)
    assert len(query(server, db, TEXTS[0], max_chunks=2)["chunks"]) == 2
    assert query(server, db, TEXTS[0], max_chunks=10, score_threshold=0.99)["scores"] == [pytest.approx(1.0)]


def test_a_chunk_may_bring_its_own_embedding(server: Server) -> None:
    vector = [0.0] * 384
    vector[7] = 1.0
    chunk = {"content": "hand-made", "metadata": {"document_id": "own"}, "embedding": vector}
    answer = httpx.post(server.url + "/v1/vector-io/insert", json={"vector_db_id": "docs", "chunks": [chunk]})
    assert answer.status_code == 200, answer.text
    [found] = query(server, "docs", "anything", max_chunks=10)["chunks"]
    assert found == {"content": "hand-made", "metadata": {"document_id": "own"}}  # the vector is not echoed


@pytest.mark.parametrize(
    ("path", "body", "status", "fragment"),
    [
        ("/v1/vector-dbs", {"vector_db_id": "x", "embedding_model": "ghost"}, 400, "'ghost'"),
        ("/v1/vector-dbs", {"vector_db_id": "x", "embedding_model": "m"}, 400, "not an embedding model"),
        ("/v1/vector-dbs", {"vector_db_id": "x", "embedding_model": "e", "embedding_dimension": 768}, 400, "384"),
        ("/v1/vector-dbs", {"vector_db_id": "x", "embedding_model": "e", "provider_id": "nope"}, 400, "'nope'"),
        ("/v1/vector-dbs", {"vector_db_id": "x", "embedding_model": "e"}, 400, "several providers"),
        ("/v1/vector-dbs", {"vector_db_id": "docs", "embedding_model": "e", "provider_id": "sqlite-vec"}, 409, "docs"),
        ("/v1/vector-io/insert", {"vector_db_id": "ghost", "chunks": [{"content": "a"}]}, 404, "'ghost'"),
        ("/v1/vector-io/insert", {"vector_db_id": "docs", "chunks": []}, 400, "chunks"),
        ("/v1/vector-io/insert", {"vector_db_id": "docs", "chunks": [{"content": " "}]}, 400, "chunks[0]"),
        ("/v1/vector-io/insert", {"vector_db_id": "docs", "chunks": [{"content": "a", "embedding": [1]}]}, 400, "384"),
        (
            "/v1/vector-io/insert",
            {"vector_db_id": "docs", "chunks": [{"content": "a", "embedding": [1e39] + [0.0] * 383}]},
            400,
            "not a finite float32",
        ),
        ("/v1/vector-io/query", {"vector_db_id": "ghost", "query": "a"}, 404, "'ghost'"),
        ("/v1/vector-io/query", {"vector_db_id": "docs", "query": ""}, 400, "query"),
        ("/v1/vector-io/query", {"vector_db_id": "docs", "query": "a", "params": {"max_chunks": 0}}, 400, "max_chunks"),
    ],
)
def test_bad_requests_name_the_problem(server: Server, path: str, body: object, status: int, fragment: str) -> None:
    answer = httpx.post(server.url + path, json=body)
    assert answer.status_code == status, answer.text
    assert fragment in answer.json()["error"]["message"]


def test_models_in_use_cannot_be_unregistered(server: Server) -> None:
    for model, user in (("e", "vector db 'docs'"), ("guard", "shield 'guard'")):
        answer = httpx.delete(f"{server.url}/v1/models/{model}")
        assert answer.status_code == 409 and user in answer.json()["error"]["message"]
    assert httpx.delete(server.url + "/v1/vector-dbs/docs").status_code == 200
    assert httpx.delete(server.url + "/v1/models/e").status_code == 200


def test_unregister_then_register_again_starts_empty(server: Server) -> None:
    assert insert(server, "docs", TEXTS).status_code == 200
    assert httpx.delete(server.url + "/v1/vector-dbs/docs").status_code == 200
    assert httpx.get(server.url + "/v1/vector-dbs/docs").status_code == 404
    body = {"vector_db_id": "docs", "embedding_model": "e", "provider_id": "faiss"}
    assert httpx.post(server.url + "/v1/vector-dbs", json=body).status_code == 200
    assert query(server, "docs", TEXTS[0]) == {"chunks": [], "scores": []}


@pytest.mark.parametrize("provider", ["faiss", "sqlite-vec"])
def test_acknowledged_inserts_survive_kill_9(servers: ServerFactory, provider: str) -> None:
    config = servers.config(servers.full())
    server = servers.running(config)
    body = {"vector_db_id": "kept", "embedding_model": "e", "provider_id": provider}
    assert httpx.post(server.url + "/v1/vector-dbs", json=body).status_code == 200
    for text in TEXTS:
        assert insert(server, "kept", [text]).status_code == 200
    os.kill(server.process.popen.pid, signal.SIGKILL)
    server.process.popen.wait(10)
    again = servers.running(config)
    for text in TEXTS:
        assert first_document(query(again, "kept", text)) == text
    assert len(query(again, "kept", TEXTS[0], max_chunks=10)["chunks"]) == len(TEXTS)


def test_config_vector_db_with_the_wrong_dimension_is_a_config_error(servers: ServerFactory) -> None:
    text = servers.full().replace("{vector_db_id: docs,", "{vector_db_id: docs, embedding_dimension: 768,")
    expect_one_line_error(servers.start(servers.config(text)), 2, "vector_dbs[0]", "768", "384")


def test_a_changed_dimension_over_stored_vectors_stops_start_up(servers: ServerFactory) -> None:
    config = servers.config(servers.full())
    server = servers.running(config)
    assert insert(server, "docs", TEXTS).status_code == 200
    server.process.stop()
    text = servers.full().replace("metadata: {embedding_dimension: 384}", "metadata: {embedding_dimension: 768}")
    text = text.replace("all-minilm:l6-v2", "llama3.2:3b")  # the fake gives 768 dimensions for other models
    outcome = servers.start(servers.config(text, "changed.yaml"))
    assert isinstance(outcome, Exited), outcome
    expect_one_line_error(outcome, 1, "'docs'", "384", "768")


def test_a_deleted_faiss_store_loses_nothing_acknowledged(servers: ServerFactory) -> None:
    config = servers.config(servers.full())
    server = servers.running(config)
    assert insert(server, "docs", TEXTS[:2]).status_code == 200
    for suffix in ("", "-wal", "-shm"):
        (servers.state / f"faiss_store.db{suffix}").unlink(missing_ok=True)
    assert insert(server, "docs", TEXTS[2:]).status_code == 200
    server.process.stop()
    again = servers.running(config)
    for text in TEXTS:
        assert first_document(query(again, "docs", text)) == text
