"""Vector stores of the reference server over real HTTP: lifecycle, files attached and detached,
search with filters and thresholds, refusals by name, a restart, and a principal's privacy, on
real faiss and sqlite-vec files and the fake Ollama's embeddings."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from conformance.fakes.handle import FakeProcess
from tests.conftest import Server, ServerFactory, jwt_auth
from tests.pdf_bytes import pdf_with_text

OLD, V1 = "/v1/openai/v1/vector_stores", "/v1/vector_stores"
BREAD = "Sourdough bread needs a starter, flour, water, salt and a long slow rise."
LIGHT = "The lighthouse keeper logs the weather every four hours through the night."


@pytest.fixture
def server(servers: ServerFactory) -> Server:
    return servers.running(servers.config(servers.full()))


def auth(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


def ok(answer: httpx.Response) -> Any:
    assert answer.status_code == 200, answer.text
    return answer.json()


def create(server: Server, prefix: str = V1, token: str | None = None, **body: Any) -> dict[str, Any]:
    return dict(ok(httpx.post(server.url + prefix, json={"name": "docs", **body}, headers=auth(token))))


def upload(server: Server, text: str, token: str | None = None) -> str:
    answer = httpx.post(
        server.url + "/v1/files",
        files={"file": ("notes.txt", text.encode())},
        data={"purpose": "assistants"},
        headers=auth(token),
    )
    return str(ok(answer)["id"])


def attach(server: Server, store: str, file_id: str, token: str | None = None, **body: Any) -> dict[str, Any]:
    url = f"{server.url}{V1}/{store}/files"
    return dict(ok(httpx.post(url, json={"file_id": file_id, **body}, headers=auth(token))))


def search(server: Server, store: str, query: str, token: str | None = None, **body: Any) -> list[dict[str, Any]]:
    url = f"{server.url}{V1}/{store}/search"
    return list(ok(httpx.post(url, json={"query": query, **body}, headers=auth(token)))["data"])


@pytest.mark.parametrize(("prefix", "gone"), [(OLD, 400), (V1, 404)])
def test_lifecycle_under_each_prefix(server: Server, prefix: str, gone: int) -> None:
    made = create(server, prefix, metadata={"team": "a"})
    assert made["id"].startswith("vs_") and (made["name"], made["metadata"]) == ("docs", {"team": "a"})
    assert made["file_counts"] == {"in_progress": 0, "completed": 0, "cancelled": 0, "failed": 0, "total": 0}
    url = f"{server.url}{prefix}/{made['id']}"
    assert ok(httpx.get(url)) == made
    assert [s["id"] for s in ok(httpx.get(server.url + prefix))["data"]] == [made["id"]]
    refused = httpx.delete(f"{server.url}/v1/vector-dbs/{made['id']}")  # its chunks are the store's
    assert refused.status_code == 409 and "vector store" in refused.json()["error"]["message"]
    renamed = ok(httpx.post(url, json={"name": "renamed", "metadata": {"team": "b"}}))
    assert (renamed["name"], renamed["metadata"]) == ("renamed", {"team": "b"})
    assert renamed["last_active_at"] > made["last_active_at"]
    assert ok(httpx.delete(url)) == {"id": made["id"], "object": "vector_store.deleted", "deleted": True}
    answer = httpx.get(url)
    assert answer.status_code == gone and made["id"] in answer.json()["error"]["message"]
    assert ok(httpx.get(server.url + "/v1/vector-dbs"))["data"] == [
        db for db in ok(httpx.get(server.url + "/v1/vector-dbs"))["data"] if db["identifier"] != made["id"]
    ]


@pytest.mark.parametrize("provider", ["faiss", "sqlite-vec"])
def test_a_detached_file_is_never_found_again(server: Server, provider: str) -> None:
    store = create(server, provider_id=provider)["id"]
    bread, light = upload(server, BREAD), upload(server, LIGHT)
    assert attach(server, store, bread, attributes={"topic": "food"})["status"] == "completed"
    assert attach(server, store, light, attributes={"topic": "sea"})["status"] == "completed"
    hits = search(server, store, BREAD, max_num_results=2)
    assert (hits[0]["file_id"], hits[0]["filename"], hits[0]["attributes"]) == (bread, "notes.txt", {"topic": "food"})
    assert hits[0]["content"] == [{"type": "text", "text": BREAD}]
    detached = ok(httpx.delete(f"{server.url}{V1}/{store}/files/{bread}"))
    assert detached == {"id": bread, "object": "vector_store.file.deleted", "deleted": True}
    assert [h["file_id"] for h in search(server, store, BREAD, max_num_results=5)] == [light]
    counts = ok(httpx.get(f"{server.url}{V1}/{store}"))["file_counts"]
    assert (counts["completed"], counts["total"]) == (1, 1)


def test_filters_and_thresholds_use_the_files_current_attributes(server: Server) -> None:
    store = create(server)["id"]
    bread, light = upload(server, BREAD), upload(server, LIGHT)
    attach(server, store, bread, attributes={"topic": "food", "year": 2020})
    attach(server, store, light, attributes={"topic": "sea", "year": 2024})
    only_sea = {"type": "eq", "key": "topic", "value": "sea"}
    assert [h["file_id"] for h in search(server, store, BREAD, filters=only_sea)] == [light]
    recent = {"type": "and", "filters": [{"type": "gte", "key": "year", "value": 2021}, only_sea]}
    assert [h["file_id"] for h in search(server, store, BREAD, filters=recent)] == [light]
    ok(httpx.post(f"{server.url}{V1}/{store}/files/{bread}", json={"attributes": {"topic": "sea"}}))
    assert {h["file_id"] for h in search(server, store, BREAD, filters=only_sea)} == {bread, light}
    exact = search(server, store, BREAD, ranking_options={"score_threshold": 0.99})
    assert [h["file_id"] for h in exact] == [bread]


def test_create_with_file_ids_counts_what_failed(server: Server) -> None:
    good = upload(server, BREAD)
    made = create(server, file_ids=[good, "file-0123"])
    assert made["file_counts"] == {"in_progress": 0, "completed": 1, "cancelled": 0, "failed": 1, "total": 2}
    failed = ok(httpx.get(f"{server.url}{V1}/{made['id']}/files", params={"filter": "failed"}))["data"]
    assert [(f["id"], f["last_error"]["code"]) for f in failed] == [("file-0123", "server_error")]
    assert "file-0123" in failed[0]["last_error"]["message"]
    content = ok(httpx.get(f"{server.url}{V1}/{made['id']}/files/{good}/content"))
    assert (content["filename"], content["content"]) == ("notes.txt", [{"type": "text", "text": BREAD}])


def test_a_file_batch_attaches_each_file_and_lists_only_its_own(server: Server) -> None:
    store = create(server)["id"]
    outside = upload(server, LIGHT)
    attach(server, store, outside)
    bread = upload(server, BREAD)
    batches = f"{server.url}{V1}/{store}/file_batches"
    made = ok(httpx.post(batches, json={"file_ids": [bread, "file-0123", bread], "attributes": {"topic": "food"}}))
    assert (made["object"], made["vector_store_id"], made["status"]) == ("vector_store.file_batch", store, "completed")
    assert made["file_counts"] == {"in_progress": 0, "completed": 1, "cancelled": 0, "failed": 1, "total": 2}
    assert ok(httpx.get(f"{batches}/{made['id']}")) == made
    listed = ok(httpx.get(f"{batches}/{made['id']}/files", params={"order": "asc"}))
    assert [(f["id"], f["status"]) for f in listed["data"]] == [(bread, "completed"), ("file-0123", "failed")]
    assert listed["data"][0]["attributes"] == {"topic": "food"}
    only_failed = ok(httpx.get(f"{batches}/{made['id']}/files", params={"filter": "failed"}))["data"]
    assert [f["id"] for f in only_failed] == ["file-0123"]
    assert [h["file_id"] for h in search(server, store, BREAD, max_num_results=1)] == [bread]
    cancel = httpx.post(f"{batches}/{made['id']}/cancel")
    assert cancel.status_code == 400 and "completed" in cancel.text, cancel.text
    for tail in ("", "/files"):
        missing = httpx.get(f"{batches}/batch_nope{tail}")
        assert missing.status_code == 404 and "batch_nope" in missing.text, missing.text
    assert httpx.post(f"{server.url}{OLD}/{store}/file_batches", json={"file_ids": []}).status_code == 404


def test_file_batches_survive_a_restart_and_go_with_their_store(servers: ServerFactory) -> None:
    config = servers.config(servers.full())
    first = servers.running(config)
    store = create(first)["id"]
    made = ok(httpx.post(f"{first.url}{V1}/{store}/file_batches", json={"file_ids": [upload(first, BREAD)]}))
    first.process.stop()
    again = servers.running(config)
    assert ok(httpx.get(f"{again.url}{V1}/{store}/file_batches/{made['id']}")) == made
    ok(httpx.delete(f"{again.url}{V1}/{store}"))
    assert httpx.get(f"{again.url}{V1}/{store}/file_batches/{made['id']}").status_code == 404


def test_a_pdf_is_indexed_by_its_text_and_an_image_is_refused_by_name(server: Server) -> None:
    store = create(server)["id"]
    sent = {"pdf": ("log.pdf", pdf_with_text(LIGHT)), "png": ("photo.png", b"\x89PNG\r\n\x1a\n")}
    ids = {}
    for kind, part in sent.items():
        answer = httpx.post(server.url + "/v1/files", files={"file": part}, data={"purpose": "assistants"})
        ids[kind] = str(ok(answer)["id"])
    assert attach(server, store, ids["pdf"])["status"] == "completed"
    assert [h["file_id"] for h in search(server, store, LIGHT, max_num_results=1)] == [ids["pdf"]]
    refused = attach(server, store, ids["png"])
    assert refused["status"] == "failed" and "image/png" in refused["last_error"]["message"], refused


def test_static_chunking_splits_a_long_file_into_overlapping_windows(server: Server) -> None:
    words = [f"w{n}" for n in range(250)]
    store = create(server)["id"]
    strategy = {"type": "static", "static": {"max_chunk_size_tokens": 100, "chunk_overlap_tokens": 50}}
    attach(server, store, upload(server, " ".join(words)), chunking_strategy=strategy)
    [attached] = ok(httpx.get(f"{server.url}{V1}/{store}/files"))["data"]
    content = ok(httpx.get(f"{server.url}{V1}/{store}/files/{attached['id']}/content"))["content"]
    assert [c["text"].split()[0] for c in content] == ["w0", "w50", "w100", "w150"]
    assert attached["chunking_strategy"] == strategy


@pytest.mark.parametrize(
    ("path", "body", "fragment"),
    [
        ("", {"name": "x", "expires_after": {"anchor": "last_active_at", "days": 1}}, "expires_after"),
        ("", {"name": "x", "colour": "blue"}, "colour"),
        (
            "",
            {"name": "x", "chunking_strategy": {"type": "static", "static": {"max_chunk_size_tokens": 50}}},
            "max_chunk_size_tokens",
        ),
        ("", {"name": "x", "embedding_model": "m"}, "not an embedding model"),
        ("/{store}/search", {"query": "x", "rewrite_query": True}, "rewrite_query"),
        ("/{store}/search", {"query": "x", "filters": {"type": "like", "key": "a", "value": 1}}, "filters.type"),
        ("/{store}/search", {"query": "x", "max_num_results": 51}, "max_num_results"),
        ("/{store}/search", {"query": "x", "search_mode": "keyword"}, "search_mode"),
        ("/{store}/files", {"file_id": "f", "chunking_strategy": {"type": "fancy"}}, "chunking_strategy.type"),
    ],
)
def test_what_is_not_done_is_refused_by_name(server: Server, path: str, body: dict[str, Any], fragment: str) -> None:
    store = create(server)["id"]
    answer = httpx.post(server.url + V1 + path.format(store=store), json=body)
    assert answer.status_code == 400 and fragment in answer.json()["error"]["message"], answer.text
    assert [s["id"] for s in ok(httpx.get(server.url + V1))["data"]] == [store]  # nothing else stored


def test_a_store_and_its_files_survive_a_restart(servers: ServerFactory) -> None:
    config = servers.config(servers.full())
    first = servers.running(config)
    store = create(first)["id"]
    bread = upload(first, BREAD)
    attach(first, store, bread, attributes={"topic": "food"})
    first.process.stop()
    again = servers.running(config)
    assert ok(httpx.get(f"{again.url}{V1}/{store}"))["file_counts"]["completed"] == 1
    assert [h["file_id"] for h in search(again, store, BREAD, max_num_results=1)] == [bread]


def test_a_principal_sees_only_its_own_stores(servers: ServerFactory, issuer: FakeProcess) -> None:
    server = servers.running(servers.config(servers.full() + jwt_auth(f"{issuer.url}/jwks")))
    alice, bob = issuer.mint(claims={"sub": "alice"}), issuer.mint(claims={"sub": "bob"})
    store = create(server, token=alice)["id"]
    secret = upload(server, BREAD, token=alice)
    assert ok(httpx.get(server.url + V1, headers=auth(bob)))["data"] == []
    for method, tail, body in (
        ("GET", "", None),
        ("POST", "/search", {"query": "bread"}),
        ("POST", "/files", {"file_id": secret}),
        ("POST", "/file_batches", {"file_ids": [secret]}),
        ("DELETE", "", None),
    ):
        answer = httpx.request(method, f"{server.url}{V1}/{store}{tail}", json=body, headers=auth(bob))
        assert answer.status_code == 404, (method, tail, answer.text)
    # bob's own store cannot index alice's file: to bob it does not exist
    own = create(server, token=bob)["id"]
    stolen = attach(server, own, secret, token=bob)
    assert (stolen["status"], stolen["last_error"]["message"]) == ("failed", f"file {secret!r} not found")
