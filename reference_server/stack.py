"""Builds a running stack from a validated config: store, registry, provider instances."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from reference_server.config.loader import StackConfig
from reference_server.providers.base import ProviderHandle
from reference_server.resources.registry import ModelRegistry
from reference_server.store.kvstore import SqliteKVStore


def default_metadata_path(image_name: str) -> Path:
    return Path(os.path.expanduser("~")) / ".llama" / "distributions" / image_name / "kvstore.db"


@dataclass
class Stack:
    config: StackConfig
    store: SqliteKVStore
    models: ModelRegistry
    providers: list[ProviderHandle]

    @classmethod
    def build(cls, config: StackConfig) -> Stack:
        run = config.run
        if run.metadata_store is not None:
            store = SqliteKVStore(run.metadata_store.db_path, run.metadata_store.namespace)
        else:
            store = SqliteKVStore(default_metadata_path(run.image_name))
        providers = [ProviderHandle(p.api, p.provider_id, p.provider_type, p.config) for p in config.providers]
        models = ModelRegistry(store)
        models.adopt_config(config.models)
        return cls(config=config, store=store, models=models, providers=providers)

    def served_apis(self) -> list[str]:
        return self.config.run.served_apis()

    def provider_ids(self, api: str) -> list[str]:
        return [p.provider_id for p in self.providers if p.api == api]

    def provider_types(self, api: str) -> list[str]:
        return sorted({p.provider_type for p in self.providers if p.api == api})

    def close(self) -> None:
        self.store.close()
