"""Profile ``config``: how a deployment reads its run.yaml, observed by starting prepared configs.

These checks need a launcher. Values are read back through the API (the metadata of a probe
model), start-up failures through the exit status and the output of the launched process.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from conformance.checks.shapes import configured_model, configured_name, expect_data_list, model_metadata
from conformance.launchers.base import Running
from conformance.launchers.process import Exited
from conformance.plugin import ScenarioAccess

requirement = pytest.mark.requirement
EMPTY = (None, "")


def probe_metadata(scenarios: ScenarioAccess) -> tuple[dict[str, Any], Path]:
    launched = scenarios.pool.shared("env-grammar")
    models = expect_data_list(scenarios.client(launched.url).get_json("/v1/models"), "/v1/models")
    model = configured_model(models, "grammar-probe")
    assert model is not None, f"the model grammar-probe is not listed: {models!r:.300}"
    metadata = model_metadata(model)
    assert metadata, f"grammar-probe has no metadata: {model!r:.300}"
    return metadata, launched.workdir


def expect_values(metadata: dict[str, Any], expected: dict[str, Any]) -> None:
    wrong = {}
    for key, want in expected.items():
        got = metadata.get(key, "<missing>")
        ok = got in want if isinstance(want, tuple) else (got == want and type(got) is type(want))
        if not ok:
            wrong[key] = f"got {got!r}, expected {want!r}"
    assert not wrong, f"placeholders resolved wrongly: {wrong}"


@requirement("CFG-ENV-001")
def test_required_placeholder_takes_the_value(scenarios: ScenarioAccess) -> None:
    expect_values(probe_metadata(scenarios)[0], {"required_set": "fromenv"})


@requirement("CFG-ENV-002")
def test_default_form(scenarios: ScenarioAccess) -> None:
    expect_values(
        probe_metadata(scenarios)[0],
        {
            "new_default_set": "fromenv",
            "new_default_unset": "dflt",
            "new_default_empty": "dflt",
        },
    )


@requirement("CFG-ENV-003")
def test_conditional_form(scenarios: ScenarioAccess) -> None:
    expect_values(
        probe_metadata(scenarios)[0],
        {
            "new_conditional_set": "val",
            "new_conditional_unset": EMPTY,
            "new_conditional_empty": EMPTY,
        },
    )


@requirement("CFG-ENV-004")
def test_seed_default_form(scenarios: ScenarioAccess) -> None:
    expect_values(
        probe_metadata(scenarios)[0],
        {
            "old_default_set": "fromenv",
            "old_default_unset": "dflt",
            "old_default_empty": "dflt",
        },
    )


@requirement("CFG-ENV-005")
def test_seed_conditional_form(scenarios: ScenarioAccess) -> None:
    expect_values(
        probe_metadata(scenarios)[0],
        {
            "old_conditional_set": "val",
            "old_conditional_unset": EMPTY,
            "old_conditional_empty": EMPTY,
        },
    )


@requirement("CFG-ENV-006")
def test_several_placeholders_in_one_string(scenarios: ScenarioAccess) -> None:
    expect_values(probe_metadata(scenarios)[0], {"several": "a-fromenv-b-z"})


@requirement("CFG-ENV-007")
def test_substituted_values_are_typed(scenarios: ScenarioAccess) -> None:
    expect_values(probe_metadata(scenarios)[0], {"coerced_int": 42, "coerced_float": 2.5, "coerced_bool": True})


@requirement("CFG-ENV-008")
def test_plain_strings_keep_their_type(scenarios: ScenarioAccess) -> None:
    expect_values(probe_metadata(scenarios)[0], {"plain_quoted_number": "8080", "plain_quoted_bool": "true"})


@requirement("CFG-ENV-010")
def test_home_is_expanded_in_substituted_values(scenarios: ScenarioAccess) -> None:
    metadata, workdir = probe_metadata(scenarios)
    expect_values(metadata, {"home": str(workdir / "home" / "sub")})


def start_expecting_failure(scenarios: ScenarioAccess, name: str, extra_env: dict[str, str] | None = None) -> Exited:
    outcome = scenarios.pool.shared(name, extra_env).outcome
    if isinstance(outcome, Running):
        pytest.fail(f"scenario {name!r} started and serves on {outcome.url}; it should have refused to start")
    assert outcome.returncode != 0, f"scenario {name!r} exited with status 0 instead of an error"
    return outcome


@requirement("CFG-ENV-009")
def test_missing_required_variable_stops_start_up(scenarios: ScenarioAccess) -> None:
    exited = start_expecting_failure(scenarios, "missing-required")
    output = exited.stderr + exited.stdout
    assert "CFG_REQUIRED_URL" in output, f"the error does not name the variable: {output.strip()[-400:]}"
    # The value's path: ``...config.url`` in the seed's dialect, ``...config.base_url`` from 0.3 on.
    assert "providers.inference[0].config." in output, f"the error does not name the path: {output.strip()[-400:]}"


@requirement("CFG-ENV-013")
def test_empty_required_variable_stops_start_up(scenarios: ScenarioAccess) -> None:
    exited = start_expecting_failure(scenarios, "missing-required", {"CFG_REQUIRED_URL": ""})
    output = exited.stderr + exited.stdout
    assert "CFG_REQUIRED_URL" in output, f"the error does not name the variable: {output.strip()[-400:]}"


@requirement("CFG-ENV-011")
@pytest.mark.parametrize("name", ["malformed-lowercase", "malformed-unclosed"])
def test_malformed_placeholder_stops_start_up(scenarios: ScenarioAccess, name: str) -> None:
    exited = start_expecting_failure(scenarios, name)
    output = exited.stderr + exited.stdout
    # The free-text name field: image_name in the seed's dialect, distro_name from 0.3 on.
    assert "image_name" in output or "distro_name" in output, (
        f"the error does not name the path: {output.strip()[-400:]}"
    )


@requirement("CFG-ENV-012")
def test_config_error_has_no_traceback(scenarios: ScenarioAccess) -> None:
    exited = start_expecting_failure(scenarios, "missing-required")
    assert "Traceback (most recent call last)" not in exited.stderr + exited.stdout, (
        f"start-up printed a traceback: {exited.stderr.strip()[-400:]}"
    )


def gating_listing(scenarios: ScenarioAccess, path: str) -> list[dict[str, Any]]:
    launched = scenarios.pool.shared("gating")
    return expect_data_list(scenarios.client(launched.url).get_json(path), path)


def gating_models(scenarios: ScenarioAccess) -> dict[str, dict[str, Any]]:
    """The listed models by the name their config gave them."""
    models = {configured_name(m): m for m in gating_listing(scenarios, "/v1/models") if isinstance(m, dict)}
    assert "enabled-by-variable" in models, (
        f"the control model 'enabled-by-variable' is missing, so gating cannot be judged: {sorted(models)}"
    )
    return models


@requirement("CFG-GATE-001")
def test_disabled_provider_config_is_not_expanded(scenarios: ScenarioAccess) -> None:
    providers = gating_listing(scenarios, "/v1/providers")
    assert [p.get("provider_id") for p in providers if p.get("api") == "inference"] == ["ollama"], (
        f"expected only the ollama inference provider to run, got {providers!r:.400}"
    )


@requirement("CFG-GATE-002")
def test_disabled_providers_are_not_listed(scenarios: ScenarioAccess) -> None:
    listed = [p for p in gating_listing(scenarios, "/v1/providers") if p.get("provider_type") == "remote::vllm"]
    assert not listed, f"switched-off providers are listed: {listed!r:.400}"


@requirement("CFG-GATE-003")
def test_sentinel_provider_model_id_is_not_registered(scenarios: ScenarioAccess) -> None:
    assert "gated-by-provider-model-id" not in gating_models(scenarios)


@requirement("CFG-GATE-004")
def test_switched_off_provider_id_is_not_registered(scenarios: ScenarioAccess) -> None:
    models = gating_models(scenarios)
    present = [m for m in ("gated-by-provider-id", "gated-by-empty-provider-id") if m in models]
    assert not present, f"models registered although their provider_id is switched off: {present}"


@requirement("CFG-GATE-005")
def test_empty_model_id_is_not_registered(scenarios: ScenarioAccess) -> None:
    empty = [ident for ident in gating_models(scenarios) if ident in ("", "None", "null")]
    assert not empty, f"a model with an empty id was registered: {empty}"


@requirement("CFG-GATE-006")
def test_empty_provider_id_config_is_not_expanded(scenarios: ScenarioAccess) -> None:
    outcome = scenarios.pool.shared("gating-empty-provider").outcome
    if not isinstance(outcome, Running):
        output = (outcome.stderr + outcome.stdout).strip()[-400:]
        pytest.fail(f"start-up failed (exit {outcome.returncode}) on the switched-off provider's config: {output}")
    providers = expect_data_list(scenarios.client(outcome.url).get_json("/v1/providers"), "/v1/providers")
    listed = [p.get("provider_id") for p in providers if p.get("provider_type") == "remote::vllm"]
    assert not listed, f"the provider switched off by an empty id is listed: {listed}"


@requirement("CFG-MODEL-001")
def test_provider_model_id_defaults_to_model_id(scenarios: ScenarioAccess) -> None:
    model = gating_models(scenarios).get("llama3.2:3b")
    assert model is not None, "model llama3.2:3b from the config is not registered"
    assert model.get("provider_resource_id") == "llama3.2:3b", (
        f"provider_resource_id is {model.get('provider_resource_id')!r}"
    )


@requirement("CFG-TLS-001")
def test_server_speaks_https_with_its_certificate(scenarios: ScenarioAccess) -> None:
    launched = scenarios.pool.shared("tls")
    assert launched.url.startswith("https://"), f"the scenario serves {launched.url}"
    # The client trusts only the CA made for this launch: any other certificate fails the handshake.
    body = scenarios.client(launched.url).get_json("/v1/health")
    assert isinstance(body, dict) and body.get("status") == "OK", f"/v1/health over HTTPS answered {body!r}"
