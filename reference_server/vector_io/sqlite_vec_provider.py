"""``inline::sqlite-vec``: vectors in a ``vec0`` virtual table per vector db, chunks beside them.

The seed's pull request made this provider opt-in (``ENABLE_SQLITE_VEC``) because its binaries
are not everywhere. It needs an sqlite3 that can load extensions: Python's own where it was
built with them, else ``pysqlite3`` (the package depends on both). A missing piece
stops start-up with one line saying what to install. Distances are cosine, turned into
similarities so scores match ``inline::faiss``.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from reference_server.errors import StartupFailure, Unavailable
from reference_server.providers.catalog import SqliteVecConfig
from reference_server.resources.vector_dbs import VectorDB
from reference_server.vector_io.base import Chunk, VectorIOProvider

# Both are dependencies of the package; these hints are for an environment that lost them.
INSTALL_HINT = "pip install sqlite-vec"
PYSQLITE_HINT = "pip install pysqlite3-binary, or use a Python whose sqlite3 can load extensions"


def sqlite_with_extensions() -> ModuleType:
    """An sqlite3 module whose connections can load extensions."""
    if hasattr(sqlite3.Connection, "enable_load_extension"):
        return sqlite3
    try:
        return importlib.import_module("pysqlite3.dbapi2")
    except ImportError:
        raise StartupFailure(
            f"inline::sqlite-vec needs an sqlite3 that can load extensions, and this Python's cannot; {PYSQLITE_HINT}"
        ) from None


def _table(db: VectorDB) -> str:
    return "vec_" + hashlib.sha256(db.identifier.encode()).hexdigest()[:24]


@dataclass
class SqliteVecVectorIO(VectorIOProvider):
    def __post_init__(self) -> None:
        assert isinstance(self.config, SqliteVecConfig)
        super().__post_init__()
        try:
            sqlite_vec = importlib.import_module("sqlite_vec")
        except ImportError:
            raise StartupFailure(f"inline::sqlite-vec needs the sqlite-vec package: {INSTALL_HINT}") from None
        self._sqlite = sqlite_with_extensions()
        self._serialize = sqlite_vec.serialize_float32
        self.path = Path(self.config.db_path)
        self._lock = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = self._sqlite.connect(str(self.path), check_same_thread=False, isolation_level=None)
            self._db.enable_load_extension(True)
            sqlite_vec.load(self._db)
            self._db.enable_load_extension(False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS chunks (db TEXT NOT NULL, seq INTEGER NOT NULL, chunk TEXT NOT NULL, "
                "PRIMARY KEY (db, seq))"
            )
        except (OSError, self._sqlite.Error) as exc:
            raise StartupFailure(f"inline::sqlite-vec cannot open {str(self.path)!r}: {exc}") from None

    @contextmanager
    def _guard(self, transaction: bool = False) -> Iterator[Any]:
        with self._lock:
            try:
                if transaction:
                    self._db.execute("BEGIN IMMEDIATE")
                try:
                    yield self._db
                except BaseException:
                    if transaction:
                        self._db.execute("ROLLBACK")
                    raise
                if transaction:
                    self._db.execute("COMMIT")
            except self._sqlite.Error as exc:
                raise Unavailable(f"sqlite-vec store {str(self.path)!r} failed: {exc}") from None

    def attach(self, db: VectorDB) -> None:
        with self._guard() as conn:
            conn.execute(
                f"CREATE VIRTUAL TABLE IF NOT EXISTS {_table(db)} "
                f"USING vec0(embedding float[{db.embedding_dimension}] distance_metric=cosine)"
            )

    def insert(self, db: VectorDB, chunks: list[Chunk], vectors: list[list[float]]) -> None:
        self.attach(db)
        with self._guard(transaction=True) as conn:
            row = conn.execute("SELECT COALESCE(MAX(seq), 0) FROM chunks WHERE db = ?", (db.identifier,)).fetchone()
            first = int(row[0]) + 1
            for offset, (chunk, vector) in enumerate(zip(chunks, vectors, strict=True)):
                conn.execute(
                    "INSERT INTO chunks (db, seq, chunk) VALUES (?, ?, ?)",
                    (db.identifier, first + offset, json.dumps(chunk, allow_nan=False)),
                )
                conn.execute(
                    f"INSERT INTO {_table(db)} (rowid, embedding) VALUES (?, ?)",
                    (first + offset, self._serialize(vector)),
                )

    def query(self, db: VectorDB, vector: list[float], limit: int) -> list[tuple[Chunk, float]]:
        self.attach(db)
        with self._guard() as conn:
            nearest = conn.execute(
                f"SELECT rowid, distance FROM {_table(db)} WHERE embedding MATCH ? AND k = ? ORDER BY distance",
                (self._serialize(vector), limit),
            ).fetchall()
            hits = []
            for rowid, distance in nearest:
                stored = conn.execute(
                    "SELECT chunk FROM chunks WHERE db = ? AND seq = ?", (db.identifier, rowid)
                ).fetchone()
                if stored is not None:
                    hits.append((json.loads(stored[0]), 1.0 - float(distance)))
        return hits

    def remove(self, db: VectorDB, key: str, value: str) -> int:
        self.attach(db)
        with self._guard(transaction=True) as conn:
            rows = conn.execute("SELECT seq, chunk FROM chunks WHERE db = ?", (db.identifier,)).fetchall()
            doomed = [seq for seq, chunk in rows if (json.loads(chunk).get("metadata") or {}).get(key) == value]
            for seq in doomed:
                conn.execute("DELETE FROM chunks WHERE db = ? AND seq = ?", (db.identifier, seq))
                conn.execute(f"DELETE FROM {_table(db)} WHERE rowid = ?", (seq,))
        return len(doomed)

    def drop(self, db: VectorDB) -> None:
        with self._guard(transaction=True) as conn:
            conn.execute(f"DROP TABLE IF EXISTS {_table(db)}")
            conn.execute("DELETE FROM chunks WHERE db = ?", (db.identifier,))

    def close(self) -> None:
        self.lane.close()
        with self._lock:
            self._db.close()
