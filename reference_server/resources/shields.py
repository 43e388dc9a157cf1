"""Shields: the registration rules shared by run.yaml and ``POST /v1/shields``."""

# Requirements (conformance/catalog.yaml): SAFE-REG-001, SAFE-REG-002

from __future__ import annotations

from typing import Any, Literal

from reference_server.resources.models import Resource, pick_provider


class Shield(Resource):
    """The wire shape of a shield in the seed's era (0.2.x)."""

    type: Literal["shield"] = "shield"
    params: dict[str, Any] | None = None


def build_shield(
    *,
    shield_id: str,
    provider_id: str | None,
    provider_shield_id: str | None,
    params: dict[str, Any] | None,
    safety_providers: list[str],
) -> Shield:
    """A Llama Guard shield is named after its model, so the provider's id defaults to ours."""
    return Shield(
        identifier=shield_id,
        provider_resource_id=provider_shield_id or shield_id,
        provider_id=pick_provider(provider_id, safety_providers, f"shield {shield_id!r}"),
        params=params,
    )
