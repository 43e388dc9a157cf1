"""A small durable key-value store on sqlite, shared by the registry (and later quota, vectors).

Durability is the point: a registration is acknowledged only after its row is committed with
``synchronous=FULL``, so a ``kill -9`` after the 200 loses nothing. Request paths call the store
through its `lane` (a thread of its own), never on the event loop; a failing file, or one locked
by another process for longer than the short busy timeout, becomes `Unavailable` (a prompt 503
naming the file), never a 500.

A file deleted or replaced under a running server would otherwise swallow every later write
(sqlite keeps writing to the unlinked inode). Before each write the store checks that its file
is still the one it opened; if not, it opens a new one and tells its owner (`on_reopen`), so
the owner can write back what it holds before anything more is acknowledged.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from reference_server.errors import Unavailable
from reference_server.store.lane import Lane

log = logging.getLogger("reference_server.store")


class SqliteKVStore:
    def __init__(
        self, db_path: str | Path, namespace: str | None = None, synchronous: str = "FULL", busy_ms: int = 1000
    ) -> None:
        self.path = Path(db_path)
        self._prefix = f"{namespace}:" if namespace else ""
        self._lock = threading.RLock()  # reentrant: on_reopen callbacks write through the store
        self._synchronous = "NORMAL" if synchronous == "NORMAL" else "FULL"
        self._busy_ms = int(busy_ms)
        self.on_reopen: list[Callable[[], None]] = []
        self._db, self._inode = self._open()
        self.lane = Lane(self.path.name)

    def _open(self) -> tuple[sqlite3.Connection, int]:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
            db.execute(f"PRAGMA busy_timeout={self._busy_ms}")
            db.execute("PRAGMA journal_mode=WAL")
            # FULL survives power loss; NORMAL (WAL) survives a killed process, at a fraction of the cost.
            db.execute(f"PRAGMA synchronous={self._synchronous}")
            db.execute("CREATE TABLE IF NOT EXISTS kvstore (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            db.execute("CREATE TABLE IF NOT EXISTS counters (key TEXT PRIMARY KEY, count INTEGER NOT NULL)")
            return db, os.stat(self.path).st_ino
        except (OSError, sqlite3.Error) as exc:
            raise Unavailable(f"cannot open store {str(self.path)!r}: {exc}") from None

    def _same_file(self) -> bool:
        try:
            return os.stat(self.path).st_ino == self._inode
        except OSError:
            return False

    def _ensure_file(self) -> None:
        """Reopen when the file was deleted or replaced; call with the lock held."""
        if self._same_file():
            return
        log.warning("store %s was deleted or replaced while in use; recreating it", self.path)
        self._db.close()
        self._db, self._inode = self._open()
        for callback in self.on_reopen:
            callback()

    @contextmanager
    def _guard(self, writing: bool = False) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                if writing:
                    self._ensure_file()
                yield self._db
            except sqlite3.Error as exc:
                raise Unavailable(f"store {str(self.path)!r} failed: {exc}") from None

    def get(self, key: str) -> str | None:
        with self._guard() as db:
            row = db.execute("SELECT value FROM kvstore WHERE key = ?", (self._prefix + key,)).fetchone()
        return None if row is None else str(row[0])

    def set(self, key: str, value: str) -> None:
        with self._guard(writing=True) as db:
            db.execute(
                "INSERT INTO kvstore (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (self._prefix + key, value),
            )

    def set_many(self, rows: dict[str, str]) -> None:
        """Write every row or none, in one transaction."""
        with self._guard(writing=True) as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                db.executemany(
                    "INSERT INTO kvstore (key, value) VALUES (?, ?) "
                    "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                    [(self._prefix + key, value) for key, value in rows.items()],
                )
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def delete_prefix(self, prefix: str) -> int:
        full = self._prefix + prefix
        with self._guard(writing=True) as db:
            cursor = db.execute("DELETE FROM kvstore WHERE substr(key, 1, ?) = ?", (len(full), full))
        return cursor.rowcount

    def delete(self, key: str) -> bool:
        with self._guard(writing=True) as db:
            cursor = db.execute("DELETE FROM kvstore WHERE key = ?", (self._prefix + key,))
        return cursor.rowcount > 0

    def items(self, prefix: str) -> list[tuple[str, str]]:
        full = self._prefix + prefix
        with self._guard() as db:
            rows = db.execute(
                "SELECT key, value FROM kvstore WHERE substr(key, 1, ?) = ? ORDER BY key", (len(full), full)
            ).fetchall()
        return [(str(key)[len(self._prefix) :], str(value)) for key, value in rows]

    def increment_many(self, keys: list[str]) -> list[int]:
        """Add one to each key (a key may repeat) and return each new count in order, in one
        transaction: atomic even between processes sharing the file, and one commit for all."""
        upsert = (
            "INSERT INTO counters (key, count) VALUES (?, 1) "
            "ON CONFLICT(key) DO UPDATE SET count = count + 1 RETURNING count"
        )
        with self._guard(writing=True) as db:
            if len(keys) == 1:  # a single statement is its own transaction
                return [int(db.execute(upsert, (self._prefix + keys[0],)).fetchone()[0])]
            db.execute("BEGIN IMMEDIATE")
            try:
                counts = [int(db.execute(upsert, (self._prefix + key,)).fetchone()[0]) for key in keys]
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
        return counts

    def close(self) -> None:
        self.lane.close()
        with self._lock:
            self._db.close()
