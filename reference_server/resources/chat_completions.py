"""Stored chat completions (upstream's ``inference_store``): what an OpenAI chat answered, read back later.

Every chat completion the OpenAI-compatible routes answer is kept with the messages it answered,
under the principal who asked; `reference_server.resources.access` decides who else sees it, as
for models, and to anyone else it does not exist. Listing walks the store in memory (newest first
unless asked otherwise); a row is committed before the answer that announced its id is sent.
"""

# Requirements (conformance/catalog.yaml): INF-STORE-001, INF-V1-STORE-001, INF-STORE-002, INF-V1-STORE-002,
#   ABAC-006

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from reference_server.auth.principal import Principal
from reference_server.errors import NotFound, Unavailable
from reference_server.resources.access import can_see
from reference_server.resources.paging import page
from reference_server.store.kvstore import SqliteKVStore

PREFIX = "chat_completion:"
Order = Literal["asc", "desc"]


@dataclass(frozen=True)
class Stored:
    sequence: int  # the order of arrival: ``created`` has one-second steps
    record: dict[str, Any]  # the completion's fields and ``input_messages``
    owner: dict[str, Any] | None


def _created(record: dict[str, Any]) -> int:
    """A backend's ``created`` that is not an integer sorts as 0 rather than failing the listing."""
    created = record.get("created")
    return created if isinstance(created, int) and not isinstance(created, bool) else 0


class ChatCompletionStore:
    def __init__(self, store: SqliteKVStore) -> None:
        self._store = store
        self._items: dict[str, Stored] = {}
        for key, value in store.items(PREFIX):
            try:
                row = json.loads(value)
                self._items[key[len(PREFIX) :]] = Stored(int(row["sequence"]), dict(row["record"]), row.get("owner"))
            except (ValueError, KeyError, TypeError) as exc:
                raise Unavailable(f"inference store {str(store.path)!r} has a corrupt entry {key!r}: {exc}") from None
        self._next = max((item.sequence for item in self._items.values()), default=0) + 1
        store.on_reopen.append(self._write_back)

    def _row(self, item: Stored) -> str:
        return json.dumps({"sequence": item.sequence, "record": item.record, "owner": item.owner}, allow_nan=False)

    def _write_back(self) -> None:
        for identifier, item in self._items.items():
            self._store.set(PREFIX + identifier, self._row(item))

    async def add(self, completion: dict[str, Any], messages: list[Any], owner: Principal | None) -> None:
        identifier = completion.get("id")
        if not isinstance(identifier, str) or not identifier:
            return  # a backend answer without an id cannot be read back by one
        record = {**completion, "object": "chat.completion", "input_messages": messages}
        item = Stored(self._next, record, owner.as_owner() if owner else None)
        self._next += 1
        await self._store.lane.run(self._store.set, PREFIX + identifier, self._row(item))
        self._items[identifier] = item

    def get(self, identifier: str, viewer: Principal | None) -> dict[str, Any]:
        item = self._items.get(identifier)
        if item is None or not can_see(viewer, item.owner):
            raise NotFound(f"Chat completion {identifier!r} not found")
        return item.record

    def page(
        self, viewer: Principal | None, after: str | None, limit: int, model: str | None, order: Order
    ) -> dict[str, Any]:
        visible = [
            (identifier, item)
            for identifier, item in self._items.items()
            if can_see(viewer, item.owner) and (model is None or item.record.get("model") == model)
        ]
        visible.sort(key=lambda pair: (_created(pair[1].record), pair[1].sequence), reverse=order == "desc")
        return page([(identifier, item.record) for identifier, item in visible], after, limit, "chat completion")

    def close(self) -> None:
        self._store.close()
