"""Where quota counts live: a sqlite file (one host) or Redis (several replicas).

Each increment is atomic (an upsert with RETURNING in a transaction; INCR), so the count is
exact however many requests, threads or processes race for the last unit of a budget, and it is
acknowledged only after it is committed, so a ``kill -9`` loses no counted request.
"""

# Requirements (conformance/catalog.yaml): QUOTA-004, QUOTA-005

from __future__ import annotations

import asyncio
from typing import Protocol

from reference_server.errors import Unavailable
from reference_server.store.config import RedisKVStoreConfig, SqliteKVStoreConfig
from reference_server.store.kvstore import SqliteKVStore


class Counter(Protocol):
    async def increment(self, key: str, expires_at: int) -> int: ...

    async def aclose(self) -> None: ...


class SqliteCounter:
    """Counts in a sqlite file, committed in groups.

    The increments that arrive while one commit is under way wait for the next and share it:
    one trip to the store's thread and one commit for all of them. Under load that is most of
    the quota's cost (a commit and a thread hop per request cost more than the rest of a
    listing request); each count is still exact and committed before its request goes on.
    """

    def __init__(self, config: SqliteKVStoreConfig) -> None:
        # Counter updates are tiny: a writer blocked for a second means the store is in trouble.
        self._store = SqliteKVStore(config.db_path, config.namespace, synchronous="NORMAL", busy_ms=1000)
        self._waiting: list[tuple[str, asyncio.Future[int]]] = []
        self._committer: asyncio.Task[None] | None = None

    async def increment(self, key: str, expires_at: int) -> int:
        # The window index is part of the key, so old windows are simply never read again.
        counted: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._waiting.append((key, counted))
        if self._committer is None:
            self._committer = asyncio.create_task(self._commit_waiting())
        return await counted

    async def _commit_waiting(self) -> None:
        group: list[tuple[str, asyncio.Future[int]]] = []
        try:
            while self._waiting:
                group, self._waiting = self._waiting, []
                try:
                    counts = await self._store.lane.run(self._store.increment_many, [key for key, _ in group])
                except Exception as exc:  # each waiting request reports it (a StackError is a 503)
                    for _, counted in group:
                        if not counted.done():
                            counted.set_exception(exc)
                    continue
                for (_, counted), count in zip(group, counts, strict=True):
                    if not counted.done():  # its client may have gone; the count stands
                        counted.set_result(count)
        finally:
            self._committer = None
            for _, counted in group + self._waiting:  # cancelled mid-commit (shutdown): nobody hangs
                counted.cancel()

    async def aclose(self) -> None:
        if self._committer is not None:
            await self._committer
        self._store.close()


class RedisCounter:
    def __init__(self, config: RedisKVStoreConfig) -> None:
        import redis.asyncio

        self._where = f"redis://{config.host}:{config.port}"
        self._prefix = f"{config.namespace}:" if config.namespace else ""
        self._redis = redis.asyncio.Redis(
            host=config.host, port=config.port, socket_timeout=2, socket_connect_timeout=2
        )

    async def increment(self, key: str, expires_at: int) -> int:
        import redis

        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.incr(self._prefix + key)
                pipe.expireat(self._prefix + key, expires_at)
                count, _ = await pipe.execute()
        except (redis.RedisError, OSError) as exc:
            raise Unavailable(f"Quota service unavailable: {self._where}: {exc}") from None
        return int(count)

    async def aclose(self) -> None:
        await self._redis.aclose()


def build_counter(config: SqliteKVStoreConfig | RedisKVStoreConfig) -> Counter:
    if isinstance(config, RedisKVStoreConfig):
        return RedisCounter(config)
    return SqliteCounter(config)
