"""Profile ``core``: black-box checks any running deployment can take."""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest

from conformance.checks.shapes import (
    expect_data_list,
    expect_fields,
    expect_json_error,
    expect_listing,
    is_seed_error_shape,
    listed_model_ids,
    model_field,
    model_provider,
    pick_model,
    registration_body,
    unique_id,
)
from conformance.http import RecordingClient, require_authorised
from conformance.outcomes import not_evaluated
from conformance.results import NOTE
from conformance.run_config import uses_sentinel
from conformance.settings import Settings

requirement = pytest.mark.requirement
CLIENT_ERRORS = range(400, 500)


@requirement("CORE-HEALTH-001")
def test_health_reports_ok(stack_api: RecordingClient) -> None:
    body = stack_api.get_json("/v1/health")
    assert isinstance(body, dict) and body.get("status") == "OK", f"/v1/health body is {body!r}"


@requirement("CORE-VERSION-001")
def test_version_is_a_string(stack_api: RecordingClient) -> None:
    body = stack_api.get_json("/v1/version")
    expect_fields(body, {"version": str}, "/v1/version")
    assert body["version"].strip(), "/v1/version: version is empty"


@requirement("CORE-PROVIDERS-001")
def test_providers_listing_shape(stack_api: RecordingClient) -> None:
    fields = {"api": str, "provider_id": str, "provider_type": str, "config": dict, "health": dict}
    for where, provider in expect_listing(stack_api, "/v1/providers", fields):
        assert isinstance(provider["health"].get("status"), str), f"{where}: health has no status string"


@requirement("CORE-PROVIDERS-002")
def test_each_provider_can_be_inspected(stack_api: RecordingClient) -> None:
    providers = expect_data_list(stack_api.get_json("/v1/providers"), "/v1/providers")
    for provider in providers:
        one = stack_api.get_json(f"/v1/providers/{provider['provider_id']}")
        assert isinstance(one, dict) and one.get("provider_id") == provider["provider_id"], (
            f"/v1/providers/{provider['provider_id']} returned {one!r:.300}"
        )
    missing = unique_id("provider")
    expect_json_error(stack_api.get(f"/v1/providers/{missing}"), CLIENT_ERRORS, f"/v1/providers/{missing}")


@requirement("CORE-ROUTES-001")
def test_routes_listing_shape(stack_api: RecordingClient) -> None:
    listed = expect_listing(stack_api, "/v1/inspect/routes", {"route": str, "method": str, "provider_types": list})
    routes = [route for _where, route in listed]
    assert any(r["route"] == "/v1/health" and r["method"].upper() == "GET" for r in routes), (
        "/v1/inspect/routes does not list GET /v1/health"
    )


@requirement("CORE-MODELS-001")
def test_models_listing_shape(stack_api: RecordingClient) -> None:
    fields = {"identifier": str, "provider_resource_id": str, "provider_id": str, "type": str, "model_type": str}
    for where, model in expect_listing(stack_api, "/v1/models", fields):
        assert model["type"] == "model", f"{where}: type is {model['type']!r}, expected 'model'"
        assert model["model_type"] in ("llm", "embedding"), f"{where}: model_type is {model['model_type']!r}"


@requirement("CORE-MODELS-005")
def test_models_listing_openai_shape(stack_api: RecordingClient) -> None:
    fields = {"id": str, "object": str, "created": int, "owned_by": str}
    for where, model in expect_listing(stack_api, "/v1/models", fields):
        assert model["object"] == "model", f"{where}: object is {model['object']!r}, expected 'model'"
        assert model_field(model, "model_type") is not None, f"{where}: no model_type, at the top or in custom_metadata"


@requirement("CORE-MODELS-006")
def test_models_listing_says_list(stack_api: RecordingClient) -> None:
    body = stack_api.get_json("/v1/models")
    assert isinstance(body, dict) and body.get("object") == "list", f"/v1/models: object is not 'list': {body!r:.200}"


@requirement("CORE-MODELS-003")
def test_every_model_names_a_listed_provider(stack_api: RecordingClient) -> None:
    provider_ids = {p.get("provider_id") for p in expect_data_list(stack_api.get_json("/v1/providers"), "providers")}
    for model in expect_data_list(stack_api.get_json("/v1/models"), "/v1/models"):
        assert model_provider(model) in provider_ids, (
            f"model {model!r:.200} names provider {model_provider(model)!r}, not among {sorted(map(str, provider_ids))}"
        )


@requirement("CORE-MODELS-004")
def test_model_register_get_list_unregister(stack_api: RecordingClient, stack_settings: Settings) -> None:
    models = expect_data_list(stack_api.get_json("/v1/models"), "/v1/models")
    base = pick_model(models, "llm", stack_settings.provider_id)
    alias = unique_id("model")
    body = registration_body(alias, base)
    try:
        registered = stack_api.post("/v1/models", json_body=body, expect=200).json()
        assert isinstance(registered, dict) and registered.get("identifier") == alias, (
            f"register answered {registered!r}"
        )
        fetched = stack_api.get_json(f"/v1/models/{alias}")
        assert fetched.get("identifier") == alias and fetched.get("provider_id") == body["provider_id"], (
            f"GET /v1/models/{alias} answered {fetched!r:.300}"
        )
        assert alias in listed_model_ids(stack_api), f"{alias} is not listed after registration"
        stack_api.delete(f"/v1/models/{alias}", expect=range(200, 300))
        gone = stack_api.get(f"/v1/models/{alias}")
        assert 400 <= gone.status < 500, f"after DELETE, {gone.describe()}"
        assert alias not in listed_model_ids(stack_api), f"{alias} is still listed after DELETE"
    finally:
        stack_api.delete(f"/v1/models/{alias}")


@pytest.fixture
def missing_model_response(stack_api: RecordingClient):  # type: ignore[no-untyped-def]
    name = unique_id("missing")
    return name, stack_api.get(f"/v1/models/{name}")


@requirement("CORE-ERR-001")
def test_missing_model_is_a_client_error_naming_it(missing_model_response) -> None:  # type: ignore[no-untyped-def]
    name, response = missing_model_response
    require_authorised(response, {400, 404})  # a 401 is a 4xx, but says nothing about the model
    expect_json_error(response, CLIENT_ERRORS, "GET of a missing model")
    assert name in response.text, f"the error does not name the model: {response.text[:300]}"


@requirement("CORE-ERR-002")
def test_missing_model_is_404(missing_model_response) -> None:  # type: ignore[no-untyped-def]
    _name, response = missing_model_response
    require_authorised(response, {404})
    assert response.status == 404, f"expected 404, but {response.describe()}"


@requirement("CORE-ERR-003")
def test_invalid_registration_body_names_the_field(stack_api: RecordingClient) -> None:
    response = stack_api.post("/v1/models", json_body={"provider_id": unique_id("provider")})
    expect_json_error(response, {400}, "POST /v1/models without model_id")
    assert "model_id" in response.text, f"the error does not name model_id: {response.text[:300]}"


@requirement("CORE-ERR-004")
def test_unknown_route_is_404_json(stack_api: RecordingClient) -> None:
    expect_json_error(stack_api.get(f"/v1/{unique_id('route')}"), {404}, "an unknown route")


@requirement("CORE-ERR-005")
def test_error_bodies_have_the_documented_shape(stack_api: RecordingClient) -> None:
    probes = {
        "missing model": stack_api.get(f"/v1/models/{unique_id('missing')}"),
        "unknown route": stack_api.get(f"/v1/{unique_id('route')}"),
        "invalid body": stack_api.post("/v1/models", json_body={"provider_id": unique_id("provider")}),
    }
    for response in probes.values():
        require_authorised(response, {400, 404})
    wrong = {name: r.text[:200] for name, r in probes.items() if r.status < 400 or not is_seed_error_shape(r.json())}
    assert not wrong, f"error bodies without the shape {{'error': {{'message': ...}}}}: {wrong}"


def _listing_texts(stack_api: RecordingClient) -> dict[str, str]:
    return {
        path: stack_api.get(path, expect=200).text for path in ("/v1/providers", "/v1/models", "/v1/inspect/routes")
    }


@requirement("CORE-DISABLED-001")
def test_no_disabled_sentinel_in_listings(
    stack_api: RecordingClient, stack_settings: Settings, record_property: Callable[[str, object], None]
) -> None:
    # Launched, the core scenario switches a provider off; by URL only the operator's config can
    # say whether anything is, and where nothing is the listings could not have shown the sentinel.
    if stack_settings.url and stack_settings.run_config is not None:
        env = stack_settings.run_env if stack_settings.run_env is not None else os.environ
        if not uses_sentinel(stack_settings.run_config, env):
            not_evaluated("the deployment's config (--stack-config) switches nothing off with '__disabled__'")
    elif stack_settings.url:
        record_property(NOTE, "judged on the listings alone: pass --stack-config to learn whether anything is off")
    leaks = [path for path, text in _listing_texts(stack_api).items() if "__disabled__" in text]
    assert not leaks, f"'__disabled__' appears in {leaks}"


@requirement("CORE-PLACEHOLDER-001")
def test_no_unexpanded_placeholder_in_listings(stack_api: RecordingClient) -> None:
    texts = _listing_texts(stack_api)
    leaks = [path for path in ("/v1/providers", "/v1/models") if "${env." in texts[path]]
    assert not leaks, f"unexpanded '${{env.' appears in {leaks}"
