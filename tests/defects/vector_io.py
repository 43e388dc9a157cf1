"""Defects of the vector-io profile (conformance/checks/test_vector_io.py): vector dbs, chunks, faiss, sqlite-vec."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reference_server.api import vectors
from reference_server.config import loader
from reference_server.config.loader import ProviderInstanceConfig
from reference_server.providers.catalog import SqliteVecConfig
from reference_server.resources.models import Model
from reference_server.resources.registry import ResourceRegistry, VectorDBRegistry
from reference_server.vector_io import faiss_provider
from reference_server.vector_io.faiss_provider import FaissVectorIO
from reference_server.vector_io.sqlite_vec_provider import SqliteVecVectorIO
from tests.defects.patching import Apply, does_nothing, json_edit, on_path, patch, rewrite_api
from tests.defects.registry import defect

defect("vector-db-delete-keeps-it", "VEC-DB-001")(does_nothing(VectorDBRegistry, "unregister"))


def _vector_registration(edit: Callable[[dict[str, Any]], dict[str, Any]]) -> Apply:
    """Change the arguments the vector-db route builds a registration from."""

    def apply() -> None:
        original = vectors.build_vector_db
        vectors.build_vector_db = lambda **kwargs: original(**edit(kwargs))

    return apply


def _assume_embedding_model(kwargs: dict[str, Any]) -> dict[str, Any]:
    find = kwargs["find_model"]

    def find_or_invent(model_id: str) -> Any:
        return find(model_id) or Model(
            identifier=model_id,
            provider_resource_id=model_id,
            provider_id="ollama",
            model_type="embedding",
            metadata={"embedding_dimension": kwargs.get("embedding_dimension") or 384},
        )

    return {**kwargs, "find_model": find_or_invent}


defect("vector-db-unknown-model-accepted", "VEC-DB-002")(_vector_registration(_assume_embedding_model))
# Upstream takes the request's dimension on trust.
defect("vector-db-dimension-ignored", "VEC-DB-003")(
    _vector_registration(lambda kwargs: {**kwargs, "embedding_dimension": None})
)
defect("query-worst-first", "VEC-IO-001")(
    rewrite_api(
        on_path("/v1/vector-io/query", json_edit(lambda b: {"chunks": b["chunks"][::-1], "scores": b["scores"][::-1]}))
    )
)


@defect("max-chunks-ignored", "VEC-IO-002")
def max_chunks_ignored() -> None:
    def unbounded(original: Callable[..., Any]) -> Callable[..., Any]:
        return lambda self, db, vector, limit: original(self, db, vector, 100)

    for kind in (FaissVectorIO, SqliteVecVectorIO):
        kind.query = unbounded(kind.query)  # type: ignore[method-assign]


def failing_get(label: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """An unknown id escapes as a bare exception: the 500 a client cannot act on."""

    def replacement(original: Callable[..., Any]) -> Callable[..., Any]:
        def get(self: ResourceRegistry[Any], identifier: str, viewer: Any = None) -> Any:
            if self.find(identifier, viewer) is None:
                raise RuntimeError(f"{label} lookup failed")
            return original(self, identifier, viewer)

        return get

    return replacement


defect("unknown-vector-db-500", "VEC-IO-003", crashes=True)(patch(VectorDBRegistry, "get", failing_get("vector db")))


@defect("chunk-needs-document-id", "VEC-IO-004", crashes=True)
def chunk_needs_document_id() -> None:
    """Read every chunk's metadata["document_id"] before storing it (llama-stack 0.2.12's router)."""

    def reading(original: Callable[..., Any]) -> Callable[..., Any]:
        def insert(self: Any, db: Any, chunks: list[dict[str, Any]], vectors: Any) -> Any:
            _ids = [chunk["metadata"]["document_id"] for chunk in chunks]
            return original(self, db, chunks, vectors)

        return insert

    for kind in (FaissVectorIO, SqliteVecVectorIO):
        kind.insert = reading(kind.insert)  # type: ignore[method-assign]


@defect("faiss-not-reloaded", "VEC-PERSIST-001")
def faiss_not_reloaded() -> None:
    original = FaissVectorIO.attach

    def attach(self: Any, db: Any) -> None:
        original(self, db)
        self._indexes[db.identifier] = faiss_provider._Index(self._faiss.IndexFlatIP(db.embedding_dimension))

    FaissVectorIO.attach = attach  # type: ignore[method-assign]


@defect("faiss-saved-index-unreadable", "VEC-PERSIST-001", crashes=True)
def faiss_saved_index_unreadable() -> None:
    """The saved index cannot be read back (llama-stack 0.2.12 writes it with np.savetxt and reads it
    as uint8, which numpy 2 refuses): every restart with stored chunks fails."""
    original = FaissVectorIO.attach

    def attach(self: Any, db: Any) -> None:
        if any(True for _ in self._store.items(self._prefix(db))):
            raise RuntimeError("could not convert string to uint8")
        original(self, db)

    FaissVectorIO.attach = attach  # type: ignore[method-assign]


def vector_providers_edited(edit: Callable[[list[Any]], list[Any]]) -> Apply:
    def apply() -> None:
        original = loader._check_providers
        loader._check_providers = lambda run: edit(original(run))

    return apply


def _sqlite_vec_always(providers: list[Any]) -> list[Any]:
    """The starter before the seed's change: sqlite-vec is there whatever ENABLE_SQLITE_VEC says."""
    if any(p.provider_type == "inline::sqlite-vec" for p in providers):
        return providers
    faiss = [p for p in providers if p.provider_type == "inline::faiss"]
    if not faiss:
        return providers
    folder = faiss[0].config.kvstore.db_path.rsplit("/", 1)[0]
    config = SqliteVecConfig(db_path=f"{folder}/sqlite_vec.db")
    return [*providers, ProviderInstanceConfig("vector_io", "sqlite-vec", "inline::sqlite-vec", config, {})]


defect("sqlite-vec-always-on", "VEC-STARTER-001")(vector_providers_edited(_sqlite_vec_always))
defect("enable-sqlite-vec-ignored", "VEC-STARTER-002")(
    vector_providers_edited(lambda ps: [p for p in ps if p.provider_type != "inline::sqlite-vec"])
)
