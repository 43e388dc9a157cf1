"""Profile ``registration``: models from variables at start-up and at run time, always checked
against what the backend really serves."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from conformance.checks.shapes import (
    expect_data_list,
    expect_json_error,
    model_id,
    model_provider,
    openai_path,
    unique_id,
)
from conformance.checks.test_config import start_expecting_failure
from conformance.generation import Generation
from conformance.http import RecordingClient
from conformance.plugin import ScenarioAccess
from conformance.scenarios import Launched

requirement = pytest.mark.requirement
SCENARIO = "starter-with-models"
OLLAMA_MODEL = "llama3.2:3b"
VLLM_MODEL = "meta-llama/Llama-3.2-3B-Instruct"


@pytest.fixture
def started(scenarios: ScenarioAccess) -> tuple[Launched, RecordingClient]:
    launched = scenarios.pool.shared(SCENARIO)
    return launched, scenarios.client(launched.url)


@pytest.fixture
def registered(started: tuple[Launched, RecordingClient]) -> Iterator[list[str]]:
    """Ids registered by a check; removed afterwards, pass or fail, so the shared stack stays as it was."""
    ids: list[str] = []
    yield ids
    for ident in ids:
        started[1].delete(f"/v1/models/{ident}")


def models_of(api: RecordingClient, provider_id: str) -> list[dict[str, Any]]:
    models = expect_data_list(api.get_json("/v1/models"), "/v1/models")
    return [m for m in models if isinstance(m, dict) and model_provider(m) == provider_id]


@requirement("REG-ENV-001")
def test_ollama_inference_model_is_registered(started: tuple[Launched, RecordingClient]) -> None:
    models = models_of(started[1], "ollama")
    summary = [(m.get("identifier"), m.get("provider_resource_id")) for m in models]
    assert summary == [(f"ollama/{OLLAMA_MODEL}", OLLAMA_MODEL)], f"Ollama models at start-up: {summary}"


@requirement("REG-ENV-002")
def test_vllm_inference_model_is_registered(started: tuple[Launched, RecordingClient]) -> None:
    models = models_of(started[1], "vllm")
    summary = [(m.get("identifier"), m.get("provider_resource_id")) for m in models]
    assert summary == [(f"vllm/{VLLM_MODEL}", VLLM_MODEL)], f"vLLM models at start-up: {summary}"


@requirement("REG-RUNTIME-001")
@pytest.mark.parametrize(
    ("provider_id", "backend_model"), [("ollama", "llama3.2:1b"), ("vllm", "meta-llama/Llama-3.2-1B-Instruct")]
)
def test_runtime_registration(
    started: tuple[Launched, RecordingClient], registered: list[str], provider_id: str, backend_model: str
) -> None:
    api, new_id = started[1], unique_id("model")
    registered.append(new_id)
    body = {"model_id": new_id, "provider_id": provider_id, "provider_model_id": backend_model}
    api.post("/v1/models", json_body=body, expect=200)
    listed = [model_id(m) for m in models_of(api, provider_id)]
    assert new_id in listed, f"{new_id} is not listed among {provider_id}'s models: {listed}"


@pytest.mark.parametrize(
    ("provider_id", "served"),
    [
        pytest.param("ollama", ["llama3.2:3b", "llama3.2:1b"], marks=requirement("REG-MISSING-001")),
        pytest.param("vllm", ["meta-llama/Llama-3.2-3B-Instruct"], marks=requirement("REG-MISSING-002")),
    ],
)
def test_registration_of_a_missing_model_names_what_is_served(
    started: tuple[Launched, RecordingClient], registered: list[str], provider_id: str, served: list[str]
) -> None:
    api, new_id = started[1], unique_id("model")
    registered.append(new_id)
    body = {"model_id": new_id, "provider_id": provider_id, "provider_model_id": "ghost-model:1b"}
    response = api.post("/v1/models", json_body=body)
    expect_json_error(response, range(400, 500), f"registering a model {provider_id} lacks")
    missing = [name for name in served if name not in response.text]
    assert not missing, f"the error does not name what {provider_id} serves ({missing}): {response.text[:300]}"


@requirement("REG-MISSING-003")
def test_config_model_missing_from_backend_stops_start_up(scenarios: ScenarioAccess) -> None:
    exited = start_expecting_failure(scenarios, "model-missing-from-backend")
    output = exited.stderr + exited.stdout
    assert "ghost-model:1b" in output or "conformance-ghost" in output, f"model not named: {output.strip()[-400:]}"


@requirement("REG-TOKEN-001")
def test_vllm_token_reaches_the_backend(
    started: tuple[Launched, RecordingClient], stack_generation: Generation
) -> None:
    launched, api = started
    chat = {"model": f"vllm/{VLLM_MODEL}", "messages": [{"role": "user", "content": "Say hello."}]}
    api.post(openai_path(stack_generation, "chat/completions"), json_body=chat, expect=200)
    seen = [r for r in launched.fakes["vllm"].requests() if r["path"].startswith("/v1/")]
    assert seen, "the vLLM backend received no request"
    wrong = {r["headers"].get("authorization") for r in seen} - {"Bearer conformance-vllm-token"}
    assert not wrong, f"vLLM received other Authorization headers: {wrong}"
