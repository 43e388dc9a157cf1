"""Generated requests against every route of a real server: never a 5xx, always the error shape."""

from __future__ import annotations

import json
import string
from typing import Any

import httpx
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import ServerFactory

KEYS = [
    "model",
    "model_id",
    "messages",
    "role",
    "content",
    "stream",
    "provider_id",
    "provider_model_id",
    "metadata",
    "model_type",
    "contents",
    "input",
    "prompt",
    "sampling_params",
    "embedding_dimension",
    "vector_db_id",
    "embedding_model",
    "chunks",
    "query",
    "params",
    "max_chunks",
    "score_threshold",
    "embedding",
    "shield_id",
    "provider_shield_id",
]
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 10**12),
    st.floats(),  # NaN and infinities too: json.dumps writes them, and the server must refuse them
    st.sampled_from(["", "llm", "embedding", "user", "assistant", "llama3.2:3b", "m", "e", "docs", "guard", "faiss"]),
    st.text(max_size=8),
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(KEYS), inner, max_size=4)),
    max_leaves=12,
)
SEGMENT = st.text(alphabet=string.ascii_letters + string.digits + "-_.:", min_size=1, max_size=12)
ROUTES = [
    "/v1/health",
    "/v1/version",
    "/v1/providers",
    "/v1/inspect/routes",
    "/v1/models",
    "/v1/inference/chat-completion",
    "/v1/inference/completion",
    "/v1/inference/embeddings",
    "/v1/openai/v1/models",
    "/v1/openai/v1/chat/completions",
    "/v1/openai/v1/completions",
    "/v1/openai/v1/embeddings",
    "/v1/vector-dbs",
    "/v1/vector-io/insert",
    "/v1/vector-io/query",
    "/v1/shields",
    "/v1/safety/run-shield",
]


@st.composite
def requests(draw: st.DrawFn) -> tuple[str, str, bytes | None, dict[str, str]]:
    method = draw(st.sampled_from(["GET", "POST", "DELETE", "PUT"]))
    path = draw(
        st.one_of(
            st.sampled_from(ROUTES),
            SEGMENT.map(lambda s: f"/v1/models/{s}"),
            SEGMENT.map(lambda s: f"/v1/providers/{s}"),
            SEGMENT.map(lambda s: f"/v1/vector-dbs/{s}"),
            SEGMENT.map(lambda s: f"/v1/shields/{s}"),
            SEGMENT.map(lambda s: f"/v1/{s}"),
        )
    )
    kind = draw(st.sampled_from(["none", "json", "bytes"]))
    body: bytes | None = None
    if kind == "json":
        body = json.dumps(draw(JSON_VALUES)).encode()
    elif kind == "bytes":
        body = draw(st.binary(max_size=64))
    content_type = draw(st.sampled_from(["application/json", "text/plain", "application/x-www-form-urlencoded", ""]))
    return method, path, body, ({"content-type": content_type} if content_type else {})


def test_generated_requests_never_get_a_5xx(servers: ServerFactory) -> None:
    server = servers.running(servers.config(servers.full()))
    client = httpx.Client(base_url=server.url, timeout=20)

    @given(requests())
    def check(request: tuple[str, str, bytes | None, dict[str, str]]) -> None:
        method, path, body, headers = request
        answer = client.request(method, path, content=body, headers=headers)
        assert answer.status_code < 500, f"{method} {path} {body!r:.80} -> {answer.status_code} {answer.text[:200]}"
        if answer.status_code >= 400:
            error: Any = answer.json()
            assert isinstance(error["error"]["message"], str) and error["error"]["message"], answer.text

    try:
        check()
    finally:
        client.close()
