"""Profile ``run-config``, the deployment's own run.yaml (``--stack-config``): linted for the
generation the target runs, so a config that the release reads differently from what its
operator meant is caught before promotion, not when the quota never fires; and the live server
held to it, so a deployment started on another config (or another environment) is caught too.

Only paths and variable names are reported, never a value from the config.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import pytest

from conformance.checks.shapes import expect_data_list, model_id
from conformance.config_lint import Finding, lint
from conformance.generation import Generation
from conformance.http import RecordingClient
from conformance.outcomes import not_evaluated
from conformance.run_config import auth_configured, providers, registered, tls_configured
from conformance.settings import Settings

requirement = pytest.mark.requirement


@pytest.fixture
def run_config(stack_settings: Settings) -> dict[str, Any]:
    """The operator's config. Without one there is nothing of the target's to check (the suite's
    own scenario configs are held to their grammar by the project's tests), so the checks are not
    evaluated rather than passed."""
    if stack_settings.run_config is None:
        not_evaluated("needs the deployment's run.yaml: pass --stack-config PATH (it is read here, never sent)")
    return stack_settings.run_config


@pytest.fixture
def server_env(stack_settings: Settings) -> Mapping[str, str]:
    """The environment the server was started with: --stack-env, else this one."""
    return stack_settings.run_env if stack_settings.run_env is not None else os.environ


@pytest.fixture
def run_config_findings(
    run_config: dict[str, Any], server_env: Mapping[str, str], stack_generation: Generation
) -> list[Finding]:
    return lint(run_config, server_env, stack_generation)


def expect_none(findings: list[Finding], kinds: tuple[str, ...], what: str) -> None:
    found = [str(f) for f in findings if f.kind in kinds]
    assert not found, f"{what}: " + "; ".join(found)


@requirement("CFG-RUN-001")
def test_run_config_speaks_its_generations_grammar(run_config_findings: list[Finding]) -> None:
    expect_none(run_config_findings, ("malformed", "grammar"), "placeholders the target reads otherwise")


@requirement("CFG-RUN-002")
def test_run_config_required_variables_are_set(run_config_findings: list[Finding]) -> None:
    expect_none(run_config_findings, ("required",), "required variables unset in this environment")


@requirement("CFG-RUN-003")
def test_run_config_has_no_ignored_settings(run_config_findings: list[Finding]) -> None:
    expect_none(run_config_findings, ("ignored",), "settings the target ignores")


# ---------------------------------------------------------------- the live server against its config


def listed(api: RecordingClient, path: str) -> list[dict[str, Any]]:
    return [item for item in expect_data_list(api.get_json(path), path) if isinstance(item, dict)]


@requirement("CFG-RUN-004")
def test_live_providers_are_the_configs(
    run_config: dict[str, Any], server_env: Mapping[str, str], stack_generation: Generation, stack_api: RecordingClient
) -> None:
    enabled, switched_off = providers(run_config, server_env, stack_generation)
    shown = {(str(p.get("api")), str(p.get("provider_id"))) for p in listed(stack_api, "/v1/providers")}
    promised = {(p.api, p.ident) for p in enabled}
    missing = [f"{p.path} ({p.ident})" for p in enabled if (p.api, p.ident) not in shown]
    assert not missing, f"providers the config enables that the server does not list: {missing}"
    off_ids = {p.ident for p in switched_off}
    still_on = sorted(f"{api}: {pid}" for api, pid in shown if pid in off_ids)
    assert not still_on, f"providers the config switches off that the server lists: {still_on}"
    extra = sorted(f"{api}: {pid}" for api, pid in shown - promised)
    assert not extra, f"providers the server lists that the config does not enable: {extra}"


@requirement("CFG-RUN-005")
def test_live_resources_are_the_configs(
    run_config: dict[str, Any], server_env: Mapping[str, str], stack_generation: Generation, stack_api: RecordingClient
) -> None:
    routes = {"models": "/v1/models"}
    if not stack_generation.in_window("1.0.0", None):  # OGX has no safety API (CFG-RUN-003's finding)
        routes["shields"] = "/v1/shields"
    if not stack_generation.in_window("0.3.0", None):  # vector dbs were replaced by vector stores in 0.3.0
        routes["vector_dbs"] = "/v1/vector-dbs"
    missing = []
    for kind, route in routes.items():
        promises = registered(run_config, server_env, stack_generation, kind)
        if not promises:
            continue
        names = {
            model_id(item) if kind == "models" else str(item.get("identifier")) for item in listed(stack_api, route)
        }
        missing += [f"{p.path} ({p.ident})" for p in promises if not names & set(p.names)]
    assert not missing, f"resources the config registers that the server does not list: {missing}"


@requirement("CFG-RUN-006")
def test_live_security_is_the_configs(
    run_config: dict[str, Any], server_env: Mapping[str, str], stack_settings: Settings, stack_api: RecordingClient
) -> None:
    if tls := tls_configured(run_config, server_env):
        assert (stack_settings.url or "").startswith("https://"), f"{tls} is set, but the server is reached over http"
    if auth := auth_configured(run_config, server_env):
        answer = stack_api.get("/v1/models", as_role=None)
        assert answer.status == 401, f"{auth} is set, but without a token: {answer.describe()}"
    if not (tls or auth):
        not_evaluated("the config configures neither auth nor TLS")
