"""``remote::ollama``: probe at start-up, check models against ``/api/tags``, infer over ``/v1``.

The seed's pull request made Ollama optional at start-up: with ``raise_on_connect_error: false``
an unreachable Ollama is a warning, not a crash. Requests that need it then get a 503 naming
the URL, and the same process serves normally once Ollama answers again: nothing about
reachability is cached.
"""

# Requirements (conformance/catalog.yaml): START-OLLAMA-001, START-OLLAMA-002, START-OLLAMA-003,
#   START-OLLAMA-004, START-OLLAMA-005, START-OLLAMA-006, REG-MISSING-001, INF-BACKEND-001

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from reference_server.errors import BadGateway, InvalidRequest, StackError, StartupFailure
from reference_server.providers.catalog import OllamaConfig
from reference_server.providers.remote import RemoteInferenceProvider

log = logging.getLogger("reference_server.providers.ollama")


@dataclass
class OllamaProvider(RemoteInferenceProvider):
    backend = "Ollama"

    def __post_init__(self) -> None:
        super().__post_init__()
        assert isinstance(self.config, OllamaConfig)
        self.base_url = self.config.url.rstrip("/")
        self.openai_base = f"{self.base_url}/v1"

    async def start(self) -> None:
        assert isinstance(self.config, OllamaConfig)
        try:
            await self.call("GET", f"{self.base_url}/api/ps")
        except StackError as exc:
            if self.config.raise_on_connect_error:
                raise StartupFailure(
                    f"cannot reach Ollama at {self.base_url} ({exc.message}); start it with `ollama serve`, "
                    "or set raise_on_connect_error: false to start without it"
                ) from None
            self.reachable_at_start = False
            log.warning("Ollama at %s is not reachable; starting without it (%s)", self.base_url, exc.message)

    async def health(self) -> dict[str, Any]:
        try:
            await self.call("GET", f"{self.base_url}/api/ps")
        except StackError as exc:
            return {"status": "Error", "message": f"Health check failed: {exc.message}"}
        return {"status": "OK"}

    async def list_models(self) -> list[str]:
        body = await self.call("GET", f"{self.base_url}/api/tags")
        entries = body.get("models") if isinstance(body, dict) else None
        if not isinstance(entries, list):
            raise BadGateway(f"{self.describe()} listed models in an unexpected shape")
        return [str(e.get("model") or e.get("name")) for e in entries if isinstance(e, dict)]

    async def check_model(self, model: str) -> str:
        available = await self.list_models()
        if model in available:
            return model
        if ":" not in model and f"{model}:latest" in available:
            log.warning("Ollama model %r has no tag; using %s:latest", model, model)
            return f"{model}:latest"
        raise InvalidRequest(
            f"Model {model!r} is not available in Ollama at {self.base_url}; "
            f"available: {', '.join(available) or 'none'}"
        )
