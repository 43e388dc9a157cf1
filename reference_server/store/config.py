"""How a run.yaml names a key-value store (the seed's format: sqlite only)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict


class SqliteKVStoreConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True)

    type: Literal["sqlite"] = "sqlite"
    namespace: str | None = None
    db_path: str


class RedisKVStoreConfig(BaseModel):
    """A Redis server shared by several replicas (quota counters only)."""

    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True)

    type: Literal["redis"]
    host: str = "127.0.0.1"
    port: int = 6379
    namespace: str | None = None
