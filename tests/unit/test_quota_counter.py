"""The sqlite quota counter commits concurrent increments in groups; each count stays exact."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from reference_server.errors import Unavailable
from reference_server.quota.counters import SqliteCounter
from reference_server.store.config import SqliteKVStoreConfig
from reference_server.store.kvstore import SqliteKVStore


def counter(path: Path) -> SqliteCounter:
    return SqliteCounter(SqliteKVStoreConfig(type="sqlite", db_path=str(path)))


async def test_concurrent_increments_each_get_their_own_count(tmp_path: Path) -> None:
    quota = counter(tmp_path / "quota.db")
    try:
        counts = await asyncio.gather(*(quota.increment("a" if n % 3 else "b", 0) for n in range(60)))
    finally:
        await quota.aclose()
    a = [count for n, count in enumerate(counts) if n % 3]
    b = [count for n, count in enumerate(counts) if not n % 3]
    # each key counted 1, 2, 3, ... in the order asked, none repeated, none skipped
    assert (a, b) == (list(range(1, 41)), list(range(1, 21)))


async def test_every_count_is_committed_before_it_is_answered(tmp_path: Path) -> None:
    quota = counter(tmp_path / "quota.db")
    try:
        await asyncio.gather(*(quota.increment("k", 0) for _ in range(25)))
        # another connection, as another process would read it
        with sqlite3.connect(tmp_path / "quota.db") as other:
            assert other.execute("SELECT count FROM counters WHERE key = 'k'").fetchone() == (25,)
    finally:
        await quota.aclose()


async def test_a_failing_store_fails_every_waiting_increment(tmp_path: Path) -> None:
    quota = counter(tmp_path / "quota.db")
    blocker = sqlite3.connect(tmp_path / "quota.db", timeout=0)
    blocker.execute("BEGIN EXCLUSIVE")  # another process holds the file past the busy timeout
    try:
        outcomes = await asyncio.gather(*(quota.increment("k", 0) for _ in range(5)), return_exceptions=True)
    finally:
        blocker.rollback()
        blocker.close()
    try:
        assert all(isinstance(outcome, Unavailable) for outcome in outcomes), outcomes
        assert await quota.increment("k", 0) == 1  # nothing was counted, and the counter recovers
    finally:
        await quota.aclose()


@pytest.mark.parametrize("size", [1, 7])
def test_increment_many_counts_repeated_keys_in_order(tmp_path: Path, size: int) -> None:
    store = SqliteKVStore(tmp_path / "quota.db")
    try:
        assert store.increment_many(["x"] * size) == list(range(1, size + 1))
    finally:
        store.close()
