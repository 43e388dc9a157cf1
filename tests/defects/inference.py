"""Defects of the inference profile (conformance/checks/test_inference.py): native, OpenAI-compatible and /v1 routes."""

from __future__ import annotations

import base64
import struct
from collections.abc import Callable
from typing import Any

from reference_server.api import inference
from reference_server.providers.remote import RemoteInferenceProvider
from reference_server.resources.chat_completions import ChatCompletionStore
from tests.defects.patching import (
    Apply,
    arguments_edited,
    does_nothing,
    get,
    json_edit,
    json_rule,
    on_path,
    patch,
    rewrite_api,
    rewrite_requests,
    without,
)
from tests.defects.registry import defect, with_v1_twin


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


# What the reference server did before upstream's contract was read (issue 19): fields the
# route's model did not declare were dropped on the way in.
defect("native-completion-stream-ignored", "INF-COMPLETION-001")(
    rewrite_requests(("/v1/inference/completion",), without("stream"))
)
defect("openai-completion-stream-ignored", "INF-OPENAI-005")(
    rewrite_requests(("/v1/openai/v1/completions",), without("stream"))
)
defect("v1-completion-stream-ignored", "INF-V1-COMPLETION-002")(
    rewrite_requests(("/v1/completions",), without("stream"))
)
# Ollama ignores encoding_format: passed through, base64 comes back as floats.
defect("openai-base64-as-floats", "INF-OPENAI-006")(
    rewrite_requests(("/v1/openai/v1/embeddings",), without("encoding_format"))
)
defect("v1-base64-as-floats", "INF-V1-EMBED-002")(rewrite_requests(("/v1/embeddings",), without("encoding_format")))


def _big_endian(body: Any) -> Any:
    def swapped(entry: dict[str, Any]) -> dict[str, Any]:
        raw = base64.b64decode(entry["embedding"])
        values = struct.unpack(f"<{len(raw) // 4}f", raw)
        return {**entry, "embedding": base64.b64encode(struct.pack(f">{len(values)}f", *values)).decode()}

    return {**body, "data": [swapped(e) if isinstance(e.get("embedding"), str) else e for e in body["data"]]}


# base64 of the right length in the wrong byte order: only decoding against the floats tells.
defect("v1-base64-big-endian", "INF-V1-EMBED-002")(rewrite_api(on_path("/v1/embeddings", json_edit(_big_endian))))
defect("response-format-dropped", "INF-FORMAT-001")(
    rewrite_requests(("/v1/inference/chat-completion",), without("response_format"))
)


def _items_refused(body: dict[str, Any]) -> dict[str, Any]:
    """Content items turned into what a string-only model refuses (a list of objects is not a string)."""
    contents = body.get("contents")
    if isinstance(contents, list) and any(isinstance(c, dict) for c in contents):
        return {**body, "contents": [{"unexpected": c} if isinstance(c, dict) else c for c in contents]}
    return body


defect("embedding-items-refused", "INF-EMBED-002")(rewrite_requests(("/v1/inference/embeddings",), _items_refused))
defect("text-truncation-unchecked", "INF-EMBED-003")(
    rewrite_requests(("/v1/inference/embeddings",), without("text_truncation"))
)

# The inference store: answered and forgotten; walked from the wrong end; a cursor not followed.
defect("chat-completions-not-stored", "INF-STORE-001", "INF-V1-STORE-001")(does_nothing(ChatCompletionStore, "add"))


def _page_edited(edit: Callable[[dict[str, Any]], dict[str, Any]]) -> Apply:
    return arguments_edited(ChatCompletionStore, "page", ("after", "limit", "model", "order"), edit)


defect("chat-listing-oldest-first", "INF-V1-STORE-001")(_page_edited(lambda q: {**q, "order": "asc"}))
defect("chat-listing-after-ignored", *with_v1_twin("INF-STORE-002"))(_page_edited(lambda q: {**q, "after": None}))


def _cursor_second_skipped(original: Callable[..., Any]) -> Callable[..., Any]:
    """0.7.3's SQL store (sqlalchemy_sqlstore.py:282-285): the page after a cursor starts below the
    cursor's `created`, so the other completions of that second are never listed."""

    def paged(self: ChatCompletionStore, viewer: Any, *query: Any) -> Any:
        after, limit, model, order = query
        cursor = self._items.get(after) if isinstance(after, str) else None
        if cursor is None:
            return original(self, viewer, *query)
        listing = original(self, viewer, after, 10_000, model, order)
        data = [e for e in listing["data"] if e.get("created") != cursor.record.get("created")]
        chosen = data[:limit]
        return {
            **listing,
            "data": chosen,
            "has_more": len(data) > limit,
            "first_id": chosen[0]["id"] if chosen else "",
            "last_id": chosen[-1]["id"] if chosen else "",
        }

    return paged


defect("chat-cursor-skips-its-second", *with_v1_twin("INF-STORE-002"))(
    patch(ChatCompletionStore, "page", _cursor_second_skipped)
)

# Tools: dropped on the way in (the reference server before issue 19), or their calls on the way out.
defect("tools-dropped", "INF-TOOLS-001")(
    rewrite_requests(("/v1/inference/chat-completion",), without("tools", "tool_choice", "tool_config"))
)
defect("tool-calls-dropped", "INF-TOOLS-001")(
    rewrite_api(
        on_path(
            "/v1/inference/chat-completion",
            json_edit(lambda b: {**b, "completion_message": {**b["completion_message"], "tool_calls": []}}),
        )
    )
)


def _without_tool_call_events(body: bytes) -> bytes | None:
    if not body.startswith(b"data:"):
        return None
    events = [e for e in body.split(b"\n\n") if e.strip() and b'"tool_call"' not in e]
    return b"\n\n".join(events) + b"\n\n"


defect("streamed-tool-calls-dropped", "INF-TOOLS-002")(
    rewrite_api(on_path("/v1/inference/chat-completion", _without_tool_call_events))
)
