"""Remote inference over the OpenAI-compatible protocol, shared by Ollama and vLLM.

Every backend failure becomes a `StackError` that names the provider and its URL:
unreachable -> 503, too slow -> 504, an answer that is an error or not JSON -> 502, a 4xx for
the request itself -> 400. Nothing a backend does can turn into a 500 or a hang.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx

from reference_server import strict_json
from reference_server.errors import BadGateway, GatewayTimeout, InvalidRequest, StackError, Unavailable
from reference_server.http_clients import tls_for
from reference_server.providers.base import ProviderHandle

log = logging.getLogger("reference_server.providers")

TIMEOUT = httpx.Timeout(120.0, connect=3.0)


class RemoteInferenceProvider(ProviderHandle):
    """A provider whose backend speaks OpenAI's HTTP API under ``openai_base``."""

    backend = "backend"
    missing_phrase = "is not available from"
    openai_base: str
    base_url: str
    verify: bool | str = True

    def __post_init__(self) -> None:
        self._client: httpx.AsyncClient | None = None
        # False when the backend was down at start-up and the config allows that (Ollama's
        # raise_on_connect_error: false); its config models are then checked on first use.
        self.reachable_at_start = True

    def headers(self) -> dict[str, str]:
        return {}

    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            verify = tls_for(self.base_url, self.verify)
            self._client = httpx.AsyncClient(timeout=TIMEOUT, headers=self.headers(), verify=verify)
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def describe(self) -> str:
        return f"provider {self.provider_id!r} ({self.backend} at {self.base_url})"

    def _transport_error(self, exc: Exception) -> StackError:
        if isinstance(exc, httpx.TimeoutException):
            return GatewayTimeout(f"{self.describe()} did not answer in time")
        reason = str(exc) or type(exc).__name__
        return Unavailable(f"{self.describe()} is unreachable: {reason}")

    def _check_answer(self, answer: httpx.Response) -> None:
        if answer.status_code < 400:
            return
        detail = _error_text(answer)
        if answer.status_code in (400, 404, 422):
            raise InvalidRequest(f"{self.describe()} rejected the request ({answer.status_code}): {detail}")
        raise BadGateway(f"{self.describe()} answered {answer.status_code}: {detail}")

    async def call(self, method: str, url: str, body: Any = None) -> Any:
        try:
            answer = await self.client().request(method, url, json=body)
        except httpx.HTTPError as exc:
            raise self._transport_error(exc) from None
        self._check_answer(answer)
        try:
            return strict_json.loads(answer.content)
        except ValueError:
            raise BadGateway(f"{self.describe()} answered with a body that is not JSON") from None

    async def stream(self, url: str, body: Any) -> AsyncIterator[dict[str, Any]]:
        """Open an SSE stream; errors before the first byte raise, like a plain call."""
        request = self.client().build_request("POST", url, json=body)
        try:
            answer = await self.client().send(request, stream=True)
        except httpx.HTTPError as exc:
            raise self._transport_error(exc) from None
        if answer.status_code >= 400:
            await answer.aread()
            await answer.aclose()
            self._check_answer(answer)
        return _sse_events(answer, self)

    async def list_models(self) -> list[str]:
        body = await self.call("GET", f"{self.openai_base}/models")
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, list):
            raise BadGateway(f"{self.describe()} listed models in an unexpected shape")
        return [str(entry.get("id")) for entry in data if isinstance(entry, dict)]

    async def check_model(self, model: str) -> str:
        """Confirm the backend serves ``model``; return the id to call it by."""
        available = await self.list_models()
        if model in available:
            return model
        raise InvalidRequest(
            f"Model {model!r} {self.missing_phrase} {self.describe()}; available: {', '.join(available) or 'none'}"
        )

    async def chat(self, body: dict[str, Any]) -> Any:
        return await self.call("POST", f"{self.openai_base}/chat/completions", self.prepare_chat(body))

    async def chat_stream(self, body: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        return await self.stream(f"{self.openai_base}/chat/completions", {**self.prepare_chat(body), "stream": True})

    async def completion(self, body: dict[str, Any]) -> Any:
        return await self.call("POST", f"{self.openai_base}/completions", body)

    async def completion_stream(self, body: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        return await self.stream(f"{self.openai_base}/completions", {**body, "stream": True})

    async def embeddings(self, body: dict[str, Any]) -> Any:
        return await self.call("POST", f"{self.openai_base}/embeddings", body)

    def prepare_chat(self, body: dict[str, Any]) -> dict[str, Any]:
        return body

    async def embed(self, model: str, texts: list[str]) -> list[list[float]]:
        """One vector per text, in order; anything else from the backend is a 502, not a bad index."""
        answer = await self.embeddings({"model": model, "input": texts})
        data = answer.get("data") if isinstance(answer, dict) else None
        if not isinstance(data, list) or len(data) != len(texts):
            raise BadGateway(f"{self.describe()} answered embeddings in an unexpected shape")
        ordered = sorted(data, key=lambda item: item.get("index", 0) if isinstance(item, dict) else 0)
        vectors = [item.get("embedding") if isinstance(item, dict) else None for item in ordered]
        if not all(isinstance(v, list) and all(isinstance(x, int | float) for x in v) for v in vectors):
            raise BadGateway(f"{self.describe()} answered an embedding that is not a list of numbers")
        return [[float(x) for x in v] for v in vectors]  # type: ignore[union-attr]

    async def chat_text(self, model: str, messages: list[dict[str, Any]], **options: Any) -> str:
        """The text of the first choice of a non-streaming chat completion."""
        answer = await self.chat({"model": model, "messages": messages, **options})
        choices = answer.get("choices") if isinstance(answer, dict) else None
        message = choices[0].get("message") if isinstance(choices, list) and choices else None
        content = message.get("content") if isinstance(message, dict) else None
        if not isinstance(content, str):
            raise BadGateway(f"{self.describe()} answered a chat completion without message content")
        return content


def _error_text(answer: httpx.Response) -> str:
    try:
        body = strict_json.loads(answer.content)
    except ValueError:
        return answer.text[:200] or answer.reason_phrase
    if isinstance(body, dict):
        error = body.get("error", body.get("detail", body))
        if isinstance(error, dict):
            error = error.get("message", error)
        return str(error)[:300]
    return str(body)[:300]


async def _sse_events(answer: httpx.Response, provider: RemoteInferenceProvider) -> AsyncIterator[dict[str, Any]]:
    try:
        async for line in answer.aiter_lines():
            if not line.startswith("data:"):
                continue
            payload = line[5:].strip()
            if payload == "[DONE]":
                break
            try:
                event = strict_json.loads(payload)
            except ValueError:
                raise BadGateway(f"{provider.describe()} streamed an event that is not JSON") from None
            if isinstance(event, dict):
                yield event
    except httpx.HTTPError as exc:
        raise provider._transport_error(exc) from None
    finally:
        await answer.aclose()
