"""The model registry: durable in the metadata store, served from memory.

Listing is the hottest read of a stack, so the registry keeps every model in memory and
writes through to the store *before* it changes memory: what a client saw acknowledged is on
disk, and what is on disk is what the next start serves.
"""

from __future__ import annotations

import json
from typing import Any

from reference_server.errors import Conflict, NotFound
from reference_server.resources.models import Model
from reference_server.store.kvstore import SqliteKVStore

_PREFIX = "registry:model:"


class ModelRegistry:
    def __init__(self, store: SqliteKVStore) -> None:
        self._store = store
        self._models: dict[str, Model] = {}
        for _key, value in store.items(_PREFIX):
            model = Model.model_validate_json(value)
            self._models[model.identifier] = model
        self._listing: list[dict[str, Any]] | None = None

    def adopt_config(self, models: list[Model]) -> None:
        """Models named in run.yaml are authoritative at start-up: they replace stored ones."""
        for model in models:
            if self._models.get(model.identifier) != model:
                self._write(model)

    def _write(self, model: Model) -> None:
        self._store.set(_PREFIX + model.identifier, json.dumps(model.model_dump(), sort_keys=True))
        self._models[model.identifier] = model
        self._listing = None

    def listing(self) -> list[dict[str, Any]]:
        if self._listing is None:
            self._listing = [model.model_dump() for model in self._models.values()]
        return self._listing

    def models(self) -> list[Model]:
        return list(self._models.values())

    def get(self, identifier: str) -> Model:
        model = self._models.get(identifier)
        if model is None:
            raise NotFound(f"Model {identifier!r} not found")
        return model

    def register(self, model: Model) -> Model:
        existing = self._models.get(model.identifier)
        if existing is not None:
            if existing == model:
                return existing
            raise Conflict(
                f"Model {model.identifier!r} is already registered with a different definition; unregister it first"
            )
        self._write(model)
        return model

    def unregister(self, identifier: str) -> None:
        if identifier not in self._models:
            raise NotFound(f"Model {identifier!r} not found")
        self._store.delete(_PREFIX + identifier)
        del self._models[identifier]
        self._listing = None
