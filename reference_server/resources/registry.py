"""The model registry: durable in the metadata store, served from memory, filtered by owner.

Listing is the hottest read of a stack, so the registry keeps every model in memory and
writes through to the store *before* it changes memory: what a client saw acknowledged is on
disk, and what is on disk is what the next start serves. Each entry remembers who registered
it; `reference_server.resources.access` decides who else sees it.
"""

from __future__ import annotations

import json
from typing import Any

from reference_server.auth.principal import Principal
from reference_server.errors import Conflict, NotFound, Unavailable
from reference_server.resources.access import can_see
from reference_server.resources.models import Model
from reference_server.store.kvstore import SqliteKVStore

_PREFIX = "registry:model:"


class ModelRegistry:
    def __init__(self, store: SqliteKVStore) -> None:
        self._store = store
        self._models: dict[str, Model] = {}
        self._owners: dict[str, dict[str, Any] | None] = {}
        for key, value in store.items(_PREFIX):
            try:
                stored = json.loads(value)
                model = Model.model_validate(stored["model"])
            except (ValueError, KeyError, TypeError) as exc:
                raise Unavailable(f"metadata store {str(store.path)!r} has a corrupt entry {key!r}: {exc}") from None
            self._models[model.identifier] = model
            self._owners[model.identifier] = stored.get("owner")
        self._listing: list[dict[str, Any]] | None = None
        store.on_reopen.append(self._write_back)

    def _write_back(self) -> None:
        """The store's file was lost: persist everything acknowledged so far into the new one."""
        for identifier, model in self._models.items():
            record = {"model": model.model_dump(), "owner": self._owners.get(identifier)}
            self._store.set(_PREFIX + identifier, json.dumps(record, sort_keys=True))

    def adopt_config(self, models: list[Model]) -> None:
        """Models named in run.yaml are authoritative at start-up: they replace stored ones."""
        for model in models:
            if self._models.get(model.identifier) != model or self._owners.get(model.identifier) is not None:
                self._write(model, None)

    def _write(self, model: Model, owner: dict[str, Any] | None) -> None:
        record = {"model": model.model_dump(), "owner": owner}
        self._store.set(_PREFIX + model.identifier, json.dumps(record, sort_keys=True))
        self._models[model.identifier] = model
        self._owners[model.identifier] = owner
        self._listing = None

    def listing(self, viewer: Principal | None = None) -> list[dict[str, Any]]:
        if self._listing is None:
            self._listing = [model.model_dump() for model in self._models.values()]
        if viewer is None:
            return self._listing
        return [entry for entry in self._listing if can_see(viewer, self._owners.get(str(entry["identifier"])))]

    def models(self, viewer: Principal | None = None) -> list[Model]:
        return [m for m in self._models.values() if can_see(viewer, self._owners.get(m.identifier))]

    def get(self, identifier: str, viewer: Principal | None = None) -> Model:
        model = self._models.get(identifier)
        if model is None or not can_see(viewer, self._owners.get(identifier)):
            raise NotFound(f"Model {identifier!r} not found")
        return model

    def register(self, model: Model, owner: Principal | None = None) -> Model:
        existing = self._models.get(model.identifier)
        if existing is not None:
            if not can_see(owner, self._owners.get(model.identifier)):
                raise Conflict(f"Model id {model.identifier!r} is already taken")
            if existing == model:
                return existing
            raise Conflict(
                f"Model {model.identifier!r} is already registered with a different definition; unregister it first"
            )
        self._write(model, owner.as_owner() if owner else None)
        return model

    def unregister(self, identifier: str, viewer: Principal | None = None) -> None:
        self.get(identifier, viewer)
        self._store.delete(_PREFIX + identifier)
        del self._models[identifier]
        self._owners.pop(identifier, None)
        self._listing = None
