"""The rules that turn a registration request into a Model, shared by run.yaml and HTTP.

Start-up registration and ``POST /v1/models`` must agree to the letter (a config that starts is
a request that succeeds), so both go through `build_model`.
"""

# Requirements (conformance/catalog.yaml): CFG-MODEL-001

from __future__ import annotations

import time
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from reference_server.errors import InvalidRequest

ModelType = Literal["llm", "embedding"]
SERVING_SINCE = int(time.time())


class Resource(BaseModel):
    """What every registered resource has: our id, the provider's id for it, and the provider."""

    model_config = ConfigDict(extra="forbid")

    identifier: str
    provider_resource_id: str
    provider_id: str

    def wire(self) -> dict[str, Any]:
        """What the API answers for this resource (listing, get, register): the stored fields,
        plus whatever the wire adds to them."""
        return self.model_dump()


class Model(Resource):
    """The wire shape of a model in the seed's era (0.2.x)."""

    type: Literal["model"] = "model"
    metadata: dict[str, Any] = Field(default_factory=dict)
    model_type: ModelType = "llm"

    def wire(self) -> dict[str, Any]:
        # The seed's fields and, beside them, the OpenAI model object that releases since 0.4.0
        # answer with: one shape serves clients of either era. The registry does not record when
        # a model was registered, so `created` is when this process began serving.
        return {
            **self.model_dump(),
            "id": self.identifier,
            "object": "model",
            "created": SERVING_SINCE,
            "owned_by": "llama_stack",
        }


def pick_provider(requested: str | None, available: list[str], what: str) -> str:
    """Resolve a resource's provider: the named one, or the only one there is."""
    if requested:
        if requested not in available:
            listed = ", ".join(available) or "none"
            raise InvalidRequest(f"provider {requested!r} not found for {what}; configured: {listed}")
        return requested
    if len(available) == 1:
        return available[0]
    if not available:
        raise InvalidRequest(f"no provider is configured for {what}")
    raise InvalidRequest(f"several providers can serve {what}; name one in provider_id: {', '.join(available)}")


def build_model(
    *,
    model_id: str,
    provider_id: str | None,
    provider_model_id: str | None,
    model_type: ModelType,
    metadata: dict[str, Any] | None,
    inference_providers: list[str],
) -> Model:
    metadata = dict(metadata or {})
    if model_type == "embedding":
        dimension = metadata.get("embedding_dimension")
        if isinstance(dimension, bool) or not isinstance(dimension, int) or dimension <= 0:
            raise InvalidRequest(f"embedding model {model_id!r} needs a positive integer metadata.embedding_dimension")
    chosen = pick_provider(provider_id, inference_providers, f"model {model_id!r}")
    return Model(
        identifier=model_id,
        provider_resource_id=provider_model_id or model_id,
        provider_id=chosen,
        metadata=metadata,
        model_type=model_type,
    )
