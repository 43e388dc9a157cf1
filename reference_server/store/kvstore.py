"""A small durable key-value store on sqlite, shared by the registry (and later quota, vectors).

Durability is the point: a registration is acknowledged only after its row is committed with
``synchronous=FULL``, so a ``kill -9`` after the 200 loses nothing. Operations are short, so
they run inline under a lock; a failing file becomes `Unavailable` (503), never a 500.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from reference_server.errors import Unavailable


class SqliteKVStore:
    def __init__(
        self, db_path: str | Path, namespace: str | None = None, synchronous: str = "FULL", busy_ms: int = 5000
    ) -> None:
        self.path = Path(db_path)
        self._prefix = f"{namespace}:" if namespace else ""
        self._lock = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
            self._db.execute(f"PRAGMA busy_timeout={int(busy_ms)}")
            self._db.execute("PRAGMA journal_mode=WAL")
            # FULL survives power loss; NORMAL (WAL) survives a killed process, at a fraction of the cost.
            self._db.execute(f"PRAGMA synchronous={'NORMAL' if synchronous == 'NORMAL' else 'FULL'}")
            self._db.execute("CREATE TABLE IF NOT EXISTS kvstore (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            self._db.execute("CREATE TABLE IF NOT EXISTS counters (key TEXT PRIMARY KEY, count INTEGER NOT NULL)")
        except (OSError, sqlite3.Error) as exc:
            raise Unavailable(f"cannot open store {str(self.path)!r}: {exc}") from None

    @contextmanager
    def _guard(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                yield self._db
            except sqlite3.Error as exc:
                raise Unavailable(f"store {str(self.path)!r} failed: {exc}") from None

    def get(self, key: str) -> str | None:
        with self._guard() as db:
            row = db.execute("SELECT value FROM kvstore WHERE key = ?", (self._prefix + key,)).fetchone()
        return None if row is None else str(row[0])

    def set(self, key: str, value: str) -> None:
        with self._guard() as db:
            db.execute(
                "INSERT INTO kvstore (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (self._prefix + key, value),
            )

    def delete(self, key: str) -> bool:
        with self._guard() as db:
            cursor = db.execute("DELETE FROM kvstore WHERE key = ?", (self._prefix + key,))
        return cursor.rowcount > 0

    def items(self, prefix: str) -> list[tuple[str, str]]:
        full = self._prefix + prefix
        with self._guard() as db:
            rows = db.execute(
                "SELECT key, value FROM kvstore WHERE substr(key, 1, ?) = ? ORDER BY key", (len(full), full)
            ).fetchall()
        return [(str(key)[len(self._prefix) :], str(value)) for key, value in rows]

    def increment(self, key: str) -> int:
        """Add one and return the new count, atomically even between processes sharing the file."""
        with self._guard() as db:
            row = db.execute(
                "INSERT INTO counters (key, count) VALUES (?, 1) "
                "ON CONFLICT(key) DO UPDATE SET count = count + 1 RETURNING count",
                (self._prefix + key,),
            ).fetchone()
        return int(row[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()
