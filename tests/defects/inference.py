"""Defects of the inference profile (conformance/checks/test_inference.py): native, OpenAI-compatible and /v1 routes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reference_server.api import inference
from reference_server.providers.remote import RemoteInferenceProvider
from tests.defects.patching import Apply, get, json_edit, json_rule, on_path, rewrite_api
from tests.defects.registry import defect


def _drop_last_event(body: bytes) -> bytes | None:
    if not body.startswith(b"data:"):
        return None
    events = [e for e in body.split(b"\n\n") if e.strip()]
    return b"\n\n".join(events[:-1]) + b"\n\n"


def _as_user(choice: dict[str, Any]) -> dict[str, Any]:
    return {**choice, "message": {**choice["message"], "role": "user"}}


def _stream_as_json(body: bytes) -> bytes | None:
    return b'{"object": "chat.completion", "choices": []}' if body.startswith(b"data:") else None


defect("native-chat-role-user", "INF-CHAT-001")(
    rewrite_api(
        on_path(
            "/v1/inference/chat-completion",
            json_edit(lambda b: {**b, "completion_message": {**b["completion_message"], "role": "user"}}),
        )
    )
)
defect("native-stream-without-complete", "INF-CHAT-002")(
    rewrite_api(on_path("/v1/inference/chat-completion", _drop_last_event))
)
defect("embeddings-truncated", "INF-EMBED-001")(
    rewrite_api(
        on_path("/v1/inference/embeddings", json_edit(lambda b: {"embeddings": [v[:-1] for v in b["embeddings"]]}))
    )
)
defect("openai-models-empty", "INF-OPENAI-001")(
    rewrite_api(json_rule(get("/v1/openai/v1/models"), lambda b: {"data": []}))
)
defect("openai-answer-as-user", "INF-OPENAI-002")(
    rewrite_api(
        on_path("/v1/openai/v1/chat/completions", json_edit(lambda b: {**b, "choices": [_as_user(b["choices"][0])]}))
    )
)
defect("openai-stream-as-json", "INF-OPENAI-003")(
    rewrite_api(on_path("/v1/openai/v1/chat/completions", _stream_as_json))
)


@defect("openai-model-not-renamed", "INF-OPENAI-004")
def renamed_is_identity() -> None:
    inference._renamed = lambda answer, model_id: answer


defect("v1-chat-role-user", "INF-V1-CHAT-001")(
    rewrite_api(on_path("/v1/chat/completions", json_edit(lambda b: {**b, "choices": [_as_user(b["choices"][0])]})))
)
defect("v1-stream-as-json", "INF-V1-CHAT-002")(rewrite_api(on_path("/v1/chat/completions", _stream_as_json)))
defect("v1-completion-without-text", "INF-V1-COMPLETION-001")(
    rewrite_api(on_path("/v1/completions", json_edit(lambda b: {**b, "choices": [{"index": 0, "text": None}]})))
)
defect("v1-embeddings-one-short", "INF-V1-EMBED-001")(
    rewrite_api(on_path("/v1/embeddings", json_edit(lambda b: {**b, "data": b["data"][:1]})))
)
defect("unknown-model-500", "INF-ERR-001", "INF-V1-ERR-001")(
    rewrite_api(
        json_rule(
            lambda m, p, c: p in ("/v1/openai/v1/chat/completions", "/v1/chat/completions") and c == 404,
            lambda b: {"error": {"message": "oops"}},
            500,
        )
    )
)


def backend_chat_edited(edit: Callable[[dict[str, Any]], dict[str, Any]]) -> Apply:
    """What a remote provider sends to its backend for a chat, changed on the way out."""

    def apply() -> None:
        original = RemoteInferenceProvider.chat
        RemoteInferenceProvider.chat = lambda self, body: original(self, edit(body))  # type: ignore[method-assign]

    return apply


defect("sampling-dropped", "INF-BACKEND-001")(
    backend_chat_edited(lambda body: {k: v for k, v in body.items() if k not in ("max_tokens", "temperature")})
)
