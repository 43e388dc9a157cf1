"""``inline::faiss``: an in-memory faiss index per vector db, persisted through its kvstore.

Each inserted chunk is one row of the kvstore (``faiss_store.db``) holding the chunk and its
normalised float32 vector; a batch is one transaction, committed before the insert is
acknowledged. At start-up the index is rebuilt from those rows, so it survives a restart or a
``kill -9`` exactly as far as the acknowledged inserts go. Vectors are normalised so the inner
product index scores by cosine similarity. faiss is imported only when a config uses it.
"""

# Requirements (conformance/catalog.yaml): VEC-PERSIST-001

from __future__ import annotations

import base64
import importlib
import json
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any
from urllib.parse import quote

from reference_server.errors import StartupFailure, Unavailable
from reference_server.providers.catalog import FaissConfig
from reference_server.resources.vector_dbs import VectorDB
from reference_server.store.kvstore import SqliteKVStore
from reference_server.vector_io.base import Chunk, VectorIOProvider


def _import(name: str, package: str) -> ModuleType:
    try:
        return importlib.import_module(name)
    except ImportError:
        raise StartupFailure(f"inline::faiss needs the {package} package: pip install {package}") from None


@dataclass
class _Index:
    index: Any
    chunks: list[Chunk] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)  # each chunk's row, in index order
    next: int = 0  # the position the next chunk's row is written at (rows removed leave gaps)


@dataclass
class FaissVectorIO(VectorIOProvider):
    def __post_init__(self) -> None:
        assert isinstance(self.config, FaissConfig)
        super().__post_init__()
        self._faiss = _import("faiss", "faiss-cpu")
        self._np = _import("numpy", "numpy")
        kvstore = self.config.kvstore
        self._store = SqliteKVStore(kvstore.db_path, kvstore.namespace)
        self._indexes: dict[str, _Index] = {}
        self._dbs: dict[str, VectorDB] = {}
        self._store.on_reopen.append(self._write_back)

    @staticmethod
    def _prefix(db: VectorDB) -> str:
        return f"faiss:chunk:{quote(db.identifier, safe='')}:"

    def _normalised(self, vectors: list[list[float]], dimension: int) -> Any:
        array = self._np.asarray(vectors, dtype="float32").reshape(-1, dimension)
        norms = self._np.linalg.norm(array, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return array / norms

    def attach(self, db: VectorDB) -> None:
        index = _Index(self._faiss.IndexFlatIP(db.embedding_dimension))
        rows = []
        for key, value in self._store.items(self._prefix(db)):
            try:
                record = json.loads(value)
                vector = self._np.frombuffer(base64.b64decode(record["vector"]), dtype="float32")
            except (ValueError, KeyError, TypeError) as exc:
                raise Unavailable(f"faiss store {str(self._store.path)!r} has a corrupt row {key!r}: {exc}") from None
            if vector.shape[0] != db.embedding_dimension:
                raise Unavailable(
                    f"vector db {db.identifier!r} holds {vector.shape[0]}-dimensional vectors in "
                    f"{str(self._store.path)!r} but is registered with dimension {db.embedding_dimension}"
                )
            rows.append(vector)
            index.chunks.append(record["chunk"])
            index.keys.append(key)
            index.next = max(index.next, int(key.rsplit(":", 1)[1]) + 1)
        if rows:
            index.index.add(self._np.stack(rows))
        self._indexes[db.identifier] = index
        self._dbs[db.identifier] = db

    def _rows(self, db: VectorDB, first: int, chunks: list[Chunk], array: Any) -> dict[str, str]:
        return {
            f"{self._prefix(db)}{first + offset:012d}": json.dumps(
                {"chunk": chunk, "vector": base64.b64encode(array[offset].tobytes()).decode()}, allow_nan=False
            )
            for offset, chunk in enumerate(chunks)
        }

    def _write_back(self) -> None:
        """The store's file was lost under us: persist every chunk held in memory into the new one."""
        for identifier, index in self._indexes.items():
            if index.chunks:
                vectors = index.index.reconstruct_n(0, len(index.chunks))
                rows = self._rows(self._dbs[identifier], 0, index.chunks, vectors)
                self._store.set_many(dict(zip(index.keys, rows.values(), strict=True)))

    def _loaded(self, db: VectorDB) -> _Index:
        if db.identifier not in self._indexes:
            self.attach(db)
        return self._indexes[db.identifier]

    def insert(self, db: VectorDB, chunks: list[Chunk], vectors: list[list[float]]) -> None:
        index = self._loaded(db)
        array = self._normalised(vectors, db.embedding_dimension)
        rows = self._rows(db, index.next, chunks, array)
        # Committed first: memory never holds what the disk does not.
        self._store.set_many(rows)
        index.index.add(array)
        index.chunks.extend(chunks)
        index.keys.extend(rows)
        index.next += len(chunks)

    def query(self, db: VectorDB, vector: list[float], limit: int) -> list[tuple[Chunk, float]]:
        index = self._loaded(db)
        if not index.chunks:
            return []
        scores, positions = index.index.search(self._normalised([vector], db.embedding_dimension), limit)
        return [
            (index.chunks[int(position)], float(score))
            for score, position in zip(scores[0], positions[0], strict=True)
            if position >= 0
        ]

    def remove(self, db: VectorDB, key: str, value: str) -> int:
        index = self._loaded(db)
        doomed = [
            k
            for k, chunk in zip(index.keys, index.chunks, strict=True)
            if (chunk.get("metadata") or {}).get(key) == value
        ]
        for row in doomed:
            self._store.delete(row)
        if doomed:
            self.attach(db)  # the flat index cannot drop rows in place: rebuilt from what is left
        return len(doomed)

    def drop(self, db: VectorDB) -> None:
        self._store.delete_prefix(self._prefix(db))
        self._indexes.pop(db.identifier, None)
        self._dbs.pop(db.identifier, None)

    def close(self) -> None:
        self.lane.close()
        self._store.close()
