"""What every configured provider instance offers the API layer, whatever its type."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from reference_server.providers.catalog import redact

NOT_IMPLEMENTED_HEALTH = {"status": "Not Implemented", "message": "Provider does not implement health check"}


@dataclass
class ProviderHandle:
    api: str
    provider_id: str
    provider_type: str
    config: BaseModel

    async def health(self) -> dict[str, Any]:
        return dict(NOT_IMPLEMENTED_HEALTH)

    async def info(self) -> dict[str, Any]:
        return {
            "api": self.api,
            "provider_id": self.provider_id,
            "provider_type": self.provider_type,
            "config": redact(self.config.model_dump(mode="json")),
            "health": await self.health(),
        }

    async def start(self) -> None:
        """Probe what the provider depends on; raise `StartupFailure` to stop the stack."""

    async def aclose(self) -> None:
        """Release connections; the provider must work again after this (a new event loop)."""

    def close(self) -> None:
        """Release files and indexes when the stack stops for good."""
