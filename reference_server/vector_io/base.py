"""What the vector routes need from a vector IO provider, whatever stores the vectors.

Scores are cosine similarities in every provider (1.0 for the same direction), so a client
sees the same ranking and the same scale whichever provider a vector db lives in. Providers
hold files, so they are opened when the stack is built and closed when it stops; `attach` is
called at start-up for every registered vector db so a damaged index stops the start, not a
request an hour later.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from reference_server.providers.base import ProviderHandle
from reference_server.resources.vector_dbs import VectorDB
from reference_server.store.lane import Lane

# A chunk is stored and returned as the client sent it: ``{"content": ..., "metadata": {...}}``.
Chunk = dict[str, Any]


@dataclass
class VectorIOProvider(ProviderHandle):
    # Index and rows change together, on one thread of their own (`reference_server.store.lane`):
    # the routes call create, insert, query and drop through it, never on the event loop.
    lane: Lane = field(init=False)

    def __post_init__(self) -> None:
        self.lane = Lane(f"{self.provider_id}")

    async def health(self) -> dict[str, Any]:
        return {"status": "OK"}

    def create(self, db: VectorDB) -> None:
        """A newly registered db starts empty, even if an earlier db of the same id left rows."""
        self.drop(db)
        self.attach(db)

    def attach(self, db: VectorDB) -> None:
        raise NotImplementedError

    def insert(self, db: VectorDB, chunks: list[Chunk], vectors: list[list[float]]) -> None:
        """Store every chunk or none: the rows are committed before the call returns."""
        raise NotImplementedError

    def query(self, db: VectorDB, vector: list[float], limit: int) -> list[tuple[Chunk, float]]:
        """The ``limit`` nearest chunks, best first, with their cosine similarity."""
        raise NotImplementedError

    def remove(self, db: VectorDB, key: str, value: str) -> int:
        """Delete every chunk whose ``metadata[key]`` is ``value`` (a file's chunks, when it leaves
        a vector store); committed before the call returns. The number removed."""
        raise NotImplementedError

    def drop(self, db: VectorDB) -> None:
        raise NotImplementedError
