"""Small structural assertions shared by checks; messages say what was expected and where."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

import pytest

from conformance.generation import Generation
from conformance.http import RecordingClient, Response, multipart_form, require_authorised


def unique_id(kind: str) -> str:
    """A fresh id for what a check creates or asks about (``conformance-<kind>-<10 hex>``): unique
    across runs and checks, and recognisable as the suite's in a deployment's registry."""
    return f"conformance-{kind}-{uuid.uuid4().hex[:10]}"


def expect_fields(obj: Any, fields: Mapping[str, type | tuple[type, ...]], where: str) -> None:
    assert isinstance(obj, dict), f"{where}: expected a JSON object, got {type(obj).__name__}: {obj!r:.200}"
    for name, kind in fields.items():
        assert name in obj, f"{where}: field {name!r} is missing in {obj!r:.300}"
        assert isinstance(obj[name], kind), (
            f"{where}: field {name!r} should be {kind}, got {type(obj[name]).__name__} {obj[name]!r:.100}"
        )


def expect_data_list(body: Any, where: str) -> list[Any]:
    assert isinstance(body, dict) and isinstance(body.get("data"), list), (
        f'{where}: expected {{"data": [...]}}, got {body!r:.300}'
    )
    return list(body["data"])


def expect_listing(
    api: RecordingClient, path: str, fields: Mapping[str, type | tuple[type, ...]]
) -> list[tuple[str, dict[str, Any]]]:
    """``GET path`` is ``{"data": [...]}`` of objects with these fields; each comes with its place."""
    listed = []
    for index, entry in enumerate(expect_data_list(api.get_json(path), path)):
        where = f"{path} data[{index}]"
        expect_fields(entry, fields, where)
        listed.append((where, entry))
    return listed


def expect_json_error(response: Response, statuses: range | set[int], where: str) -> Any:
    if response.status not in statuses:
        require_authorised(response, statuses)
    assert response.status in statuses, f"{where}: expected a status in {statuses}, but {response.describe()}"
    content_type = response.headers.get("content-type", "")
    assert "json" in content_type, f"{where}: error body should be JSON, content-type is {content_type!r}"
    return response.json()


def is_seed_error_shape(body: Any) -> bool:
    return (
        isinstance(body, dict)
        and isinstance(body.get("error"), dict)
        and isinstance(body["error"].get("message"), str)
        and bool(body["error"]["message"])
    )


def openai_path(generation: Generation, route: str) -> str:
    """Where a target serves an OpenAI-compatible route: under ``/v1/openai/v1/`` before 0.4.0
    (and on the reference server, which keeps the seed's paths), at ``/v1/`` from then on."""
    if generation.is_reference or not generation.in_window("0.4.0", None):
        return f"/v1/openai/v1/{route}"
    return f"/v1/{route}"


def model_field(model: dict[str, Any], key: str) -> Any:
    """A field of a listed model in the 0.2 shape, or of its ``custom_metadata`` in the OpenAI list shape."""
    if key in model:
        return model[key]
    return (model.get("custom_metadata") or {}).get(key)


def model_provider(model: dict[str, Any]) -> Any:
    return model_field(model, "provider_id")


def model_id(model: dict[str, Any]) -> str:
    """The id a request names a listed model by: ``identifier`` before 0.4, ``id`` after.

    A listed model with neither fails the check that needs its id, saying so, instead of naming
    a model "None" in a request and failing on the answer to that."""
    ident = model.get("identifier", model.get("id"))
    assert isinstance(ident, str) and ident, f"a listed model has no identifier or id: {model!r:.300}"
    return ident


def model_metadata(model: dict[str, Any]) -> dict[str, Any]:
    """A listed model's metadata: ``metadata`` before 0.4, merged into ``custom_metadata`` after."""
    metadata = model.get("metadata")
    if isinstance(metadata, dict):
        return metadata
    custom = model.get("custom_metadata")
    return custom if isinstance(custom, dict) else {}


def listed_model_ids(api: RecordingClient, **request: Any) -> list[str]:
    """The ids GET /v1/models lists (as the caller ``request`` names: a bearer, a role)."""
    models = expect_data_list(api.get_json("/v1/models", **request), "/v1/models")
    return [model_id(m) for m in models if isinstance(m, dict)]


def embedding_dimension(model: dict[str, Any]) -> Any:
    """The dimension a listed embedding model declares, in either listing shape (None if it declares none)."""
    return model_metadata(model).get("embedding_dimension")


def registration_body(model_id: str, base: dict[str, Any]) -> dict[str, Any]:
    """A POST /v1/models body that registers ``model_id`` for the backend model of the listed ``base``."""
    return {
        "model_id": model_id,
        "provider_id": model_provider(base),
        "provider_model_id": model_field(base, "provider_resource_id"),
    }


def configured_name(model: dict[str, Any]) -> str:
    """The name a config gave a listed model.

    Before 0.3 the listing keeps the config's ``model_id``; later releases name every model
    ``provider_id/provider_model_id``, so their configs tag each model with a
    ``conformance_name`` in its metadata, and that is the name instead."""
    tagged = model_metadata(model).get("conformance_name")
    return str(tagged) if tagged is not None else model_id(model)


def configured_model(models: list[Any], name: str) -> dict[str, Any] | None:
    """The listed model a config registered as ``name``."""
    return next((m for m in models if isinstance(m, dict) and configured_name(m) == name), None)


def pick_model(models: list[Any], model_type: str, provider_id: str | None) -> dict[str, Any]:
    """The first listed model of a type (and of ``--provider-id``); skip when there is none."""
    for model in models:
        of_type = isinstance(model, dict) and model_field(model, "model_type") == model_type
        if of_type and (provider_id is None or model_provider(model) == provider_id):
            return dict(model)
    scope = f" of provider {provider_id!r}" if provider_id else ""
    pytest.skip(f"the target lists no {model_type} model{scope}")


def sse_events(response: Response, where: str) -> list[Any]:
    """The JSON payloads of a server-sent-events body (a final ``[DONE]`` is allowed)."""
    content_type = response.headers.get("content-type", "")
    assert content_type.startswith("text/event-stream"), f"{where}: content-type is {content_type!r}, not an SSE stream"
    events = []
    for block in response.text.split("\n\n"):
        data = [line[5:].strip() for line in block.splitlines() if line.startswith("data:")]
        if not data or data == ["[DONE]"]:
            continue
        try:
            events.append(json.loads("\n".join(data)))
        except ValueError:
            raise AssertionError(f"{where}: an event is not JSON: {block[:200]!r}") from None
    assert events, f"{where}: the stream carried no events"
    return events


def serves_route(api: RecordingClient, method: str, path: str, **caller: Any) -> bool:
    """Whether the target serves a route (its release or its config says so); ``caller`` names
    who asks, as for `RecordingClient.request` (a launched scenario's own principal).

    /v1/inspect/routes is asked first; its OpenAPI document second, because some releases
    (0.2.12) leave whole APIs out of /v1/inspect/routes while serving them."""
    routes = expect_data_list(api.get_json("/v1/inspect/routes", **caller), "/v1/inspect/routes")
    served = {(str(r.get("method", "")).upper(), r.get("route")) for r in routes if isinstance(r, dict)}
    if (method, path) in served:
        return True
    answer = api.get("/openapi.json", **caller)
    spec = answer.json() if answer.status == 200 and _is_json(answer) else {}
    operations = spec.get("paths", {}).get(path, {}) if isinstance(spec, dict) else {}
    return isinstance(operations, dict) and method.lower() in operations


def require_route(api: RecordingClient, method: str, path: str, provider_api: str | None = None, **caller: Any) -> None:
    """Skip, saying why, when the target does not serve a route, or (``provider_api``) has no
    provider of the API behind it: 0.7.3 lists every API's routes in /v1/inspect/routes, those of
    APIs its config leaves out too (with no provider types), and answers them 404."""
    if not serves_route(api, method, path, **caller):
        pytest.skip(f"the target does not serve {method} {path} (not in /v1/inspect/routes nor /openapi.json)")
    if provider_api is not None:
        providers = expect_data_list(api.get_json("/v1/providers", **caller), "/v1/providers")
        if not any(isinstance(p, dict) and p.get("api") == provider_api for p in providers):
            pytest.skip(f"the target has no {provider_api} provider, so {method} {path} serves nothing")


def _is_json(answer: Response) -> bool:
    return str(answer.headers.get("content-type", "")).startswith("application/json")


# How many requests in a row read back what was just created. The suite's client opens a fresh
# connection for each request, so behind a load balancer in front of several workers (round robin,
# as a Kubernetes service or nginx spreads connections) they reach more than one worker: a
# resource that one worker knows and another does not (upstream #5008, vector stores "not found"
# right after creation with several workers) is missed by at least one of them.
READ_BACKS = 4


def read_back(api: RecordingClient, path: str, where: str, **caller: Any) -> Any:
    """What GET ``path`` answers to each of the next `READ_BACKS` requests, which must all find it."""
    answers = [api.get(path, **caller) for _ in range(READ_BACKS)]
    missed = [(n + 1, answer.status) for n, answer in enumerate(answers) if answer.status != 200]
    assert not missed, (
        f"{where}: of {READ_BACKS} reads right after it was created (each on its own connection), "
        f"these did not find it (read, status): {missed}; {answers[missed[0][0] - 1].describe()}"
    )
    return answers[0].json()


def next_second(bound: float = 2.0) -> None:
    """Wait until the wall clock's second changes: the observable condition, bounded."""
    start = int(time.time())
    deadline = time.monotonic() + bound
    while int(time.time()) == start:
        assert time.monotonic() < deadline, "the clock did not move on to the next second"
        time.sleep(0.01)


def upload_text(
    api: RecordingClient, route: str, fields: dict[str, str], filename: str, text: str, **caller: Any
) -> Response:
    """POST a text file to a Files route as ``multipart/form-data`` with ``fields`` (its purpose)."""
    body, content_type = multipart_form(fields, {"file": (filename, text.encode())})
    return api.post(route, content=body, headers={"Content-Type": content_type}, **caller)


def created_stamps(entries: list[dict[str, Any]]) -> list[int]:
    """The ``created_at`` of listed entries, each of which must be an integer."""
    stamps = [entry.get("created_at") for entry in entries]
    assert all(isinstance(s, int) for s in stamps), f"created_at values are not all integers: {stamps[:6]}"
    return [int(s) for s in stamps if isinstance(s, int)]


def walk_listing(
    api: RecordingClient,
    route: str,
    caller: dict[str, Any],
    limit: int = 2,
    enough: Callable[[list[dict[str, Any]]], bool] | None = None,
) -> list[dict[str, Any]]:
    """The listing's entries page by page, each page's own fields saying where it starts and ends;
    up to the end, or (``enough``) as soon as what was read settles the question: a deployment in
    use may hold far more than a check should read."""
    entries: list[dict[str, Any]] = []
    after: str | None = None
    for _ in range(500):  # a bound: a has_more that never turns false is a defect, not a hang
        query = f"?limit={limit}" + (f"&after={quote(after, safe='')}" if after else "")
        page = api.get_json(route + query, **caller)
        data = expect_data_list(page, route)
        assert len(data) <= limit, f"a page of {len(data)} entries for limit={limit}"
        if data:
            assert page.get("first_id") == data[0].get("id") and page.get("last_id") == data[-1].get("id"), (
                f"first_id/last_id do not name the page's ends: {page.get('first_id')!r}, {page.get('last_id')!r}"
            )
        fresh = [entry for entry in data if isinstance(entry, dict)]
        seen = {entry.get("id") for entry in entries}
        again = [entry.get("id") for entry in fresh if entry.get("id") in seen]
        assert not again, f"the walk by limit/after saw {again[:3]} twice (after={after!r})"
        entries += fresh
        if not page.get("has_more") or (enough is not None and enough(entries)):
            return entries
        assert data, "has_more is true on an empty page"
        after = str(data[-1].get("id"))
    raise AssertionError("the listing did not end within 500 pages")
