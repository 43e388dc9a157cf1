"""The checks' reading of both listing shapes and both route families.

The negative controls run every check against the reference server, which keeps the seed's
shapes; these cases pin the branches only real releases since 0.3/0.4 take.
"""

from __future__ import annotations

import pytest

from conformance.checks.shapes import (
    configured_model,
    configured_name,
    embedding_dimension,
    model_field,
    model_id,
    model_provider,
    openai_path,
    pick_model,
    registration_body,
    unique_id,
)
from conformance.generation import REFERENCE, from_version

SEED = {
    "identifier": "grammar-probe",
    "provider_resource_id": "llama3.2:3b",
    "provider_id": "ollama",
    "model_type": "llm",
    "metadata": {"k": 1},
}
OPENAI = {
    "id": "ollama/llama3.2:3b",
    "object": "model",
    "created": 0,
    "owned_by": "llama_stack",
    "custom_metadata": {"model_type": "embedding", "provider_id": "ollama", "conformance_name": "grammar-probe"},
}


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ((0, 2, 12), "/v1/openai/v1/chat/completions"),
        ((0, 3, 1), "/v1/openai/v1/chat/completions"),
        ((0, 4, 0), "/v1/chat/completions"),
        ((1, 5, 0), "/v1/chat/completions"),
    ],
)
def test_openai_path_follows_the_generation(version: tuple[int, int, int], expected: str) -> None:
    assert openai_path(from_version(version, "test"), "chat/completions") == expected


def test_openai_path_on_the_reference_keeps_the_seed_prefix() -> None:
    assert openai_path(REFERENCE, "embeddings") == "/v1/openai/v1/embeddings"


def test_fields_are_read_from_either_shape() -> None:
    assert (model_id(SEED), model_provider(SEED), model_field(SEED, "model_type")) == ("grammar-probe", "ollama", "llm")
    assert (model_id(OPENAI), model_provider(OPENAI), model_field(OPENAI, "model_type")) == (
        "ollama/llama3.2:3b",
        "ollama",
        "embedding",
    )


def test_a_config_model_is_found_by_its_id_or_its_tag() -> None:
    assert configured_name(SEED) == configured_name(OPENAI) == "grammar-probe"
    assert configured_model([OPENAI], "grammar-probe") is OPENAI
    assert configured_model([SEED, OPENAI], "ollama/llama3.2:3b") is None  # tagged: found by its tag only
    assert configured_model([SEED], "absent") is None


def test_pick_model_reads_the_type_from_custom_metadata() -> None:
    assert pick_model([SEED, OPENAI], "embedding", "ollama") == OPENAI
    with pytest.raises(pytest.skip.Exception, match="lists no embedding model of provider 'vllm'"):
        pick_model([SEED, OPENAI], "embedding", "vllm")


def test_unique_ids_are_fresh_and_recognisable() -> None:
    first, second = unique_id("shield"), unique_id("shield")
    assert first != second and first.startswith("conformance-shield-")


@pytest.mark.parametrize("entry", [{"provider_id": "ollama"}, {"identifier": None}, {"id": ""}])
def test_a_model_without_an_id_fails_saying_so(entry: dict[str, object]) -> None:
    with pytest.raises(AssertionError, match="has no identifier or id"):
        model_id(entry)


def test_embedding_dimension_and_registration_read_either_shape() -> None:
    seed = {**SEED, "metadata": {"embedding_dimension": 384}}
    openai = {**OPENAI, "custom_metadata": {**OPENAI["custom_metadata"], "embedding_dimension": 768}}
    assert (embedding_dimension(seed), embedding_dimension(openai), embedding_dimension(SEED)) == (384, 768, None)
    assert registration_body("alias", SEED) == {
        "model_id": "alias",
        "provider_id": "ollama",
        "provider_model_id": "llama3.2:3b",
    }
    openai["custom_metadata"]["provider_resource_id"] = "all-minilm:l6-v2"
    assert registration_body("alias", openai)["provider_model_id"] == "all-minilm:l6-v2"
