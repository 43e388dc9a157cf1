"""Profile ``abac``, beyond models: the vector dbs, vector stores and shields one principal
registers, the chat completions stored for it and the files it uploads, are out of reach of a
principal who shares none of its attributes (the models' checks are in test_auth.py).

Launched, alice and bob are minted by the scenario's issuer; against a URL they are the two
tokens (``--stack-token``, ``--stack-token-alt``). The owner always lists first, so a listing
cached without regard to the viewer shows up as a leak.
"""

from __future__ import annotations

from typing import Any

import pytest

from conformance.checks.shapes import (
    embedding_dimension,
    expect_data_list,
    model_field,
    model_id,
    pick_model,
    require_route,
    serves_route,
    unique_id,
    upload_text,
    walk_listing,
)
from conformance.http import RecordingClient
from conformance.outcomes import inconclusive, not_evaluated
from conformance.plugin import ScenarioAccess
from conformance.settings import Settings

requirement = pytest.mark.requirement
SCENARIO = "abac-resources"
GUARD_MODEL = "llama-guard3:1b"  # what the scenario's fake Ollama serves as the guard
BENIGN = [{"role": "user", "content": "What is the capital of France?"}]
# How a check names a caller: the keyword arguments of RecordingClient.request.
Caller = dict[str, Any]


def identifiers(api: RecordingClient, path: str, caller: Caller) -> list[Any]:
    return [item.get("identifier") for item in expect_data_list(api.get_json(path, **caller), path)]


def expect_out_of_reach(api: RecordingClient, owner: Caller, stranger: Caller, kind: str, ident: str) -> None:
    path = f"/v1/{kind}"
    assert ident in identifiers(api, path, owner), f"the owner does not list its own {ident!r}"
    assert ident not in identifiers(api, path, stranger), f"the other principal lists the owner's {ident!r}"
    response = api.get(f"{path}/{ident}", **stranger)
    assert 400 <= response.status < 500, f"the other principal can read it: {response.describe()}"


def expect_vector_db_is_private(api: RecordingClient, owner: Caller, stranger: Caller) -> None:
    model = pick_model(expect_data_list(api.get_json("/v1/models", **owner), "/v1/models"), "embedding", None)
    db_id = unique_id("db")
    providers = expect_data_list(api.get_json("/v1/providers", **owner), "/v1/providers")
    vector_io = [p.get("provider_id") for p in providers if isinstance(p, dict) and p.get("api") == "vector_io"]
    body = {
        "vector_db_id": db_id,
        "embedding_model": model_id(model),
        "embedding_dimension": embedding_dimension(model),
        # named, so that a target with several vector IO providers need not pick one
        **({"provider_id": vector_io[0]} if vector_io else {}),
    }
    registered = api.post("/v1/vector-dbs", json_body=body, **owner)
    if registered.status != 200:  # registration's own defect (VEC-DB-*), not a leak
        inconclusive(f"the owner could not register a vector db: {registered.describe()}")
    try:
        expect_out_of_reach(api, owner, stranger, "vector-dbs", db_id)
        query = {"vector_db_id": db_id, "query": "anything", "params": {"max_chunks": 1}}
        response = api.post("/v1/vector-io/query", json_body=query, **stranger)
        assert 400 <= response.status < 500, f"the other principal can query it: {response.describe()}"
        chunk = {"content": "written by another principal", "metadata": {"document_id": "intruder"}}
        insert = {"vector_db_id": db_id, "chunks": [chunk]}
        response = api.post("/v1/vector-io/insert", json_body=insert, **stranger)
        assert 400 <= response.status < 500, f"the other principal can insert into it: {response.describe()}"
        response = api.delete(f"/v1/vector-dbs/{db_id}", **stranger)
        assert 400 <= response.status < 500, f"the other principal's DELETE answered {response.describe()}"
        api.get(f"/v1/vector-dbs/{db_id}", expect=200, **owner)
    finally:
        api.delete(f"/v1/vector-dbs/{db_id}", **owner)


def expect_not_listed(
    api: RecordingClient, route: str, stranger: Caller, ident: str, *, created: Any, stamp: str, what: str
) -> None:
    """The stranger's walk of a newest-first listing, read until entries older than the owner's show
    (a leaked entry would have been listed by then), must not hold it."""

    def past_it(seen: list[dict[str, Any]]) -> bool:
        return isinstance(created, int) and any(isinstance(e.get(stamp), int) and e[stamp] < created for e in seen)

    listed = [e.get("id") for e in walk_listing(api, route, stranger, limit=100, enough=past_it)]
    assert ident not in listed, f"the other principal lists the owner's {what} {ident!r}"


def launched_principals(scenarios: ScenarioAccess, scenario: str = SCENARIO) -> tuple[RecordingClient, Caller, Caller]:
    launched = scenarios.pool.shared(scenario)
    issuer = launched.fakes["jwks"]
    alice = issuer.mint(claims={"sub": "alice", "groups": ["team-a"]})
    bob = issuer.mint(claims={"sub": "bob", "groups": ["team-b"]})
    return scenarios.client(launched.url), {"bearer": alice}, {"bearer": bob}


@pytest.fixture
def url_principals(stack_api: RecordingClient, stack_settings: Settings) -> tuple[RecordingClient, Caller, Caller]:
    if not (stack_settings.tokens.get("primary") and stack_settings.tokens.get("alt")):
        pytest.skip("needs two principals: pass --stack-token and --stack-token-alt")
    return stack_api, {"as_role": "primary"}, {"as_role": "alt"}


@requirement("ABAC-004")
def test_vector_db_is_out_of_a_strangers_reach(scenarios: ScenarioAccess) -> None:
    expect_vector_db_is_private(*launched_principals(scenarios))


@requirement("ABAC-004")
def test_url_vector_db_is_out_of_the_other_principals_reach(
    url_principals: tuple[RecordingClient, Caller, Caller],
) -> None:
    api = url_principals[0]
    require_route(api, "POST", "/v1/vector-dbs", "vector_io")
    expect_vector_db_is_private(*url_principals)


@requirement("ABAC-005")
def test_shield_is_out_of_a_strangers_reach(scenarios: ScenarioAccess) -> None:
    api, owner, stranger = launched_principals(scenarios)
    models = expect_data_list(api.get_json("/v1/models", **owner), "/v1/models")
    guard = next(model_id(m) for m in models if model_field(m, "provider_resource_id") == GUARD_MODEL)
    shield_id = unique_id("shield")
    body = {"shield_id": shield_id, "provider_id": "llama-guard", "provider_shield_id": guard}
    api.post("/v1/shields", json_body=body, expect=200, **owner)
    expect_out_of_reach(api, owner, stranger, "shields", shield_id)
    run = {"shield_id": shield_id, "messages": BENIGN, "params": {}}
    response = api.post("/v1/safety/run-shield", json_body=run, **stranger)
    assert 400 <= response.status < 500, f"the other principal can run it: {response.describe()}"


@requirement("ABAC-005")
def test_url_shield_is_not_registered_in_a_deployment() -> None:
    # 0.2.x has no DELETE for shields: a shield registered to test this would stay for good.
    not_evaluated("registering a shield in your deployment would leave it there (0.2.x cannot delete shields)")


# Where each generation lists stored chat completions, newest first.
CHAT_ROUTES = ("/v1/chat/completions", "/v1/openai/v1/chat/completions")


def expect_chat_completion_is_private(api: RecordingClient, owner: Caller, stranger: Caller) -> None:
    route = next((r for r in CHAT_ROUTES if serves_route(api, "GET", r, **owner)), None)
    if route is None:
        pytest.skip(f"the target stores no chat completions (serves neither GET {' nor GET '.join(CHAT_ROUTES)})")
    models = expect_data_list(api.get_json("/v1/models", **owner), "/v1/models")
    model = model_id(pick_model(models, "llm", None))
    body = {"model": model, "messages": BENIGN}
    ident = api.post(route, json_body=body, expect=200, **owner).json().get("id")
    assert isinstance(ident, str), "the chat completion has no id"
    read_back = api.get(f"{route}/{ident}", **owner)
    if read_back.status != 200:  # the store's own defect (INF-*-STORE-001), not a leak
        inconclusive(f"the owner could not read its own chat completion back: {read_back.describe()}")
    created = read_back.json().get("created") if isinstance(read_back.json(), dict) else None

    expect_not_listed(api, route, stranger, ident, created=created, stamp="created", what="chat completion")
    response = api.get(f"{route}/{ident}", **stranger)
    assert 400 <= response.status < 500, f"the other principal can read it: {response.describe()}"


@requirement("ABAC-006")
def test_chat_completion_is_out_of_a_strangers_reach(scenarios: ScenarioAccess) -> None:
    # auth-jwt, not abac-resources: every generation stores chat completions, and it has their dialects
    expect_chat_completion_is_private(*launched_principals(scenarios, "auth-jwt"))


@requirement("ABAC-006")
def test_url_chat_completion_is_out_of_the_other_principals_reach(
    url_principals: tuple[RecordingClient, Caller, Caller],
) -> None:
    expect_chat_completion_is_private(*url_principals)


# Where each generation serves the Files API.
FILE_ROUTES = ("/v1/files", "/v1/openai/v1/files")


def expect_file_is_private(api: RecordingClient, owner: Caller, stranger: Caller) -> None:
    route = next((r for r in FILE_ROUTES if serves_route(api, "POST", r, **owner)), None)
    if route is None:
        pytest.skip(f"the target serves no Files API (neither POST {' nor POST '.join(FILE_ROUTES)})")
    require_route(api, "POST", route, "files", **owner)
    answer = upload_text(api, route, {"purpose": "assistants"}, f"{unique_id('file')}.txt", "private\n", **owner)
    if answer.status != 200:  # the Files API's own defect (FILES-*-001), not a leak
        inconclusive(f"the owner could not upload a file: {answer.describe()}")
    made = answer.json()
    ident, created = made.get("id"), made.get("created_at")
    assert isinstance(ident, str), f"the upload answered no id: {made!r:.200}"
    try:
        read_back = api.get(f"{route}/{ident}", **owner)
        if read_back.status != 200:
            inconclusive(f"the owner could not read its own file back: {read_back.describe()}")

        expect_not_listed(api, route, stranger, ident, created=created, stamp="created_at", what="file")
        for method, tail in (("GET", ""), ("GET", "/content"), ("DELETE", "")):
            response = api.request(method, f"{route}/{ident}{tail}", **stranger)
            assert 400 <= response.status < 500, (
                f"the other principal's {method} {tail or 'of it'}: {response.describe()}"
            )
        api.get(f"{route}/{ident}", expect=200, **owner)
    finally:
        api.delete(f"{route}/{ident}", **owner)


@requirement("ABAC-007")
def test_file_is_out_of_a_strangers_reach(scenarios: ScenarioAccess) -> None:
    # auth-jwt, as for chat completions: it has a dialect for every generation, each with a files provider
    expect_file_is_private(*launched_principals(scenarios, "auth-jwt"))


@requirement("ABAC-007")
def test_url_file_is_out_of_the_other_principals_reach(url_principals: tuple[RecordingClient, Caller, Caller]) -> None:
    expect_file_is_private(*url_principals)


# Where each generation serves vector stores, with its Files API.
STORE_ROUTES = (("/v1/vector_stores", "/v1/files"), ("/v1/openai/v1/vector_stores", "/v1/openai/v1/files"))


def expect_vector_store_is_private(api: RecordingClient, owner: Caller, stranger: Caller) -> None:
    family = next((f for f in STORE_ROUTES if serves_route(api, "POST", f[0], **owner)), None)
    if family is None:
        pytest.skip(
            f"the target serves no vector stores (neither POST {' nor POST '.join(f[0] for f in STORE_ROUTES)})"
        )
    route, files = family
    require_route(api, "POST", route, "vector_io", **owner)
    require_route(api, "POST", files, "files", **owner)
    made = api.post(route, json_body={"name": unique_id("store")}, **owner)
    if made.status != 200:  # the vector stores' own defect (VS-*-001), not a leak
        inconclusive(f"the owner could not create a vector store: {made.describe()}")
    store_id = made.json().get("id")
    assert isinstance(store_id, str), f"the vector store has no id: {made.text[:200]}"
    created = made.json().get("created_at")
    file_ids: list[str] = []
    try:
        for name in ("owners", "strangers"):
            upload = upload_text(
                api,
                files,
                {"purpose": "assistants"},
                f"{unique_id(name)}.txt",
                f"{name} note\n",
                **(owner if name == "owners" else stranger),
            )
            if upload.status != 200:
                inconclusive(f"a file could not be uploaded to attach: {upload.describe()}")
            file_ids.append(str(upload.json().get("id")))
        mine, theirs = file_ids
        attached = api.post(f"{route}/{store_id}/files", json_body={"file_id": mine}, **owner)
        if attached.status != 200 or attached.json().get("status") != "completed":
            inconclusive(f"the owner could not attach its file (VS-*-002's defect): {attached.describe()}")

        expect_not_listed(api, route, stranger, store_id, created=created, stamp="created_at", what="vector store")
        attempts: list[tuple[str, str, dict[str, Any] | None]] = [
            ("GET", "", None),
            ("POST", "", {"name": "taken over"}),
            ("POST", "/search", {"query": "owners note"}),
            ("POST", "/files", {"file_id": theirs}),
            ("POST", "/file_batches", {"file_ids": [theirs]}),  # 0.3+; a 4xx where not served either
            ("GET", "/files", None),
            ("GET", f"/files/{mine}", None),
            ("DELETE", f"/files/{mine}", None),
            ("DELETE", "", None),
        ]
        for method, tail, body in attempts:
            response = api.request(method, f"{route}/{store_id}{tail}", json_body=body, **stranger)
            assert 400 <= response.status < 500, (
                f"the other principal's {method} {tail or 'of it'}: {response.describe()}"
            )
        kept = api.get_json(f"{route}/{store_id}", **owner)
        assert kept.get("name") != "taken over", "the other principal renamed the owner's vector store"
        still = [e.get("id") for e in expect_data_list(api.get_json(f"{route}/{store_id}/files", **owner), route)]
        assert still == [mine], f"after the other principal's attempts the store's files are {still}"
    finally:
        api.delete(f"{route}/{store_id}", **owner)
        for file_id, who in zip(file_ids, (owner, stranger), strict=False):
            api.delete(f"{files}/{file_id}", **who)


@requirement("ABAC-008")
def test_vector_store_is_out_of_a_strangers_reach(scenarios: ScenarioAccess) -> None:
    expect_vector_store_is_private(*launched_principals(scenarios))


@requirement("ABAC-008")
def test_url_vector_store_is_out_of_the_other_principals_reach(
    url_principals: tuple[RecordingClient, Caller, Caller],
) -> None:
    expect_vector_store_is_private(*url_principals)
