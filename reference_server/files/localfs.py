"""``inline::localfs``: uploaded files, their bytes under ``storage_dir`` and their metadata in a
sqlite kvstore (``metadata_store``).

Durability is ordered so that nothing acknowledged is ever lost and nothing lost was ever
acknowledged: the bytes go to a temporary name, are fsynced and renamed into place (and the
folder fsynced), then the metadata row commits with ``synchronous=FULL``, and only then is the
upload answered. A ``kill -9`` before the commit leaves bytes nobody was told of; they are swept
at the next start. Deleting commits the row's removal first and unlinks the bytes after, so a
crash in between leaves the same kind of orphan, never a listed file without content.

A file belongs to the principal who uploaded it; `reference_server.resources.access` decides
who else sees it, as for models, and to anyone else it does not exist. A file past its
``expires_at`` is gone too (upstream's localfs ignores expiry; OpenAI does not).
"""

# Requirements (conformance/catalog.yaml): FILES-001, FILES-002, FILES-003, FILES-004, FILES-PERSIST-001,
#   ABAC-007

from __future__ import annotations

import json
import os
import re
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Literal

from reference_server.auth.principal import Principal
from reference_server.errors import InvalidRequest, NotFound, StartupFailure, Unavailable
from reference_server.providers.base import ProviderHandle
from reference_server.providers.catalog import LocalfsConfig
from reference_server.resources.access import can_see
from reference_server.resources.paging import page
from reference_server.store.kvstore import SqliteKVStore

PREFIX = "file:"
# What an upload may be for: upstream's upload purposes (OGX 1.5; 0.2.12 knew only "assistants").
PURPOSES = ("assistants", "batch", "fine-tune", "vision", "user_data", "evals")
# OpenAI's bounds on expires_after.seconds (one hour to thirty days), which upstream copies.
EXPIRY_BOUNDS_S = (3600, 2_592_000)
_ID = re.compile(r"^file-[0-9a-f]{32}$")
_PARTIAL = ".upload-"
_COPY_CHUNK = 1024 * 1024
Order = Literal["asc", "desc"]


def check_purpose(purpose: str) -> str:
    if purpose not in PURPOSES:
        raise InvalidRequest(f"purpose: {purpose!r} is not one of {', '.join(PURPOSES)}")
    return purpose


def check_expiry(anchor: str | None, seconds: str | None) -> int | None:
    """``expires_after[anchor]`` and ``expires_after[seconds]`` as OpenAI's SDK sends them."""
    if anchor is None and seconds is None:
        return None
    if anchor != "created_at":
        raise InvalidRequest(f"expires_after.anchor: {anchor!r} is not 'created_at'")
    low, high = EXPIRY_BOUNDS_S
    if seconds is None or not seconds.isdigit() or not low <= int(seconds) <= high:
        raise InvalidRequest(f"expires_after.seconds: {seconds!r} is not a whole number from {low} to {high}")
    return int(seconds)


@dataclass(frozen=True)
class StoredFile:
    sequence: int  # order of arrival: created_at has one-second steps
    wire: dict[str, Any]
    owner: dict[str, Any] | None

    @property
    def expired(self) -> bool:
        expires_at = self.wire.get("expires_at")
        return isinstance(expires_at, int) and expires_at <= time.time()


def _fsync_folder(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


@dataclass
class LocalFiles(ProviderHandle):
    def __post_init__(self) -> None:
        assert isinstance(self.config, LocalfsConfig)
        self.folder = Path(self.config.storage_dir)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StartupFailure(f"files provider {self.provider_id!r}: storage_dir: {exc}") from None
        metadata = self.config.metadata_store
        self._store = SqliteKVStore(metadata.db_path, metadata.namespace)
        self._files: dict[str, StoredFile] = {}
        for key, value in self._store.items(PREFIX):
            try:
                row = json.loads(value)
                self._files[key[len(PREFIX) :]] = StoredFile(int(row["sequence"]), dict(row["wire"]), row.get("owner"))
            except (ValueError, KeyError, TypeError) as exc:
                raise StartupFailure(
                    f"files metadata {str(self._store.path)!r}: corrupt entry {key!r}: {exc}"
                ) from None
        self._next = max((item.sequence for item in self._files.values()), default=0) + 1
        self._sweep_orphans()
        self._store.on_reopen.append(self._write_back)

    def _sweep_orphans(self) -> None:
        """Bytes whose upload never committed (a crash between write and commit)."""
        for path in self.folder.iterdir():
            orphan = path.name.startswith(_PARTIAL) or (_ID.match(path.name) and path.name not in self._files)
            if orphan and path.is_file():
                path.unlink(missing_ok=True)

    def _row(self, item: StoredFile) -> str:
        return json.dumps({"sequence": item.sequence, "wire": item.wire, "owner": item.owner})

    def _write_back(self) -> None:
        for identifier, item in self._files.items():
            self._store.set(PREFIX + identifier, self._row(item))

    def _path(self, identifier: str) -> Path:
        return self.folder / identifier  # identifiers are ours (_ID), never a client's path

    def _visible(self, identifier: str, viewer: Principal | None) -> StoredFile:
        item = self._files.get(identifier)
        if item is None or item.expired or not can_see(viewer, item.owner):
            raise NotFound(f"File {identifier!r} not found")
        return item

    def _write_bytes(self, source: IO[bytes], target: Path) -> int:
        partial = target.with_name(_PARTIAL + target.name)
        size = 0
        try:
            with partial.open("wb") as sink:
                while chunk := source.read(_COPY_CHUNK):
                    sink.write(chunk)
                    size += len(chunk)
                sink.flush()
                os.fsync(sink.fileno())
            partial.rename(target)
            _fsync_folder(self.folder)
        except OSError as exc:
            partial.unlink(missing_ok=True)
            raise Unavailable(f"files provider {self.provider_id!r} cannot store the upload: {exc}") from None
        return size

    def _commit(self, identifier: str, item: StoredFile) -> None:
        try:
            self._store.set(PREFIX + identifier, self._row(item))
        except Unavailable:
            self._path(identifier).unlink(missing_ok=True)
            raise

    async def create(
        self, source: IO[bytes], filename: str, purpose: str, expires_in: int | None, owner: Principal | None
    ) -> dict[str, Any]:
        assert isinstance(self.config, LocalfsConfig)
        identifier = f"file-{uuid.uuid4().hex}"
        size = await self._store.lane.run(self._write_bytes, source, self._path(identifier))
        created = int(time.time())
        wire = {
            "object": "file",
            "id": identifier,
            "bytes": size,
            "created_at": created,
            "expires_at": created + (expires_in if expires_in is not None else self.config.ttl_secs),
            "filename": filename,
            "purpose": purpose,
            "status": "processed",
        }
        item = StoredFile(self._next, wire, owner.as_owner() if owner else None)
        self._next += 1
        await self._store.lane.run(self._commit, identifier, item)
        self._files[identifier] = item
        return wire

    def get(self, identifier: str, viewer: Principal | None) -> dict[str, Any]:
        return self._visible(identifier, viewer).wire

    def content_path(self, identifier: str, viewer: Principal | None) -> tuple[Path, str]:
        item = self._visible(identifier, viewer)
        path = self._path(identifier)
        if not path.is_file():
            raise Unavailable(f"the bytes of file {identifier!r} are missing from {str(self.folder)!r}")
        return path, str(item.wire["filename"])

    async def delete(self, identifier: str, viewer: Principal | None) -> dict[str, Any]:
        self._visible(identifier, viewer)
        await self._store.lane.run(self._store.delete, PREFIX + identifier)
        self._files.pop(identifier, None)
        self._path(identifier).unlink(missing_ok=True)
        return {"id": identifier, "object": "file", "deleted": True}

    def page(
        self, viewer: Principal | None, after: str | None, limit: int, order: Order, purpose: str | None
    ) -> dict[str, Any]:
        visible = [
            (identifier, item)
            for identifier, item in self._files.items()
            if not item.expired and can_see(viewer, item.owner) and purpose in (None, item.wire["purpose"])
        ]
        visible.sort(key=lambda pair: (pair[1].wire["created_at"], pair[1].sequence), reverse=order == "desc")
        return page([(identifier, item.wire) for identifier, item in visible], after, limit, "file")

    def close(self) -> None:
        self._store.close()
