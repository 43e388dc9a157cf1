"""Vector databases: the registration rules shared by run.yaml and ``POST /v1/vector-dbs``.

A vector db is bound to an embedding model for life: every chunk inserted and every query is
embedded by that model, so the model must be a registered embedding model and the db's
dimension must be the model's. A mismatch found at registration is a 400; found at insert
time it would corrupt the index.
"""

# Requirements (conformance/catalog.yaml): VEC-DB-002

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from reference_server.errors import InvalidRequest
from reference_server.resources.models import Model, Resource, pick_provider


class VectorDB(Resource):
    """The wire shape of a vector db in the seed's era (0.2.x)."""

    type: Literal["vector_db"] = "vector_db"
    embedding_model: str
    embedding_dimension: int


def build_vector_db(
    *,
    vector_db_id: str,
    embedding_model: str,
    embedding_dimension: int | None,
    provider_id: str | None,
    provider_vector_db_id: str | None,
    vector_io_providers: list[str],
    find_model: Callable[[str], Model | None],
) -> VectorDB:
    model = find_model(embedding_model)
    if model is None:
        raise InvalidRequest(
            f"embedding model {embedding_model!r} of vector db {vector_db_id!r} is not registered; register it first"
        )
    if model.model_type != "embedding":
        raise InvalidRequest(f"model {embedding_model!r} of vector db {vector_db_id!r} is not an embedding model")
    model_dimension = int(model.metadata["embedding_dimension"])  # build_model guarantees it
    if embedding_dimension is not None and embedding_dimension != model_dimension:
        raise InvalidRequest(
            f"embedding_dimension {embedding_dimension} of vector db {vector_db_id!r} does not match "
            f"model {embedding_model!r}, which gives {model_dimension}"
        )
    return VectorDB(
        identifier=vector_db_id,
        provider_resource_id=provider_vector_db_id or vector_db_id,
        provider_id=pick_provider(provider_id, vector_io_providers, f"vector db {vector_db_id!r}"),
        embedding_model=embedding_model,
        embedding_dimension=model_dimension,
    )
