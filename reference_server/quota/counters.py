"""Where quota counts live: a sqlite file (one host) or Redis (several replicas).

Each increment is one atomic round trip (an upsert with RETURNING; INCR), so the count is
exact however many requests, threads or processes race for the last unit of a budget.
"""

# Requirements (conformance/catalog.yaml): QUOTA-004, QUOTA-005

from __future__ import annotations

from typing import Protocol

from reference_server.errors import Unavailable
from reference_server.store.config import RedisKVStoreConfig, SqliteKVStoreConfig
from reference_server.store.kvstore import SqliteKVStore


class Counter(Protocol):
    async def increment(self, key: str, expires_at: int) -> int: ...

    async def aclose(self) -> None: ...


class SqliteCounter:
    def __init__(self, config: SqliteKVStoreConfig) -> None:
        # Counter updates are tiny: a writer blocked for a second means the store is in trouble.
        self._store = SqliteKVStore(config.db_path, config.namespace, synchronous="NORMAL", busy_ms=1000)

    async def increment(self, key: str, expires_at: int) -> int:
        # The window index is part of the key, so old windows are simply never read again.
        return await self._store.lane.run(self._store.increment, key)

    async def aclose(self) -> None:
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
