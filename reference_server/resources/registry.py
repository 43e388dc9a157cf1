"""Registries of resources (models, shields, vector dbs): durable in the metadata store, served
from memory, filtered by owner.

Listing is the hottest read of a stack, so a registry keeps every resource in memory and
writes through to the store *before* it changes memory: what a client saw acknowledged is on
disk, and what is on disk is what the next start serves. Each entry remembers who registered
it; `reference_server.resources.access` decides who else sees it.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, Generic, TypeVar

from reference_server.auth.principal import Principal
from reference_server.errors import Conflict, NotFound, Unavailable
from reference_server.resources.access import can_see
from reference_server.resources.models import Model, Resource
from reference_server.resources.shields import Shield
from reference_server.resources.vector_dbs import VectorDB
from reference_server.store.kvstore import SqliteKVStore

R = TypeVar("R", bound=Resource)


class ResourceRegistry(Generic[R]):
    """One kind of resource; ``label`` names it in messages ("Model 'x' not found")."""

    label = "Resource"
    field = "resource"  # the record's key for the resource itself: ``{field: ..., "owner": ...}``
    prefix = "registry:resource:"
    schema: type[Resource] = Resource
    # Fields of ``GET /v1/<kind>`` beside ``data`` (the models listing adds OpenAI's ``object``).
    envelope: dict[str, Any] = {}  # noqa: RUF012 (read-only class data)

    def __init__(self, store: SqliteKVStore) -> None:
        self._store = store
        self._mutations = asyncio.Lock()
        self._items: dict[str, R] = {}
        self._owners: dict[str, dict[str, Any] | None] = {}
        for key, value in store.items(self.prefix):
            try:
                stored = json.loads(value)
                item: R = self.schema.model_validate(stored[self.field])  # type: ignore[assignment]
            except (ValueError, KeyError, TypeError) as exc:
                raise Unavailable(f"metadata store {str(store.path)!r} has a corrupt entry {key!r}: {exc}") from None
            self._items[self._id(item)] = item
            self._owners[self._id(item)] = stored.get("owner")
        self._listing: list[dict[str, Any]] | None = None
        self._bodies: dict[tuple[str, ...], bytes] = {}
        store.on_reopen.append(self._write_back)

    @staticmethod
    def _id(item: R) -> str:
        return item.identifier

    def _record(self, item: R, owner: dict[str, Any] | None) -> str:
        # allow_nan=False: a value that is not JSON fails here, before anything is stored
        return json.dumps({self.field: item.model_dump(), "owner": owner}, sort_keys=True, allow_nan=False)

    def _write_back(self) -> None:
        """The store's file was lost: persist everything acknowledged so far into the new one."""
        for identifier, item in self._items.items():
            self._store.set(self.prefix + identifier, self._record(item, self._owners.get(identifier)))

    def adopt_config(self, items: list[R]) -> None:
        """Resources named in run.yaml are authoritative at start-up: they replace stored ones."""
        for item in items:
            identifier = self._id(item)
            if self._items.get(identifier) != item or self._owners.get(identifier) is not None:
                self._write(item, None)

    def _write(self, item: R, owner: dict[str, Any] | None) -> None:
        """At start-up only (no event loop yet): write through the store directly."""
        self._store.set(self.prefix + self._id(item), self._record(item, owner))
        self._remember(item, owner)

    def _remember(self, item: R, owner: dict[str, Any] | None) -> None:
        identifier = self._id(item)
        self._items[identifier] = item
        self._owners[identifier] = owner
        self._forget_listing()

    def _forget_listing(self) -> None:
        self._listing = None
        self._bodies = {}

    def listing_body(self, viewer: Principal | None = None) -> bytes:
        """The encoded ``GET /v1/<kind>`` answer for a viewer.

        Listing is the hottest read and changes rarely, so its JSON is encoded once per set of
        visible entries (one set without auth; one per distinct visibility with it) until the
        next change, instead of on every request."""
        entries = self.listing(viewer)
        key = tuple(str(entry["identifier"]) for entry in entries)
        body = self._bodies.get(key)
        if body is None:
            if len(self._bodies) >= 256:  # many distinct viewers: stay bounded
                self._bodies.clear()
            answer = {**self.envelope, "data": entries}
            encoded = json.dumps(answer, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
            body = self._bodies[key] = encoded.encode()
        return body

    def listing(self, viewer: Principal | None = None) -> list[dict[str, Any]]:
        if self._listing is None:
            self._listing = [item.wire() for item in self._items.values()]
        if viewer is None:
            return self._listing
        return [entry for entry in self._listing if can_see(viewer, self._owners.get(str(entry["identifier"])))]

    def all(self, viewer: Principal | None = None) -> list[R]:
        return [item for key, item in self._items.items() if can_see(viewer, self._owners.get(key))]

    def find(self, identifier: str, viewer: Principal | None = None) -> R | None:
        item = self._items.get(identifier)
        if item is None or not can_see(viewer, self._owners.get(identifier)):
            return None
        return item

    def get(self, identifier: str, viewer: Principal | None = None) -> R:
        item = self.find(identifier, viewer)
        if item is None:
            raise NotFound(f"{self.label} {identifier!r} not found")
        return item

    async def register(self, item: R, owner: Principal | None = None) -> R:
        """Refuse a taken id, else commit the row (on the store's lane) and then remember it.

        Registrations and removals of one registry run one at a time: the check for a taken id
        and the write must not interleave with another request's while the row is written."""
        async with self._mutations:
            identifier = self._id(item)
            existing = self._items.get(identifier)
            if existing is not None:
                if not can_see(owner, self._owners.get(identifier)):
                    raise Conflict(f"{self.label} id {identifier!r} is already taken")
                if existing == item:
                    return existing
                raise Conflict(
                    f"{self.label} {identifier!r} is already registered with a different definition; "
                    "unregister it first"
                )
            owned = owner.as_owner() if owner else None
            await self._store.lane.run(self._store.set, self.prefix + identifier, self._record(item, owned))
            self._remember(item, owned)
            return item

    async def unregister(self, identifier: str, viewer: Principal | None = None) -> None:
        async with self._mutations:
            self.get(identifier, viewer)
            await self._store.lane.run(self._store.delete, self.prefix + identifier)
            del self._items[identifier]
            self._owners.pop(identifier, None)
            self._forget_listing()


class ModelRegistry(ResourceRegistry[Model]):
    label = "Model"
    field = "model"
    prefix = "registry:model:"
    schema = Model
    envelope = {"object": "list"}  # noqa: RUF012 (read-only class data)

    def models(self, viewer: Principal | None = None) -> list[Model]:
        return self.all(viewer)


class ShieldRegistry(ResourceRegistry[Shield]):
    label = "Shield"
    field = "shield"
    prefix = "registry:shield:"
    schema = Shield


class VectorDBRegistry(ResourceRegistry[VectorDB]):
    label = "Vector DB"
    field = "vector_db"
    prefix = "registry:vector_db:"
    schema = VectorDB
