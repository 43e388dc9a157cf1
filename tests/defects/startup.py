"""Defects of the startup profile (conformance/checks/test_startup.py): a remote Ollama at start-up."""

from __future__ import annotations

from typing import Any

from reference_server.errors import Unavailable
from reference_server.providers.catalog import OllamaConfig
from reference_server.providers.ollama import OllamaProvider
from tests.defects.patching import Apply, get, json_rule, rewrite_api
from tests.defects.registry import defect


def ollama_required(required: bool) -> Apply:
    """Ignore the config's raise_on_connect_error: always fatal (0.2.15 on), or never."""

    def apply() -> None:
        original = OllamaProvider.start

        async def start(self: Any) -> None:
            self.config = self.config.model_copy(update={"raise_on_connect_error": required})
            await original(self)

        OllamaProvider.start = start  # type: ignore[method-assign]

    return apply


defect("ollama-always-required", "START-OLLAMA-001", breaks_startup=True)(ollama_required(True))
defect("raise-on-connect-ignored", "START-OLLAMA-004", "START-OLLAMA-006")(ollama_required(False))

_PHANTOM = {
    "identifier": "ollama/phantom",
    "provider_resource_id": "phantom",
    "provider_id": "ollama",
    "type": "model",
    "metadata": {},
    "model_type": "llm",
}
defect("phantom-ollama-model", "START-OLLAMA-002")(
    rewrite_api(json_rule(get("/v1/models"), lambda b: {"data": [*b["data"], _PHANTOM]}))
)


@defect("unreachable-is-500", "START-OLLAMA-003")
def unreachable_is_500() -> None:
    Unavailable.status = 500


@defect("unreachable-is-sticky", "START-OLLAMA-005")
def unreachable_is_sticky() -> None:
    """Remember an Ollama that was down at start-up as down for good."""
    original = OllamaProvider.call

    async def call(self: Any, method: str, url: str, body: Any = None) -> Any:
        if not self.reachable_at_start:
            raise Unavailable(f"{self.describe()} was unreachable at start-up")
        return await original(self, method, url, body)

    OllamaProvider.call = call  # type: ignore[method-assign]


@defect("ollama-optional-by-default", "START-OLLAMA-006")
def ollama_optional_by_default() -> None:
    """raise_on_connect_error defaults to false: an Ollama left unsaid is optional."""
    OllamaConfig.model_fields["raise_on_connect_error"].default = False
    OllamaConfig.model_rebuild(force=True)
