"""``__disabled__`` and empty-id gating of providers, resources and auth."""

from __future__ import annotations

import pytest

from reference_server.config.errors import ConfigError
from reference_server.config.gating import resolve


def providers(*entries: dict[str, object]) -> dict[str, object]:
    return {"providers": {"inference": list(entries)}}


def test_disabled_provider_is_dropped_without_expanding_its_config() -> None:
    raw = providers(
        {
            "provider_id": "${env.ENABLE_VLLM:=__disabled__}",
            "provider_type": "remote::vllm",
            "config": {"url": "${env.VLLM_URL}"},
        },
        {"provider_id": "ollama", "provider_type": "remote::ollama", "config": {}},
    )
    assert [p["provider_id"] for p in resolve(raw, {})["providers"]["inference"]] == ["ollama"]


@pytest.mark.parametrize(
    "provider_id", ["${env.VLLM_URL:+vllm}", "${env.VLLM_URL:=}", "${env.VLLM_URL+vllm}", "__disabled__"]
)
def test_empty_or_sentinel_provider_id_switches_the_provider_off(provider_id: str) -> None:
    raw = providers({"provider_id": provider_id, "provider_type": "remote::vllm", "config": {"url": "${env.VLLM_URL}"}})
    assert resolve(raw, {})["providers"]["inference"] == []


def test_enabled_provider_is_expanded() -> None:
    raw = providers(
        {"provider_id": "${env.VLLM_URL:+vllm}", "provider_type": "remote::vllm", "config": {"url": "${env.VLLM_URL}"}}
    )
    entry = resolve(raw, {"VLLM_URL": "http://h:8000/v1"})["providers"]["inference"][0]
    assert entry == {"provider_id": "vllm", "provider_type": "remote::vllm", "config": {"url": "http://h:8000/v1"}}


@pytest.mark.parametrize(
    "model",
    [
        {"model_id": "${env.INFERENCE_MODEL:__disabled__}", "provider_id": "ollama"},
        {
            "model_id": "${env.INFERENCE_MODEL:=__disabled__}",
            "provider_model_id": "${env.INFERENCE_MODEL:=__disabled__}",
        },
        {
            "model_id": "ollama/${env.OLLAMA_INFERENCE_MODEL:=__disabled__}",
            "provider_model_id": "${env.OLLAMA_INFERENCE_MODEL:=__disabled__}",
        },
        {"model_id": "m", "provider_id": "${env.ENABLE_OLLAMA:=__disabled__}"},
        {"model_id": "${env.INFERENCE_MODEL:=}", "provider_id": "${env.INFERENCE_MODEL:+ollama}"},
        {"model_id": "m", "provider_model_id": "x/__disabled__"},
    ],
)
def test_gated_models_are_not_registered(model: dict[str, object]) -> None:
    assert resolve({"models": [model]}, {})["models"] == []


def test_gated_model_body_is_not_expanded() -> None:
    model = {"model_id": "m", "provider_id": "${env.ENABLE_X:=__disabled__}", "metadata": {"k": "${env.REQUIRED}"}}
    assert resolve({"models": [model]}, {})["models"] == []


def test_enabled_model_resolves() -> None:
    model = {
        "model_id": "ollama/${env.M:=__disabled__}",
        "provider_id": "ollama",
        "provider_model_id": "${env.M:=__disabled__}",
    }
    assert resolve({"models": [model]}, {"M": "llama3.2:3b"})["models"] == [
        {"model_id": "ollama/llama3.2:3b", "provider_id": "ollama", "provider_model_id": "llama3.2:3b"}
    ]


def test_literal_null_provider_model_id_is_kept_for_defaulting() -> None:
    model = {"model_id": "m", "provider_id": "ollama", "provider_model_id": None}
    assert resolve({"models": [model]}, {})["models"] == [model]


def test_required_model_id_still_errors() -> None:
    with pytest.raises(ConfigError) as caught:
        resolve({"models": [{"model_id": "${env.INFERENCE_MODEL}", "provider_id": "ollama"}]}, {})
    assert caught.value.path == "models[0].model_id"


@pytest.mark.parametrize(
    ("section", "entry"),
    [
        ("shields", {"shield_id": "${env.SAFETY_MODEL:=__disabled__}", "provider_id": "llama-guard"}),
        ("vector_dbs", {"vector_db_id": "${env.DB:+docs}", "embedding_model": "e"}),
    ],
)
def test_shields_and_vector_dbs_gate_like_models(section: str, entry: dict[str, object]) -> None:
    assert resolve({section: [entry]}, {})[section] == []


@pytest.mark.parametrize(
    "auth",
    [
        {"provider_type": "${env.AUTH:+oauth2_token}", "config": {"jwks": {"uri": "${env.JWKS_URI}"}}},
        {"provider_config": {"type": "${env.AUTH:=}", "jwks": {"uri": "${env.JWKS_URI}"}}},
    ],
)
def test_auth_switched_off_by_its_type(auth: dict[str, object]) -> None:
    assert resolve({"server": {"port": 1, "auth": auth}}, {})["server"] == {"port": 1, "auth": None}
