"""Builds a running stack from a validated config: store, registry, provider instances.

Two phases: `Stack.build` opens the store and instantiates providers (no network), and
`Stack.start` probes the providers and checks every model of the config against its backend,
before the server accepts a single request.
"""

# Requirements (conformance/catalog.yaml): REG-RUNTIME-001, REG-MISSING-003

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from reference_server.config.loader import StackConfig
from reference_server.errors import NotFound, NotImplementedHere, StackError, StartupFailure
from reference_server.files.localfs import LocalFiles
from reference_server.providers.base import ProviderHandle
from reference_server.providers.catalog import PROVIDER_SPECS, resolve
from reference_server.providers.remote import RemoteInferenceProvider
from reference_server.quota.counters import Counter, build_counter
from reference_server.resources.chat_completions import ChatCompletionStore
from reference_server.resources.models import Model
from reference_server.resources.registry import ModelRegistry, ShieldRegistry, VectorDBRegistry
from reference_server.resources.shields import Shield
from reference_server.resources.vector_dbs import VectorDB
from reference_server.resources.vector_stores import VectorStoreRecords
from reference_server.safety.llama_guard import LlamaGuardSafety
from reference_server.store.kvstore import SqliteKVStore
from reference_server.vector_io.base import VectorIOProvider

P = TypeVar("P", bound=ProviderHandle)


def _implementation(api: str, provider_type: str) -> type[ProviderHandle]:
    spec = PROVIDER_SPECS.get((api, provider_type))
    if spec is None or spec.implementation is None:
        return ProviderHandle  # validated and listed, health "Not Implemented"
    kind: type[ProviderHandle] = resolve(spec.implementation)
    return kind


log = logging.getLogger("reference_server.stack")


def default_metadata_path(image_name: str) -> Path:
    return Path(os.path.expanduser("~")) / ".llama" / "distributions" / image_name / "kvstore.db"


def inference_store_path(config: StackConfig, metadata: Path) -> Path:
    """The configured inference store, else a file beside the metadata store (the distribution's folder)."""
    configured = config.run.inference_store
    return Path(configured.db_path) if configured is not None else metadata.parent / "inference_store.db"


@dataclass
class Stack:
    config: StackConfig
    store: SqliteKVStore
    models: ModelRegistry
    shields: ShieldRegistry
    vector_dbs: VectorDBRegistry
    providers: list[ProviderHandle]
    chat_completions: ChatCompletionStore
    vector_stores: VectorStoreRecords
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
        providers: list[ProviderHandle] = []
        chat_store: SqliteKVStore | None = None
        try:
            chat_store = SqliteKVStore(inference_store_path(config, store.path), synchronous="NORMAL")
            for p in config.providers:
                providers.append(
                    _implementation(p.api, p.provider_type)(p.api, p.provider_id, p.provider_type, p.config)
                )
            quota = run.server.quota
            counter = build_counter(quota.kvstore) if quota is not None else None  # fails here, not mid-request
            return cls(
                config=config,
                store=store,
                models=ModelRegistry(store),
                shields=ShieldRegistry(store),
                vector_dbs=VectorDBRegistry(store),
                providers=providers,
                chat_completions=ChatCompletionStore(chat_store),
                vector_stores=VectorStoreRecords(store),
                counter=counter,
            )
        except BaseException:
            for provider in providers:
                provider.close()
            store.close()
            if chat_store is not None:
                chat_store.close()
            raise

    async def start(self) -> None:
        try:
            for provider in self.providers:
                await provider.start()
            adopted = [await self._verified_config_model(model) for model in self.config.models]
            self.models.adopt_config(adopted)
            self.shields.adopt_config(self.config.shields)
            self.vector_dbs.adopt_config(self.config.vector_dbs)
            for db in self.vector_dbs.all():
                if db.provider_id not in self.provider_ids("vector_io"):
                    # Its provider was switched off (e.g. ENABLE_SQLITE_VEC unset): keep it, serve the rest.
                    log.warning("vector db %r: provider %r is not configured now", db.identifier, db.provider_id)
                    continue
                try:
                    self.vector_io(db.provider_id).attach(db)
                except StackError as exc:
                    raise StartupFailure(f"vector db {db.identifier!r}: {exc.message}") from None
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

    def _provider(self, api: str, provider_id: str) -> ProviderHandle:
        for provider in self.providers:
            if provider.api == api and provider.provider_id == provider_id:
                return provider
        raise NotFound(f"Provider {provider_id!r} not found")

    def _implemented(self, provider: ProviderHandle, kind: type[P], api: str) -> P:
        if not isinstance(provider, kind):
            raise NotImplementedHere(
                f"provider {provider.provider_id!r} ({provider.provider_type}) does not serve {api} in this server"
            )
        return provider

    def inference(self, provider_id: str) -> RemoteInferenceProvider:
        return self._implemented(self._provider("inference", provider_id), RemoteInferenceProvider, "inference")

    def vector_io(self, provider_id: str) -> VectorIOProvider:
        return self._implemented(self._provider("vector_io", provider_id), VectorIOProvider, "vector_io")

    def files(self) -> LocalFiles:
        """The files provider (upstream routes the Files API to its one provider)."""
        provider = next((p for p in self.providers if p.api == "files"), None)
        if provider is None:
            raise NotImplementedHere("no files provider is configured")
        return self._implemented(provider, LocalFiles, "files")

    def safety(self, provider_id: str) -> LlamaGuardSafety:
        return self._implemented(self._provider("safety", provider_id), LlamaGuardSafety, "safety")

    def safety_provider_type(self, provider_id: str) -> str:
        return self._provider("safety", provider_id).provider_type

    async def embed(self, model: Model, texts: list[str]) -> list[list[float]]:
        model = await self.verified(model)
        return await self.inference(model.provider_id).embed(model.provider_resource_id, texts)

    async def judge(self, model_id: str, messages: list[dict[str, Any]]) -> str:
        """A deterministic chat completion for a shield: the shield, not the caller, chose the model."""
        model = await self.verified(self.models.get(model_id))
        return await self.inference(model.provider_id).chat_text(model.provider_resource_id, messages, temperature=0.0)

    def users_of_model(self, model_id: str) -> list[str]:
        """Resources that would break if the model went away."""
        shields: list[Shield] = self.shields.all()
        dbs: list[VectorDB] = self.vector_dbs.all()
        return [f"shield {s.identifier!r}" for s in shields if s.provider_resource_id == model_id] + [
            f"vector db {d.identifier!r}" for d in dbs if d.embedding_model == model_id
        ]

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
        for provider in self.providers:
            provider.close()
        self.store.close()
        self.chat_completions.close()
