"""Loading whole configs: one ConfigError with a path for every kind of mistake."""

from __future__ import annotations

from pathlib import Path

import pytest

from reference_server.config import ConfigError, load_config, load_config_text

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "configs"

MINIMAL = """
version: 2
image_name: t
apis: [inference]
providers:
  inference:
  - {provider_id: ollama, provider_type: remote::ollama, config: {url: "http://127.0.0.1:1"}}
"""


def load(text: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return load_config_text(text, env or {}, "run.yaml")


def error_of(text: str, env: dict[str, str] | None = None) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        load(text, env)
    return caught.value


def test_seed_example_loads() -> None:
    config = load_config(FIXTURES / "docs-ollama.yaml", {"INFERENCE_MODEL": "llama3.2:3b", "HOME": "/h"})
    assert config.run.image_name == "ollama"  # from conda_env, the seed names no image_name
    assert [(p.api, p.provider_id) for p in config.providers] == [
        ("inference", "ollama"),
        ("vector_io", "faiss"),
        ("safety", "llama-guard"),
        ("agents", "meta-reference"),
        ("telemetry", "meta-reference"),
    ]
    assert config.run.metadata_store is not None
    assert config.run.metadata_store.db_path == "/h/.llama/distributions/ollama/registry.db"
    [model] = config.models
    assert (model.identifier, model.provider_resource_id, model.provider_id) == ("llama3.2:3b", "llama3.2:3b", "ollama")


def test_seed_example_without_its_required_variable() -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(FIXTURES / "docs-ollama.yaml", {})
    assert caught.value.path == "models[0].model_id"
    assert caught.value.variable == "INFERENCE_MODEL"


@pytest.mark.parametrize("version", ["2", "'2'"])
def test_version_two_as_int_or_string(version: str) -> None:
    assert load(MINIMAL.replace("version: 2", f"version: {version}")).run.version == 2


def test_other_versions_are_rejected() -> None:
    assert error_of(MINIMAL.replace("version: 2", "version: 3")).one_line().startswith("version: unsupported")


def test_yaml_syntax_error_has_line_and_column() -> None:
    message = error_of("version: 2\nproviders: [\n").one_line()
    assert "invalid YAML" in message and "line 3, column 1" in message


@pytest.mark.parametrize("text", ["", "- a\n- b\n", "just text"])
def test_top_level_must_be_a_mapping(text: str) -> None:
    assert "mapping" in error_of(text).message or "empty" in error_of(text).message


def test_schema_error_names_the_path() -> None:
    error = error_of(MINIMAL + "server: {port: not-a-port}\n")
    assert error.path == "server.port"


def test_port_range() -> None:
    assert error_of(MINIMAL + "server: {port: 70000}\n").path == "server.port"


def test_unknown_provider_type_lists_known_ones() -> None:
    error = error_of(MINIMAL.replace("remote::ollama", "remote::nope"))
    assert error.path == "providers.inference[0].provider_type"
    assert "remote::ollama" in error.message and "remote::vllm" in error.message


def test_provider_type_must_match_api() -> None:
    error = error_of(MINIMAL.replace("remote::ollama", "inline::faiss"))
    assert "unknown provider type 'inline::faiss' for API 'inference'" in error.message


def test_provider_config_is_validated_with_its_path() -> None:
    error = error_of(MINIMAL.replace('url: "http://127.0.0.1:1"', "raise_on_connect_error: maybe"))
    assert error.path == "providers.inference[0].config.raise_on_connect_error"


def test_unknown_provider_config_field() -> None:
    error = error_of(MINIMAL.replace('url: "http://127.0.0.1:1"', "urll: x"))
    assert error.path == "providers.inference[0].config.urll"
    assert error.message == "unknown field"


def test_unknown_api() -> None:
    assert "unknown API 'memory'" in error_of(MINIMAL.replace("apis: [inference]", "apis: [memory]")).message


def test_duplicate_provider_id_in_one_api() -> None:
    text = MINIMAL + "  - {provider_id: ollama, provider_type: remote::vllm}\n"
    assert "duplicate provider id" in error_of(text).message


def test_model_picks_the_only_provider_and_defaults_provider_model_id() -> None:
    [model] = load(MINIMAL + "models:\n- {model_id: m1, provider_model_id: null}\n").models
    assert (model.provider_id, model.provider_resource_id) == ("ollama", "m1")


def test_model_with_several_providers_must_name_one() -> None:
    text = (
        MINIMAL
        + '  - {provider_id: vllm, provider_type: remote::vllm, config: {url: "http://x"}}\nmodels:\n- {model_id: m1}\n'
    )
    error = error_of(text)
    assert error.path == "models[0]"
    assert "ollama, vllm" in error.message


def test_model_with_unknown_provider() -> None:
    assert "provider 'nope' not found" in error_of(MINIMAL + "models:\n- {model_id: m, provider_id: nope}\n").message


def test_embedding_model_needs_a_dimension() -> None:
    error = error_of(MINIMAL + "models:\n- {model_id: e, model_type: embedding}\n")
    assert "embedding_dimension" in error.message


def test_same_model_defined_twice_differently() -> None:
    text = MINIMAL + "models:\n- {model_id: m}\n- {model_id: m, provider_model_id: other}\n"
    assert error_of(text).path == "models[1].model_id"


def test_unknown_top_level_key_is_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    config = load(MINIMAL + "modles: []\n")
    assert config.warnings == ["modles: unknown top-level key, ignored"]


def test_auth_in_both_shapes() -> None:
    seed_shape = load(MINIMAL + "server:\n  auth:\n    provider_type: custom\n    config: {endpoint: http://x}\n")
    later_shape = load(MINIMAL + "server:\n  auth:\n    provider_config: {type: custom, endpoint: http://x}\n")
    assert seed_shape.run.server.auth == later_shape.run.server.auth


def test_quota_period_must_be_day() -> None:
    text = MINIMAL + "server:\n  quota:\n    kvstore: {type: sqlite, db_path: /tmp/q.db}\n    period: hour\n"
    error = error_of(text)
    assert error.path == "server.quota.period" and "'day'" in error.message


def test_unreadable_file() -> None:
    with pytest.raises(ConfigError, match="cannot read config"):
        load_config("/nonexistent/run.yaml", {})


def test_starter_fixture_gates_models_on_its_variables() -> None:
    path = FIXTURES / "starter.yaml"
    bare = load_config(path, {"HOME": "/h"})
    assert bare.models == []
    assert [p.provider_id for p in bare.providers if p.api == "vector_io"] == ["faiss"]
    full = load_config(
        path,
        {"HOME": "/h", "OLLAMA_INFERENCE_MODEL": "llama3.2:3b", "ENABLE_SQLITE_VEC": "1", "VLLM_INFERENCE_MODEL": "m"},
    )
    assert [(m.identifier, m.provider_resource_id) for m in full.models] == [
        ("ollama/llama3.2:3b", "llama3.2:3b"),
        ("vllm/m", "m"),
    ]
    assert [p.provider_id for p in full.providers if p.api == "vector_io"] == ["faiss", "sqlite-vec"]


def test_safety_fixture_needs_its_models() -> None:
    path = FIXTURES / "safety-two-vllm.yaml"
    with pytest.raises(ConfigError) as caught:
        load_config(path, {"HOME": "/h"})
    assert caught.value.variable == "INFERENCE_MODEL"
    config = load_config(path, {"HOME": "/h", "INFERENCE_MODEL": "llama", "SAFETY_MODEL": "guard"})
    assert [(m.identifier, m.provider_id) for m in config.models] == [("llama", "vllm-0"), ("guard", "vllm-1")]
    assert config.run.shields[0].shield_id == "guard"


def test_vllm_needs_a_url() -> None:
    error = error_of(MINIMAL + "  - {provider_id: vllm, provider_type: remote::vllm}\n")
    assert error.path == "providers.inference[1].config.url"


def test_auth_config_is_validated_at_load_time() -> None:
    error = error_of(MINIMAL + "server:\n  auth:\n    provider_type: oauth2_token\n    config: {jwks: {}}\n")
    assert error.path == "server.auth.config.jwks.uri"


def test_an_unknown_auth_type_is_refused_naming_the_known_ones() -> None:
    error = error_of(MINIMAL + "server:\n  auth:\n    provider_type: kerberos\n")
    assert error.path == "server.auth.provider_type"
    assert "'kerberos'" in str(error) and "custom, oauth2_token" in str(error)


def test_access_policy_is_refused_rather_than_ignored() -> None:
    text = MINIMAL + (
        "server:\n  auth:\n    provider_type: custom\n    config: {endpoint: http://x}\n"
        "    access_policy: [{permit: {actions: [read]}}]\n"
    )
    assert error_of(text).path == "server.auth.access_policy"


@pytest.mark.parametrize("url", ["not-a-url", "ftp://x", "http://", "http://host:port"])
def test_provider_urls_are_checked_at_load_time(url: str) -> None:
    error = error_of(MINIMAL.replace("http://127.0.0.1:1", url))
    assert (error.path == "providers.inference[0].config.url" and "URL" in error.message) or "port" in error.message


def test_a_missing_ca_file_is_a_config_error() -> None:
    text = (
        MINIMAL
        + '  - {provider_id: v, provider_type: remote::vllm, config: {url: "http://x/v1", tls_verify: /nope.pem}}\n'
    )
    error = error_of(text)
    assert error.path == "providers.inference[1].config.tls_verify" and "/nope.pem" in error.message


@pytest.mark.parametrize(
    ("auth", "path"),
    [
        ("provider_type: custom\n    config: {endpoint: 'not a url'}", "server.auth.config.endpoint"),
        ("provider_type: oauth2_token\n    config: {jwks: {uri: 'ftp://x'}}", "server.auth.config.jwks.uri"),
        (
            "provider_type: oauth2_token\n    config: {jwks: {uri: 'http://x'}, tls_cafile: /nope.pem}",
            "server.auth.config.tls_cafile",
        ),
    ],
)
def test_auth_urls_and_files_are_checked_at_load_time(auth: str, path: str) -> None:
    assert error_of(MINIMAL + f"server:\n  auth:\n    {auth}\n").path == path
