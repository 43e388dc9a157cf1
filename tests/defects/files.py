"""Defects of the files profile (conformance/checks/test_files.py): each route family of the Files API."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from reference_server.api import files as files_api
from reference_server.files import localfs
from reference_server.files.localfs import LocalFiles
from tests.defects.patching import (
    Apply,
    arguments_edited,
    json_rule,
    patch,
    rewrite_api,
    workers_without_shared_state,
)
from tests.defects.registry import defect, with_v1_twin

BOTH = {
    "FILES-001": "FILES-V1-001",
    "FILES-002": "FILES-V1-002",
    "FILES-003": "FILES-V1-003",
    "FILES-004": "FILES-V1-004",
}


def _both(requirement: str) -> tuple[str, str]:
    return requirement, BOTH[requirement]


def _upload(method: str, path: str, code: int) -> bool:
    return method == "POST" and path in files_api.PREFIXES and code == 200


def _content_short_by_one(method: str, path: str, code: int, body: bytes) -> tuple[int, bytes, str] | None:
    if method != "GET" or not path.endswith("/content") or code != 200:
        return None
    return code, body[:-1], "application/octet-stream"


def _unnamed_404(method: str, path: str, code: int) -> bool:
    return path.startswith(files_api.PREFIXES) and code == 404


def _page_edited(edit: Callable[[dict[str, Any]], dict[str, Any]]) -> Apply:
    return arguments_edited(LocalFiles, "page", ("after", "limit", "order", "purpose"), edit)


def _delete_keeps_it(original: Callable[..., Any]) -> Callable[..., Any]:
    async def delete(self: LocalFiles, identifier: str, viewer: Any) -> dict[str, Any]:
        self.get(identifier, viewer)
        return {"id": identifier, "object": "file", "deleted": True}

    return delete


defect("file-size-miscounted", *with_v1_twin("FILES-001"))(
    rewrite_api(json_rule(_upload, lambda body: {**body, "bytes": body["bytes"] + 1}))
)
defect("file-content-short", *with_v1_twin("FILES-001"))(rewrite_api(_content_short_by_one))
defect("file-listing-oldest-first", *with_v1_twin("FILES-002"))(_page_edited(lambda q: {**q, "order": "asc"}))
defect("file-listing-after-ignored", *with_v1_twin("FILES-002"))(_page_edited(lambda q: {**q, "after": None}))
defect("file-delete-keeps-it", *with_v1_twin("FILES-003"))(patch(LocalFiles, "delete", _delete_keeps_it))
defect("unknown-file-unnamed", *with_v1_twin("FILES-004"))(
    rewrite_api(json_rule(_unnamed_404, lambda body: {"error": {"message": "File not found"}}))
)
defect("file-purpose-unchecked", *with_v1_twin("FILES-004"))(patch(files_api, "check_purpose", lambda original: str))


def _store_forgotten_on_restart(original: Callable[..., Any]) -> Callable[..., Any]:
    def fresh_store(db_path: str, namespace: str | None = None) -> Any:
        return original(Path(tempfile.mkdtemp(prefix="forgetful-")) / "files.db", namespace)

    return fresh_store


# Metadata kept where no restart finds it: the bytes stay, unlisted, and are swept as orphans.
defect("files-forgotten-on-restart", "FILES-PERSIST-001")(patch(localfs, "SqliteKVStore", _store_forgotten_on_restart))
defect("files-known-to-one-worker", *with_v1_twin("FILES-001"))(
    workers_without_shared_state(r"^/v1(/openai/v1)?/files$")
)
