"""``remote::vllm``: an OpenAI-compatible server at ``url`` (which includes ``/v1``)."""

# Requirements (conformance/catalog.yaml): REG-MISSING-002, REG-TOKEN-001

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from reference_server.providers.catalog import VLLMConfig
from reference_server.providers.remote import RemoteInferenceProvider


@dataclass
class VLLMProvider(RemoteInferenceProvider):
    backend = "vLLM"
    missing_phrase = "is not served by"

    def __post_init__(self) -> None:
        super().__post_init__()
        assert isinstance(self.config, VLLMConfig)
        self.base_url = self.config.url.rstrip("/")
        self.openai_base = self.base_url
        self.verify = self.config.tls_verify

    def headers(self) -> dict[str, str]:
        assert isinstance(self.config, VLLMConfig)
        return {"Authorization": f"Bearer {self.config.api_token}"} if self.config.api_token else {}

    def prepare_chat(self, body: dict[str, Any]) -> dict[str, Any]:
        assert isinstance(self.config, VLLMConfig)
        if body.get("max_tokens") is None and body.get("max_completion_tokens") is None:
            return {**body, "max_tokens": self.config.max_tokens}
        return body

    async def health(self) -> dict[str, Any]:
        root = self.base_url.removesuffix("/v1")
        try:
            answer = await self.client().get(f"{root}/health")
        except httpx.HTTPError as exc:
            return {"status": "Error", "message": f"Health check failed: {exc}"}
        if answer.status_code != 200:
            return {"status": "Error", "message": f"Health check failed: {answer.status_code}"}
        return {"status": "OK"}
