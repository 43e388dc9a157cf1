"""``/v1/vector-dbs`` (list, get, register, unregister) and ``/v1/vector-io`` (insert, query).

Chunks and queries are embedded by the vector db's own embedding model, through that model's
inference provider; a vector that does not have the db's dimension is refused before anything
is stored.
"""

# Requirements (conformance/catalog.yaml): VEC-DB-001, VEC-IO-001, VEC-IO-002, VEC-IO-003, VEC-IO-004

from __future__ import annotations

import math
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from reference_server.api.deps import principal_of, stack_of
from reference_server.api.resources import add_read_routes
from reference_server.api.strict_routes import strict_router
from reference_server.config.schema import VectorDBInput
from reference_server.content import content_text
from reference_server.errors import BadGateway, Conflict, InvalidRequest
from reference_server.resources.vector_dbs import VectorDB, build_vector_db
from reference_server.stack import Stack

vector_dbs = strict_router("vector_dbs")
vector_io = strict_router("vector_io")

MAX_CHUNKS_PER_QUERY = 1000


class RegisterVectorDBRequest(VectorDBInput):
    """A config's ``vector_dbs`` entry, over HTTP (extra fields ignored, numbers not taken for ids)."""

    model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=False)


class ChunkIn(BaseModel):
    model_config = ConfigDict(extra="allow")

    content: str | list[Any] | dict[str, Any]
    metadata: dict[str, Any] = Field(default_factory=dict)
    embedding: list[float] | None = None


class InsertRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    vector_db_id: str
    chunks: list[ChunkIn] = Field(min_length=1)
    ttl_seconds: int | None = None


class QueryParams(BaseModel):
    model_config = ConfigDict(extra="ignore")

    max_chunks: int = Field(default=3, gt=0, le=MAX_CHUNKS_PER_QUERY)
    score_threshold: float | None = None


class QueryRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    vector_db_id: str
    query: str | list[Any] | dict[str, Any]
    params: QueryParams | None = None


add_read_routes(vector_dbs, "/v1/vector-dbs", lambda stack: stack.vector_dbs)


@vector_dbs.post("/v1/vector-dbs")
async def register_vector_db(body: RegisterVectorDBRequest, request: Request) -> JSONResponse:
    stack = stack_of(request)
    viewer = principal_of(request)
    db = build_vector_db(
        **body.model_dump(),
        vector_io_providers=stack.provider_ids("vector_io"),
        find_model=lambda model_id: stack.models.find(model_id, viewer),
    )
    provider = stack.vector_io(db.provider_id)
    if stack.vector_dbs.find(db.identifier, viewer) == db:
        return JSONResponse(db.wire())  # the same registration again: keep its chunks
    await stack.vector_dbs.register(db, viewer)  # refuses a taken id before any chunk is touched
    await provider.lane.run(provider.create, db)
    return JSONResponse(db.wire())


@vector_dbs.delete("/v1/vector-dbs/{vector_db_id:path}")
async def unregister_vector_db(vector_db_id: str, request: Request) -> JSONResponse:
    stack = stack_of(request)
    db = stack.vector_dbs.get(vector_db_id, principal_of(request))
    if stack.vector_stores.holds(vector_db_id):
        # Its chunks are a vector store's: gone from under it, the store would be a shell.
        raise Conflict(f"vector db {vector_db_id!r} holds vector store {vector_db_id!r}; delete it as a vector store")
    if db.provider_id in stack.provider_ids("vector_io"):
        provider = stack.vector_io(db.provider_id)
        await provider.lane.run(provider.drop, db)
    await stack.vector_dbs.unregister(vector_db_id, principal_of(request))
    return JSONResponse(None)


FLOAT32_MAX = 3.4028234663852886e38


def _vector_problem(vector: list[float], db: VectorDB) -> str | None:
    """Why a vector cannot go into the db's index: a wrong size, or a value float32 cannot hold
    (it would turn into inf or NaN in the index and spoil every query)."""
    if len(vector) != db.embedding_dimension:
        return f"has {len(vector)} dimensions; vector db {db.identifier!r} takes {db.embedding_dimension}"
    if not all(math.isfinite(x) and abs(x) <= FLOAT32_MAX for x in vector):
        return "holds a value that is not a finite float32 number"
    return None


async def embed_for(stack: Stack, db: VectorDB, texts: list[str]) -> list[list[float]]:
    """Texts embedded by the db's own model, each vector checked to fit the db's index."""
    model = stack.models.get(db.embedding_model)
    vectors = await stack.embed(model, texts)
    for vector in vectors:
        if problem := _vector_problem(vector, db):
            raise BadGateway(f"an embedding from model {db.embedding_model!r} {problem}")
    return vectors


@vector_io.post("/v1/vector-io/insert")
async def insert(body: InsertRequest, request: Request) -> JSONResponse:
    stack = stack_of(request)
    db = stack.vector_dbs.get(body.vector_db_id, principal_of(request))
    provider = stack.vector_io(db.provider_id)
    missing: list[int] = []
    for position, chunk in enumerate(body.chunks):
        if chunk.embedding is not None:
            if problem := _vector_problem(chunk.embedding, db):
                raise InvalidRequest(f"chunks[{position}].embedding {problem}")
        elif not content_text(chunk.content).strip():
            raise InvalidRequest(f"chunks[{position}] has no text to embed and no embedding")
        else:
            missing.append(position)
    computed = await embed_for(stack, db, [content_text(body.chunks[p].content) for p in missing]) if missing else []
    vectors = [chunk.embedding for chunk in body.chunks]
    for position, vector in zip(missing, computed, strict=True):
        vectors[position] = vector
    stored = [chunk.model_dump(exclude={"embedding"}) for chunk in body.chunks]
    await provider.lane.run(provider.insert, db, stored, [v for v in vectors if v is not None])
    return JSONResponse(None)


@vector_io.post("/v1/vector-io/query")
async def query(body: QueryRequest, request: Request) -> JSONResponse:
    stack = stack_of(request)
    db = stack.vector_dbs.get(body.vector_db_id, principal_of(request))
    provider = stack.vector_io(db.provider_id)
    params = body.params or QueryParams()
    text = content_text(body.query)
    if not text.strip():
        raise InvalidRequest("query has no text to embed")
    [vector] = await embed_for(stack, db, [text])
    hits = await provider.lane.run(provider.query, db, vector, params.max_chunks)
    if params.score_threshold is not None:
        hits = [(chunk, score) for chunk, score in hits if score >= params.score_threshold]
    return JSONResponse({"chunks": [chunk for chunk, _ in hits], "scores": [score for _, score in hits]})
