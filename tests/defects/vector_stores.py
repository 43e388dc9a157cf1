"""Defects of the vector-stores profile (conformance/checks/test_vector_stores.py): each route family."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from starlette.types import Receive, Scope, Send

from reference_server.api import vector_stores as vector_stores_api
from reference_server.resources.vector_stores import VectorStoreRecords
from tests.defects.patching import (
    Rewrite,
    does_nothing,
    json_rule,
    patch,
    rewrite_api,
    rewrite_requests,
    without,
    workers_without_shared_state,
    wrap_app,
)
from tests.defects.registry import defect, with_v1_twin
from tests.defects.vector_io import faiss_not_reloaded

_FILE_OF_A_STORE = re.compile(r"^/v1(/openai/v1)?/vector_stores/[^/]+/files/[^/]+$")


def _search_edited(edit: Callable[[list[dict[str, Any]]], list[dict[str, Any]]]) -> Rewrite:
    def rule(method: str, path: str, code: int, body: bytes) -> tuple[int, bytes, str] | None:
        if method != "POST" or not path.endswith("/search") or code != 200:
            return None
        page = json.loads(body)
        return code, json.dumps({**page, "data": edit(page["data"])}).encode(), "application/json"

    return rule


def _exact_match_scored_null(hits: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What faiss's 1/distance makes of a distance of 0 in 0.7.3 and OGX: infinity, sent as null."""
    return [{**hit, "score": None} if hit.get("score", 0) > 0.999 else hit for hit in hits]


def _unnamed(method: str, path: str, code: int) -> bool:
    return "/vector_stores" in path and 400 <= code < 500


def _detach_only_said(app: Any) -> Any:
    """DELETE of a store's file answered as done, and nothing done: its chunks stay searchable."""

    async def answered(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "DELETE" and _FILE_OF_A_STORE.match(scope["path"]):
            file_id = scope["path"].rsplit("/", 1)[1]
            body = json.dumps({"id": file_id, "object": "vector_store.file.deleted", "deleted": True}).encode()
            headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        await app(scope, receive, send)

    return answered


def _update_ignored(original: Any) -> Any:
    async def update(self: VectorStoreRecords, store_id: str, viewer: Any, changes: dict[str, Any]) -> Any:
        return await original(self, store_id, viewer, {})

    return update


defect("vector-store-delete-keeps-it", *with_v1_twin("VS-001"))(does_nothing(VectorStoreRecords, "delete"))
defect("vector-store-update-ignored", *with_v1_twin("VS-001"))(patch(VectorStoreRecords, "update", _update_ignored))
defect("search-drops-the-best-hit", *with_v1_twin("VS-002"))(rewrite_api(_search_edited(lambda hits: hits[1:])))
defect("exact-match-scored-null", *with_v1_twin("VS-002"))(rewrite_api(_search_edited(_exact_match_scored_null)))
defect("detached-file-still-searchable", *with_v1_twin("VS-003"))(wrap_app(_detach_only_said))
defect("search-filters-ignored", *with_v1_twin("VS-004"))(
    patch(vector_stores_api, "matches", lambda original: lambda attributes, spec: True)
)
defect("unknown-vector-store-unnamed", *with_v1_twin("VS-005"))(
    rewrite_api(json_rule(_unnamed, lambda body: {"error": {"message": "Not found"}}))
)


def _batch_lists_whole_store(original: Any) -> Any:
    def listed(self: VectorStoreRecords, store_id: str, viewer: Any, **query: Any) -> Any:
        return original(self, store_id, viewer, **{**query, "only": None})

    return listed


def _attributes_dropped(original: Any) -> Any:
    async def attached(*args: Any, **kwargs: Any) -> Any:
        return await original(*args, **{**kwargs, "attributes": None})

    return attached


defect("file-batch-lists-the-whole-store", "VS-V1-006")(
    patch(VectorStoreRecords, "page_files", _batch_lists_whole_store)
)
defect("file-batch-drops-attributes", "VS-V1-006")(patch(vector_stores_api, "_attach", _attributes_dropped))


def _forgotten_on_restart(original: Any) -> Any:
    """The records are written but never read back: every start begins with no vector stores."""

    def init(self: VectorStoreRecords, store: Any) -> None:
        original(self, store)
        self._stores.clear()

    return init


defect("vector-stores-forgotten-on-restart", "VS-PERSIST-001")(
    patch(VectorStoreRecords, "__init__", _forgotten_on_restart)
)
defect("vector-store-index-not-reloaded", "VS-PERSIST-001")(faiss_not_reloaded)
defect("vector-store-model-ignored", "VS-EMBED-001")(
    rewrite_requests(vector_stores_api.PREFIXES, without("embedding_model", "embedding_dimension"))
)
defect("vector-stores-known-to-one-worker", *with_v1_twin("VS-001"))(
    workers_without_shared_state(r"^/v1(/openai/v1)?/vector_stores$")
)
defect("attachments-known-to-one-worker", *with_v1_twin("VS-002"))(
    workers_without_shared_state(r"^/v1(/openai/v1)?/vector_stores/[^/]+/files$")
)
