"""OpenAI-compatible vector stores, under both route families (``/v1/openai/v1/vector_stores``
of 0.2.11-0.2.x and ``/v1/vector_stores`` from 0.3.0).

A store is a vector db of the same id (``vs_<hex>``) in a vector IO provider, bound to an
embedding model for life, as in upstream 0.2.x; its records are in
`reference_server.resources.vector_stores`. Attaching a file reads it through the Files API
(under the caller's own rights), takes its text (text or PDF, `reference_server.vector_io.documents`),
chunks it (`reference_server.vector_io.chunking`), embeds the chunks with the store's model and
inserts them tagged with the file's id; detaching it
removes exactly those chunks, so a detached file is never found again. Attaching is done before
the answer, so a file is ``completed`` or ``failed`` (with ``last_error``), never left
``in_progress``. A file batch (0.3+, under /v1 only) is attached the same way, file by file,
before its answer, so it is ``completed`` when created (with the files that failed counted
``failed``, as upstream counts them) and there is nothing left to cancel. Search filters and
returns the file's current attributes, so an update of them counts at once. What this server
does not do (expiry, query rewriting, keyword search) is refused by name, never ignored.
"""

# Requirements (conformance/catalog.yaml): VS-001, VS-002, VS-003, VS-004, VS-005, VS-V1-001, VS-V1-002,
#   VS-V1-003, VS-V1-004, VS-V1-005, VS-V1-006, VS-EMBED-001

from __future__ import annotations

import asyncio
import functools
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Literal

from fastapi import Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from reference_server.api.deps import principal_of, stack_of
from reference_server.api.strict_routes import strict_router
from reference_server.api.vectors import MAX_CHUNKS_PER_QUERY, embed_for
from reference_server.auth.principal import Principal
from reference_server.content import content_text
from reference_server.errors import InvalidRequest, NotFound, StackError, Unavailable
from reference_server.resources.vector_dbs import VectorDB, build_vector_db
from reference_server.resources.vector_stores import FileBatch, FileQuery, VectorStoreNotFound
from reference_server.stack import Stack
from reference_server.vector_io.chunking import check_strategy, chunk_text
from reference_server.vector_io.documents import document_text
from reference_server.vector_io.filters import check_filter, matches

PREFIXES = ("/v1/openai/v1/vector_stores", "/v1/vector_stores")
MAX_RESULTS = 50  # OpenAI's bound on max_num_results
MAX_BATCH_FILES = 500  # OpenAI's bound on a file batch's file_ids

router = strict_router("vector_stores")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CreateRequest(_Strict):
    name: str | None = None
    file_ids: list[str] = Field(default_factory=list)
    expires_after: dict[str, Any] | None = None
    chunking_strategy: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None
    # upstream's own fields (extra_body for OpenAI's SDK)
    embedding_model: str | None = None
    embedding_dimension: int | None = None
    provider_id: str | None = None
    provider_vector_db_id: str | None = None


class UpdateRequest(_Strict):
    name: str | None = None
    expires_after: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None


class RankingOptions(_Strict):
    ranker: str | None = None
    score_threshold: float | None = Field(default=None, ge=-1.0, le=1.0)


class SearchRequest(_Strict):
    query: str | list[str]
    filters: dict[str, Any] | None = None
    max_num_results: int = Field(default=10, ge=1, le=MAX_RESULTS)
    ranking_options: RankingOptions | None = None
    rewrite_query: bool = False
    search_mode: Literal["vector"] | None = None


class AttachRequest(_Strict):
    file_id: str
    attributes: dict[str, Any] | None = None
    chunking_strategy: dict[str, Any] | None = None


class AttributesRequest(_Strict):
    attributes: dict[str, Any]


class BatchRequest(_Strict):
    file_ids: list[str] = Field(max_length=MAX_BATCH_FILES)
    attributes: dict[str, Any] | None = None
    chunking_strategy: dict[str, Any] | None = None


def _no_expiry(expires_after: dict[str, Any] | None) -> None:
    if expires_after is not None:
        raise InvalidRequest("expires_after: vector stores do not expire on this server")


def _scalars(values: dict[str, Any]) -> dict[str, Any]:
    """Attributes as OpenAI types them: strings, numbers and booleans."""
    return {key: value for key, value in values.items() if isinstance(value, str | int | float | bool)}


def _embedding_model(stack: Stack, requested: str | None, viewer: Principal | None) -> str:
    if requested is not None:
        return requested
    for model in stack.models.models(viewer):
        if model.model_type == "embedding":
            return model.identifier
    raise InvalidRequest("embedding_model: none given and no embedding model is registered")


def _store_db(stack: Stack, store_id: str, viewer: Principal | None) -> VectorDB:
    stack.vector_stores.get(store_id, viewer)
    return stack.vector_dbs.get(store_id, viewer)


async def create_vector_store(body: CreateRequest, request: Request) -> JSONResponse:
    stack, viewer = stack_of(request), principal_of(request)
    _no_expiry(body.expires_after)
    strategy = check_strategy(body.chunking_strategy)
    store_id = f"vs_{uuid.uuid4().hex}"
    # OpenAI's clients cannot name a provider: the first configured one, as upstream picks it
    # (routing_tables/vector_dbs.py:42-47 at v0.2.12), unless upstream's own provider_id names one.
    providers = stack.provider_ids("vector_io")
    db = build_vector_db(
        vector_db_id=store_id,
        embedding_model=_embedding_model(stack, body.embedding_model, viewer),
        embedding_dimension=body.embedding_dimension,
        provider_id=body.provider_id or (providers[0] if providers else None),
        provider_vector_db_id=body.provider_vector_db_id,
        vector_io_providers=stack.provider_ids("vector_io"),
        find_model=lambda model_id: stack.models.find(model_id, viewer),
    )
    provider = stack.vector_io(db.provider_id)
    await stack.vector_dbs.register(db, viewer)
    await provider.lane.run(provider.create, db)
    now = int(time.time())
    wire = {
        "id": store_id,
        "object": "vector_store",
        "created_at": now,
        "name": body.name,
        "status": "completed",
        "expires_after": None,
        "expires_at": None,
        "last_active_at": now,
        "metadata": body.metadata or {},
        "chunking_strategy": strategy,
    }
    await stack.vector_stores.create(wire, viewer)
    for file_id in body.file_ids:
        await _attach(stack, viewer, db, file_id=file_id, attributes=None, strategy=strategy)
    return JSONResponse(_public(stack.vector_stores.get(store_id, viewer)))


def _public(store: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in store.items() if key != "chunking_strategy"}


async def list_vector_stores(
    request: Request,
    after: str | None = None,
    before: str | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    order: Literal["asc", "desc"] = "desc",
) -> JSONResponse:
    listing = stack_of(request).vector_stores.page(principal_of(request), after, before, limit, order)
    return JSONResponse({**listing, "data": [_public(store) for store in listing["data"]]})


async def get_vector_store(vector_store_id: str, request: Request) -> JSONResponse:
    return JSONResponse(_public(stack_of(request).vector_stores.get(vector_store_id, principal_of(request))))


async def update_vector_store(vector_store_id: str, body: UpdateRequest, request: Request) -> JSONResponse:
    _no_expiry(body.expires_after)
    changes = body.model_dump(exclude_unset=True, exclude={"expires_after"})
    if changes.get("metadata", {}) is None:
        changes["metadata"] = {}  # the object's metadata is always a mapping
    stack = stack_of(request)
    return JSONResponse(_public(await stack.vector_stores.update(vector_store_id, principal_of(request), changes)))


async def delete_vector_store(vector_store_id: str, request: Request) -> JSONResponse:
    stack, viewer = stack_of(request), principal_of(request)
    db = _store_db(stack, vector_store_id, viewer)
    await stack.vector_stores.delete(vector_store_id, viewer)
    if db.provider_id in stack.provider_ids("vector_io"):
        provider = stack.vector_io(db.provider_id)
        await provider.lane.run(provider.drop, db)
    await stack.vector_dbs.unregister(vector_store_id, viewer)
    return JSONResponse({"id": vector_store_id, "object": "vector_store.deleted", "deleted": True})


async def search_vector_store(vector_store_id: str, body: SearchRequest, request: Request) -> JSONResponse:
    stack, viewer = stack_of(request), principal_of(request)
    db = _store_db(stack, vector_store_id, viewer)
    if body.rewrite_query:
        raise InvalidRequest("rewrite_query: queries are not rewritten on this server; send false")
    if body.filters is not None:
        check_filter(body.filters)
    text = body.query if isinstance(body.query, str) else " ".join(body.query)
    if not text.strip():
        raise InvalidRequest("query: has no text to search for")
    threshold = body.ranking_options.score_threshold if body.ranking_options else None
    provider = stack.vector_io(db.provider_id)
    [vector] = await embed_for(stack, db, [text])
    # Filters and thresholds drop hits after the nearest are found: ask for enough to fill the page.
    wanted = MAX_CHUNKS_PER_QUERY if body.filters is not None or threshold is not None else body.max_num_results
    hits = await provider.lane.run(provider.query, db, vector, wanted)
    attached = stack.vector_stores.files(vector_store_id, viewer)
    found = []
    for chunk, score in hits:
        metadata = chunk.get("metadata") or {}
        file_id = metadata.get("file_id")
        record = attached.get(file_id) if isinstance(file_id, str) else None
        if isinstance(file_id, str) and record is None:
            continue  # a file detached while this search ran
        attributes = _scalars(record.wire["attributes"] if record else metadata)
        if (threshold is not None and score < threshold) or (
            body.filters is not None and not matches(attributes, body.filters)
        ):
            continue
        found.append(
            {
                "file_id": file_id if record else "",
                "filename": record.filename if record else "",
                "score": score,
                "attributes": attributes,
                "content": [{"type": "text", "text": content_text(chunk.get("content"))}],
            }
        )
        if len(found) == body.max_num_results:
            break
    page = {"object": "vector_store.search_results.page", "search_query": text, "data": found, "has_more": False}
    return JSONResponse({**page, "next_page": None})


def _failed(message: str) -> dict[str, Any]:
    return {"status": "failed", "last_error": {"code": "server_error", "message": message}}


async def _read_text(stack: Stack, viewer: Principal | None, file_id: str) -> tuple[str, str, int]:
    """The file's name, its text and its size, read under the caller's own rights."""
    path, filename = stack.files().content_path(file_id, viewer)
    try:
        data = await asyncio.to_thread(path.read_bytes)
    except OSError as exc:
        raise Unavailable(f"file {file_id!r} cannot be read: {exc}") from None
    return filename, await asyncio.to_thread(document_text, file_id, filename, data), len(data)


# Seam (tests/defects/seams.py): a negative control replaces this (a batch's attributes dropped).
async def _attach(
    stack: Stack,
    viewer: Principal | None,
    db: VectorDB,
    *,
    file_id: str,
    attributes: dict[str, Any] | None,
    strategy: dict[str, Any],
) -> dict[str, Any]:
    existing = stack.vector_stores.files(db.identifier, viewer).get(file_id)
    if existing is not None:
        return existing.wire
    wire: dict[str, Any] = {
        "id": file_id,
        "object": "vector_store.file",
        "attributes": attributes or {},
        "chunking_strategy": strategy,
        "created_at": int(time.time()),
        "last_error": None,
        "status": "completed",
        "usage_bytes": 0,
        "vector_store_id": db.identifier,
    }
    filename, contents = "", []
    try:
        filename, text, size = await _read_text(stack, viewer, file_id)
        contents = chunk_text(text, strategy)
        if not contents:
            raise InvalidRequest("No chunks were generated from the file")
        vectors = await embed_for(stack, db, contents)
        metadata = {**_scalars(wire["attributes"]), "document_id": file_id, "file_id": file_id, "filename": filename}
        chunks = [{"content": text, "metadata": metadata} for text in contents]
        provider = stack.vector_io(db.provider_id)
        await provider.lane.run(provider.insert, db, chunks, vectors)
        wire["usage_bytes"] = size
    except NotFound:
        wire.update(_failed(f"file {file_id!r} not found"))
    except StackError as exc:
        wire.update(_failed(exc.message))
    if wire["status"] == "failed":
        contents = []
    return await stack.vector_stores.attach(db.identifier, viewer, wire, filename, contents)


async def attach_file(vector_store_id: str, body: AttachRequest, request: Request) -> JSONResponse:
    stack, viewer = stack_of(request), principal_of(request)
    db = _store_db(stack, vector_store_id, viewer)
    store = stack.vector_stores.get(vector_store_id, viewer)
    strategy = check_strategy(body.chunking_strategy) if body.chunking_strategy else store["chunking_strategy"]
    return JSONResponse(
        await _attach(stack, viewer, db, file_id=body.file_id, attributes=body.attributes, strategy=strategy)
    )


class FileListing:
    """The query of a listing of a store's files, or of one batch's: OpenAI's cursors and filter."""

    def __init__(
        self,
        after: str | None = None,
        before: str | None = None,
        limit: Annotated[int, Query(ge=1, le=100)] = 20,
        order: Literal["asc", "desc"] = "desc",
        filter: Literal["in_progress", "completed", "failed", "cancelled"] | None = None,
    ) -> None:
        self.query = FileQuery(after=after, before=before, limit=limit, order=order, status=filter)


async def list_files(
    vector_store_id: str, request: Request, listing: Annotated[FileListing, Depends()]
) -> JSONResponse:
    records = stack_of(request).vector_stores
    return JSONResponse(records.page_files(vector_store_id, principal_of(request), **listing.query))


async def get_file(vector_store_id: str, file_id: str, request: Request) -> JSONResponse:
    return JSONResponse(stack_of(request).vector_stores.file(vector_store_id, file_id, principal_of(request)).wire)


async def get_file_content(vector_store_id: str, file_id: str, request: Request) -> JSONResponse:
    attached = stack_of(request).vector_stores.file(vector_store_id, file_id, principal_of(request))
    return JSONResponse(
        {
            "file_id": file_id,
            "filename": attached.filename,
            "attributes": attached.wire["attributes"],
            "content": [{"type": "text", "text": text} for text in attached.contents],
        }
    )


async def update_file(vector_store_id: str, file_id: str, body: AttributesRequest, request: Request) -> JSONResponse:
    stack = stack_of(request)
    wire = await stack.vector_stores.set_attributes(vector_store_id, file_id, principal_of(request), body.attributes)
    return JSONResponse(wire)


async def delete_file(vector_store_id: str, file_id: str, request: Request) -> JSONResponse:
    stack, viewer = stack_of(request), principal_of(request)
    db = _store_db(stack, vector_store_id, viewer)
    stack.vector_stores.file(vector_store_id, file_id, viewer)
    provider = stack.vector_io(db.provider_id)
    await provider.lane.run(provider.remove, db, "file_id", file_id)  # chunks first: never findable after
    await stack.vector_stores.detach(vector_store_id, file_id, viewer)
    return JSONResponse({"id": file_id, "object": "vector_store.file.deleted", "deleted": True})


async def create_file_batch(vector_store_id: str, body: BatchRequest, request: Request) -> JSONResponse:
    stack, viewer = stack_of(request), principal_of(request)
    db = _store_db(stack, vector_store_id, viewer)
    store = stack.vector_stores.get(vector_store_id, viewer)
    strategy = check_strategy(body.chunking_strategy) if body.chunking_strategy else store["chunking_strategy"]
    file_ids = list(dict.fromkeys(body.file_ids))  # a file named twice is attached once
    counts = dict.fromkeys(("completed", "failed", "in_progress", "cancelled"), 0)
    for file_id in file_ids:
        attached = await _attach(stack, viewer, db, file_id=file_id, attributes=body.attributes, strategy=strategy)
        counts[attached["status"]] += 1
    wire = {
        "id": f"batch_{uuid.uuid4()}",
        "object": "vector_store.file_batch",
        "created_at": int(time.time()),
        "vector_store_id": vector_store_id,
        "status": "completed",
        "file_counts": {**counts, "total": len(file_ids)},
    }
    return JSONResponse(await stack.vector_stores.add_batch(vector_store_id, viewer, FileBatch(wire, file_ids)))


async def get_file_batch(vector_store_id: str, batch_id: str, request: Request) -> JSONResponse:
    return JSONResponse(stack_of(request).vector_stores.batch(vector_store_id, batch_id, principal_of(request)).wire)


async def list_file_batch_files(
    vector_store_id: str, batch_id: str, request: Request, listing: Annotated[FileListing, Depends()]
) -> JSONResponse:
    records, viewer = stack_of(request).vector_stores, principal_of(request)
    batch = records.batch(vector_store_id, batch_id, viewer)
    return JSONResponse(records.page_files(vector_store_id, viewer, **listing.query, only=set(batch.file_ids)))


async def cancel_file_batch(vector_store_id: str, batch_id: str, request: Request) -> JSONResponse:
    batch = stack_of(request).vector_stores.batch(vector_store_id, batch_id, principal_of(request))
    status = batch.wire["status"]
    raise InvalidRequest(f"file batch {batch_id!r} is {status}: only a batch in progress can be cancelled")


Endpoint = Callable[..., Awaitable[JSONResponse]]


def seed_era(endpoint: Endpoint) -> Endpoint:
    """The 0.2.x family answers an unknown vector store with 400, as 0.2.x does (its
    openai_vector_store_mixin raises ValueError, which its server answers 400) and as its clients
    and tests expect; from 0.3.0, under /v1, it is a 404."""

    @functools.wraps(endpoint)
    async def answered(*args: Any, **kwargs: Any) -> JSONResponse:
        try:
            return await endpoint(*args, **kwargs)
        except VectorStoreNotFound as exc:
            raise InvalidRequest(exc.message) from None

    return answered


for _prefix in PREFIXES:
    one, files_of = _prefix + "/{vector_store_id}", _prefix + "/{vector_store_id}/files"
    routes: list[tuple[str, Endpoint, str]] = [
        (_prefix, create_vector_store, "POST"),
        (_prefix, list_vector_stores, "GET"),
        (one, get_vector_store, "GET"),
        (one, update_vector_store, "POST"),
        (one, delete_vector_store, "DELETE"),
        (one + "/search", search_vector_store, "POST"),
        (files_of, attach_file, "POST"),
        (files_of, list_files, "GET"),
        (files_of + "/{file_id}", get_file, "GET"),
        (files_of + "/{file_id}", update_file, "POST"),
        (files_of + "/{file_id}", delete_file, "DELETE"),
        (files_of + "/{file_id}/content", get_file_content, "GET"),
    ]
    if _prefix == PREFIXES[1]:  # file batches came with the /v1 routes (0.3.0)
        batches = one + "/file_batches"
        routes += [
            (batches, create_file_batch, "POST"),
            (batches + "/{batch_id}", get_file_batch, "GET"),
            (batches + "/{batch_id}/files", list_file_batch_files, "GET"),
            (batches + "/{batch_id}/cancel", cancel_file_batch, "POST"),
        ]
    for path, endpoint, method in routes:
        router.add_api_route(path, seed_era(endpoint) if _prefix == PREFIXES[0] else endpoint, methods=[method])
