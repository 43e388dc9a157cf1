"""The records of OpenAI-style vector stores and of the files attached to them.

A vector store is also a vector db of the same id (as in upstream 0.2.x): its chunks live in a
vector IO provider and are reachable through ``/v1/vector-io`` too. What this module keeps is
the rest: each store's object (name, metadata, timestamps, owner), each attached file's
object, with the text of its chunks for ``.../content``, and each file batch (0.3+) with the
ids it was given. Rows go to the metadata store and are
committed before an answer names them. ``file_counts`` and ``usage_bytes`` are computed from
the files at read time, so they cannot drift from what is attached.

A store belongs to the principal who created it, under the policy of
`reference_server.resources.access`; to anyone else it, and everything in it, does not exist.
"""

# Requirements (conformance/catalog.yaml): VS-001, VS-002, VS-003, VS-004, VS-005, VS-V1-001, VS-V1-002,
#   VS-V1-003, VS-V1-004, VS-V1-005, VS-V1-006, VS-PERSIST-001, ABAC-008

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any, Literal, TypedDict

from reference_server.auth.principal import Principal
from reference_server.errors import NotFound, Unavailable
from reference_server.resources.access import can_see
from reference_server.resources.paging import page
from reference_server.store.kvstore import SqliteKVStore

STORE_PREFIX = "vector_store:"
FILE_PREFIX = "vector_store_file:"
BATCH_PREFIX = "vector_store_file_batch:"
STATUSES = ("in_progress", "completed", "cancelled", "failed")
Order = Literal["asc", "desc"]


class FileQuery(TypedDict):
    """A listing of a store's files: OpenAI's cursors, page size, order and status filter."""

    after: str | None
    before: str | None
    limit: int
    order: Order
    status: str | None


class VectorStoreNotFound(NotFound):
    """No vector store of that id is visible to the caller."""


@dataclass
class AttachedFile:
    sequence: int
    wire: dict[str, Any]  # the vector_store.file object, without the computed fields
    filename: str
    contents: list[str]  # the text of each chunk, in order


@dataclass
class FileBatch:
    wire: dict[str, Any]  # the vector_store.file_batch object, counts as they were when it ended
    file_ids: list[str]


@dataclass
class StoredVectorStore:
    sequence: int
    wire: dict[str, Any]
    owner: dict[str, Any] | None
    files: dict[str, AttachedFile] = field(default_factory=dict)
    batches: dict[str, FileBatch] = field(default_factory=dict)

    def view(self) -> dict[str, Any]:
        counts = dict.fromkeys(STATUSES, 0)
        for attached in self.files.values():
            counts[attached.wire["status"]] += 1
        return {
            **self.wire,
            "file_counts": {**counts, "total": len(self.files)},
            "usage_bytes": sum(int(f.wire["usage_bytes"]) for f in self.files.values()),
        }


class VectorStoreRecords:
    def __init__(self, store: SqliteKVStore) -> None:
        self._store = store
        self._stores: dict[str, StoredVectorStore] = {}
        try:
            for key, value in store.items(STORE_PREFIX):
                row = json.loads(value)
                self._stores[key[len(STORE_PREFIX) :]] = StoredVectorStore(
                    int(row["sequence"]), dict(row["wire"]), row.get("owner")
                )
            for key, value in store.items(FILE_PREFIX):
                store_id, _, file_id = key[len(FILE_PREFIX) :].partition(":")
                row = json.loads(value)
                if store_id in self._stores:
                    self._stores[store_id].files[file_id] = AttachedFile(
                        int(row["sequence"]), dict(row["wire"]), str(row["filename"]), list(row["contents"])
                    )
            for key, value in store.items(BATCH_PREFIX):
                store_id, _, batch_id = key[len(BATCH_PREFIX) :].partition(":")
                row = json.loads(value)
                if store_id in self._stores:
                    self._stores[store_id].batches[batch_id] = FileBatch(dict(row["wire"]), list(row["file_ids"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise Unavailable(f"store {str(store.path)!r} has a corrupt vector store row: {exc}") from None
        sequences = [s.sequence for s in self._stores.values()] + [
            f.sequence for s in self._stores.values() for f in s.files.values()
        ]
        self._next = max(sequences, default=0) + 1
        store.on_reopen.append(self._write_back)

    def _sequence(self) -> int:
        self._next += 1
        return self._next - 1

    def _store_row(self, item: StoredVectorStore) -> str:
        return json.dumps({"sequence": item.sequence, "wire": item.wire, "owner": item.owner})

    def _file_row(self, attached: AttachedFile) -> str:
        return json.dumps(
            {
                "sequence": attached.sequence,
                "wire": attached.wire,
                "filename": attached.filename,
                "contents": attached.contents,
            }
        )

    def _batch_row(self, batch: FileBatch) -> str:
        return json.dumps({"wire": batch.wire, "file_ids": batch.file_ids})

    def _write_back(self) -> None:
        for store_id, item in self._stores.items():
            self._store.set(STORE_PREFIX + store_id, self._store_row(item))
            for file_id, attached in item.files.items():
                self._store.set(f"{FILE_PREFIX}{store_id}:{file_id}", self._file_row(attached))
            for batch_id, batch in item.batches.items():
                self._store.set(f"{BATCH_PREFIX}{store_id}:{batch_id}", self._batch_row(batch))

    # Stores.

    def _visible(self, store_id: str, viewer: Principal | None) -> StoredVectorStore:
        item = self._stores.get(store_id)
        if item is None or not can_see(viewer, item.owner):
            raise VectorStoreNotFound(f"Vector store {store_id!r} not found")
        return item

    def get(self, store_id: str, viewer: Principal | None) -> dict[str, Any]:
        return self._visible(store_id, viewer).view()

    def holds(self, store_id: str) -> bool:
        """Whether a vector store of this id exists, whoever may see it."""
        return store_id in self._stores

    async def create(self, wire: dict[str, Any], owner: Principal | None) -> dict[str, Any]:
        item = StoredVectorStore(self._sequence(), wire, owner.as_owner() if owner else None)
        await self._store.lane.run(self._store.set, STORE_PREFIX + wire["id"], self._store_row(item))
        self._stores[wire["id"]] = item
        return item.view()

    async def update(self, store_id: str, viewer: Principal | None, changes: dict[str, Any]) -> dict[str, Any]:
        item = self._visible(store_id, viewer)
        wire = {**item.wire, **changes, "last_active_at": max(int(time.time()), int(item.wire["last_active_at"]) + 1)}
        updated = StoredVectorStore(item.sequence, wire, item.owner, item.files, item.batches)
        await self._store.lane.run(self._store.set, STORE_PREFIX + store_id, self._store_row(updated))
        self._stores[store_id] = updated
        return updated.view()

    async def delete(self, store_id: str, viewer: Principal | None) -> None:
        self._visible(store_id, viewer)
        await self._store.lane.run(self._store.delete_prefix, f"{FILE_PREFIX}{store_id}:")
        await self._store.lane.run(self._store.delete_prefix, f"{BATCH_PREFIX}{store_id}:")
        await self._store.lane.run(self._store.delete, STORE_PREFIX + store_id)
        del self._stores[store_id]

    def page(
        self, viewer: Principal | None, after: str | None, before: str | None, limit: int, order: Order
    ) -> dict[str, Any]:
        visible = [(i, s) for i, s in self._stores.items() if can_see(viewer, s.owner)]
        visible.sort(key=lambda pair: (pair[1].wire["created_at"], pair[1].sequence), reverse=order == "desc")
        return page([(i, s.view()) for i, s in visible], after, limit, "vector store", before)

    # Files of a store.

    def file(self, store_id: str, file_id: str, viewer: Principal | None) -> AttachedFile:
        attached = self._visible(store_id, viewer).files.get(file_id)
        if attached is None:
            raise NotFound(f"File {file_id!r} not found in vector store {store_id!r}")
        return attached

    def files(self, store_id: str, viewer: Principal | None) -> dict[str, AttachedFile]:
        return self._visible(store_id, viewer).files

    async def attach(
        self, store_id: str, viewer: Principal | None, wire: dict[str, Any], filename: str, contents: list[str]
    ) -> dict[str, Any]:
        item = self._visible(store_id, viewer)
        attached = AttachedFile(self._sequence(), wire, filename, contents)
        key = f"{FILE_PREFIX}{store_id}:{wire['id']}"
        await self._store.lane.run(self._store.set, key, self._file_row(attached))
        item.files[wire["id"]] = attached
        return wire

    async def set_attributes(
        self, store_id: str, file_id: str, viewer: Principal | None, attributes: dict[str, Any]
    ) -> dict[str, Any]:
        attached = self.file(store_id, file_id, viewer)
        changed = AttachedFile(
            attached.sequence, {**attached.wire, "attributes": attributes}, attached.filename, attached.contents
        )
        await self._store.lane.run(self._store.set, f"{FILE_PREFIX}{store_id}:{file_id}", self._file_row(changed))
        self._stores[store_id].files[file_id] = changed
        return changed.wire

    async def detach(self, store_id: str, file_id: str, viewer: Principal | None) -> None:
        self.file(store_id, file_id, viewer)
        await self._store.lane.run(self._store.delete, f"{FILE_PREFIX}{store_id}:{file_id}")
        del self._stores[store_id].files[file_id]

    def page_files(
        self,
        store_id: str,
        viewer: Principal | None,
        *,
        after: str | None,
        before: str | None,
        limit: int,
        order: Order,
        status: str | None,
        only: set[str] | None = None,
    ) -> dict[str, Any]:
        """``only``: the ids of one file batch, whose files are listed the same way."""
        chosen = [
            (file_id, attached)
            for file_id, attached in self.files(store_id, viewer).items()
            if status in (None, attached.wire["status"]) and (only is None or file_id in only)
        ]
        chosen.sort(key=lambda pair: (pair[1].wire["created_at"], pair[1].sequence), reverse=order == "desc")
        return page([(i, f.wire) for i, f in chosen], after, limit, "file", before)

    # File batches.

    def batch(self, store_id: str, batch_id: str, viewer: Principal | None) -> FileBatch:
        batch = self._visible(store_id, viewer).batches.get(batch_id)
        if batch is None:
            raise NotFound(f"File batch {batch_id!r} not found in vector store {store_id!r}")
        return batch

    async def add_batch(self, store_id: str, viewer: Principal | None, batch: FileBatch) -> dict[str, Any]:
        item = self._visible(store_id, viewer)
        key = f"{BATCH_PREFIX}{store_id}:{batch.wire['id']}"
        await self._store.lane.run(self._store.set, key, self._batch_row(batch))
        item.batches[batch.wire["id"]] = batch
        return batch.wire
