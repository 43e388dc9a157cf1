"""The run.yaml lint: what each generation reads, and what it ignores, named by config path."""

from __future__ import annotations

from conformance.config_lint import lint
from conformance.generation import REFERENCE, parse_override

SEED, LATER, OGX = parse_override("0.2.12"), parse_override("0.7.3"), parse_override("ogx-1.5")


def kinds(config: dict[str, object], env: dict[str, str], generation: object) -> list[tuple[str, str]]:
    return [(f.kind, f.path) for f in lint(config, env, generation)]  # type: ignore[arg-type]


def test_forms_of_another_generation_are_named() -> None:
    config = {"a": "${env.X:=d}", "b": "${env.X:d}", "c": "${env.X+v}", "d": "${env.X:+v}"}
    assert kinds(config, {}, SEED) == [("grammar", "a"), ("grammar", "d")]
    assert kinds(config, {}, LATER) == [("grammar", "b"), ("grammar", "c")]
    assert kinds(config, {}, REFERENCE) == []


def test_malformed_and_required_placeholders() -> None:
    config = {"x": {"y": ["${env.lower}", "${env.OPEN", "${env.SET}-${env.EMPTY}-${env.UNSET}"]}}
    found = kinds(config, {"SET": "1", "EMPTY": ""}, LATER)
    assert found == [("malformed", "x.y[0]"), ("malformed", "x.y[1]"), ("required", "x.y[2]"), ("required", "x.y[2]")]


def test_a_switched_off_providers_config_is_not_required() -> None:
    provider = {"provider_type": "remote::vllm", "config": {"url": "${env.VLLM_URL}"}}
    config = {"providers": {"inference": [{**provider, "provider_id": "${env.VLLM_URL:+vllm}"}]}}
    assert kinds(config, {}, REFERENCE) == []  # an empty id switches it off
    assert kinds(config, {}, LATER) == [("required", "providers.inference[0].config.url")]  # 0.7 expands it
    disabled = {"providers": {"inference": [{**provider, "provider_id": "${env.VLLM_URL:=__disabled__}"}]}}
    assert kinds(disabled, {}, LATER) == []


def test_settings_ogx_ignores_are_named_and_values_never_quoted() -> None:
    config = {"apis": ["inference", "safety"], "server": {"port": 8321, "quota": {"period": "day"}, "cors": True}}
    assert kinds(config, {}, OGX) == [("ignored", "server.cors"), ("ignored", "server.quota"), ("ignored", "apis")]
    assert kinds(config, {}, LATER) == []
    secret = {"providers": {"inference": [{"provider_id": "p", "config": {"api_token": "${env.TOKEN:+sk-secret}"}}]}}
    assert all("sk-secret" not in str(f) for f in lint(secret, {}, SEED))
