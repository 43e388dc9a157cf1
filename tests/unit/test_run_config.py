"""What a run.yaml promises about the live server, read the way each generation reads it."""

from __future__ import annotations

from typing import Any

from conformance.generation import REFERENCE, parse_override
from conformance.run_config import auth_configured, providers, registered, tls_configured

SEED, LATER = parse_override("0.2.12"), parse_override("0.7.3")

CONFIG: dict[str, Any] = {
    "providers": {
        "inference": [
            {"provider_id": "ollama", "provider_type": "remote::ollama"},
            {"provider_id": "${env.ENABLE_VLLM:=__disabled__}", "provider_type": "remote::vllm"},
            {"provider_id": "${env.ENABLE_TGI:+tgi}", "provider_type": "remote::tgi"},
        ]
    },
    "models": [
        {"model_id": "chat", "provider_id": "ollama", "provider_model_id": "llama3.2:3b"},
        {"model_id": "${env.INFERENCE_MODEL:=__disabled__}", "provider_id": "ollama"},
        {"model_id": "on-vllm", "provider_id": "${env.ENABLE_VLLM:=__disabled__}"},
    ],
}


def ids(promises: list[Any]) -> list[str]:
    return [p.ident for p in promises]


def test_enabled_and_switched_off_providers_in_the_servers_environment() -> None:
    enabled, off = providers(CONFIG, {}, LATER)
    assert ids(enabled) == ["ollama"] and ids(off) == ["__disabled__"]
    enabled, off = providers(CONFIG, {"ENABLE_VLLM": "vllm", "ENABLE_TGI": "1"}, LATER)
    assert ids(enabled) == ["ollama", "vllm", "tgi"] and off == []
    assert [p.path for p in enabled] == [f"providers.inference[{i}]" for i in range(3)]


def test_nothing_is_promised_where_a_generation_is_not_known_to_drop_it() -> None:
    # 0.2.12 has no sentinel: a provider called __disabled__ is neither promised on nor off
    enabled, off = providers(CONFIG, {}, SEED)
    assert ids(enabled) == ["ollama"] and off == []
    assert ids(providers(CONFIG, {}, REFERENCE)[1]) == ["__disabled__"]  # an empty id cannot be listed


def test_resources_on_enabled_providers_with_the_names_they_are_listed_under() -> None:
    [chat] = registered(CONFIG, {}, LATER, "models")
    assert chat.path == "models[0].model_id" and chat.names == ("chat", "ollama/llama3.2:3b")
    assert ids(registered(CONFIG, {"ENABLE_VLLM": "vllm"}, LATER, "models")) == ["chat", "on-vllm"]


def test_security_settings_in_either_auth_shape() -> None:
    seed = {"server": {"auth": {"provider_type": "oauth2_token"}, "tls_certfile": "${env.CERT:=}"}}
    later = {"server": {"auth": {"provider_config": {"type": "${env.AUTH:+custom}"}}}}
    assert auth_configured(seed, {}) == "server.auth.provider_type" and tls_configured(seed, {}) is None
    assert tls_configured(seed, {"CERT": "/c.pem"}) == "server.tls_certfile"
    assert auth_configured(later, {}) is None
    assert auth_configured(later, {"AUTH": "1"}) == "server.auth.provider_config.type"
