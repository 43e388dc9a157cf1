"""How a run.yaml names a key-value store (the seed's format: sqlite only)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict


class SqliteKVStoreConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True)

    type: Literal["sqlite"] = "sqlite"
    namespace: str | None = None
    db_path: str
