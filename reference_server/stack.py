"""Builds a running stack from a validated config: store, registry, provider instances.

Two phases: `Stack.build` opens the store and instantiates providers (no network), and
`Stack.start` probes the providers and checks every model of the config against its backend,
before the server accepts a single request.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from reference_server.config.loader import StackConfig
from reference_server.errors import NotFound, NotImplementedHere, StackError, StartupFailure
from reference_server.providers.base import ProviderHandle
from reference_server.providers.ollama import OllamaProvider
from reference_server.providers.remote import RemoteInferenceProvider
from reference_server.providers.vllm import VLLMProvider
from reference_server.quota.counters import Counter, build_counter
from reference_server.resources.models import Model
from reference_server.resources.registry import ModelRegistry
from reference_server.store.kvstore import SqliteKVStore

PROVIDER_CLASSES: dict[tuple[str, str], type[ProviderHandle]] = {
    ("inference", "remote::ollama"): OllamaProvider,
    ("inference", "remote::vllm"): VLLMProvider,
}


def default_metadata_path(image_name: str) -> Path:
    return Path(os.path.expanduser("~")) / ".llama" / "distributions" / image_name / "kvstore.db"


@dataclass
class Stack:
    config: StackConfig
    store: SqliteKVStore
    models: ModelRegistry
    providers: list[ProviderHandle]
    # Models registered while their backend was unreachable; checked on first use.
    unverified: set[str] = field(default_factory=set)
    counter: Counter | None = None

    def quota_counter(self) -> Counter:
        assert self.counter is not None, "quota_counter() without server.quota"
        return self.counter

    @classmethod
    def build(cls, config: StackConfig) -> Stack:
        run = config.run
        if run.metadata_store is not None:
            store = SqliteKVStore(run.metadata_store.db_path, run.metadata_store.namespace)
        else:
            store = SqliteKVStore(default_metadata_path(run.image_name))
        providers = [
            PROVIDER_CLASSES.get((p.api, p.provider_type), ProviderHandle)(
                p.api, p.provider_id, p.provider_type, p.config
            )
            for p in config.providers
        ]
        quota = run.server.quota
        counter = build_counter(quota.kvstore) if quota is not None else None  # fails here, not mid-request
        return cls(config=config, store=store, models=ModelRegistry(store), providers=providers, counter=counter)

    async def start(self) -> None:
        try:
            for provider in self.providers:
                await provider.start()
            adopted = [await self._verified_config_model(model) for model in self.config.models]
            self.models.adopt_config(adopted)
        finally:
            for provider in self.providers:  # the serving event loop opens its own connections
                await provider.aclose()

    async def _verified_config_model(self, model: Model) -> Model:
        provider = self.inference(model.provider_id)
        if not provider.reachable_at_start:
            self.unverified.add(model.identifier)
            return model
        try:
            resolved = await provider.check_model(model.provider_resource_id)
        except StackError as exc:
            raise StartupFailure(f"model {model.identifier!r} of the config: {exc.message}") from None
        return model.model_copy(update={"provider_resource_id": resolved})

    async def verified(self, model: Model) -> Model:
        """A model ready for inference: checked against its backend if that was not possible before."""
        if model.identifier in self.unverified:
            await self.inference(model.provider_id).check_model(model.provider_resource_id)
            self.unverified.discard(model.identifier)
        return model

    def inference(self, provider_id: str) -> RemoteInferenceProvider:
        for provider in self.providers:
            if provider.api == "inference" and provider.provider_id == provider_id:
                if not isinstance(provider, RemoteInferenceProvider):
                    raise NotImplementedHere(
                        f"provider {provider_id!r} ({provider.provider_type}) does not serve inference in this server"
                    )
                return provider
        raise NotFound(f"Provider {provider_id!r} not found")

    def served_apis(self) -> list[str]:
        return self.config.run.served_apis()

    def provider_ids(self, api: str) -> list[str]:
        return [p.provider_id for p in self.providers if p.api == api]

    def provider_types(self, api: str) -> list[str]:
        return sorted({p.provider_type for p in self.providers if p.api == api})

    async def aclose(self) -> None:
        for provider in self.providers:
            await provider.aclose()
        if self.counter is not None:
            await self.counter.aclose()
        self.store.close()
