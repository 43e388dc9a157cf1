"""ACME's checks: ordinary suite checks, written against the suite's public names (``conformance``)
only: its fixtures, their types, its requirement marker and its shape helpers."""

from __future__ import annotations

import pytest

from conformance import RecordingClient, Settings, expect_data_list, model_provider, not_evaluated, requirement


@pytest.fixture
def provider_id(stack_settings: Settings) -> str:
    if not stack_settings.provider_id:
        not_evaluated("aim the ACME checks at a provider with --provider-id")
    return stack_settings.provider_id


@requirement("ACME-PROVIDER-001")
def test_provider_reports_healthy(stack_api: RecordingClient, provider_id: str) -> None:
    entry = stack_api.get_json(f"/v1/providers/{provider_id}")
    status = (entry.get("health") or {}).get("status") if isinstance(entry, dict) else None
    assert status == "OK", f"/v1/providers/{provider_id} health status is {status!r}"


@requirement("ACME-PROVIDER-002")
def test_provider_serves_a_model(stack_api: RecordingClient, provider_id: str) -> None:
    models = expect_data_list(stack_api.get_json("/v1/models"), "/v1/models")
    assert any(model_provider(m) == provider_id for m in models), f"no listed model belongs to {provider_id!r}"
