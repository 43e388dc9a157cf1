"""The provider HTTP clients against respx-mocked backends: every failure maps to a clear status."""

from __future__ import annotations

import json

import httpx
import pytest
import respx

from reference_server.errors import BadGateway, GatewayTimeout, InvalidRequest, StackError, StartupFailure, Unavailable
from reference_server.providers.catalog import OllamaConfig, VLLMConfig
from reference_server.providers.ollama import OllamaProvider
from reference_server.providers.vllm import VLLMProvider

OLLAMA = "http://ollama.test:11434"
VLLM = "http://vllm.test:8000/v1"


def ollama(raise_on_connect_error: bool = True) -> OllamaProvider:
    config = OllamaConfig(url=OLLAMA, raise_on_connect_error=raise_on_connect_error)
    return OllamaProvider("inference", "ollama", "remote::ollama", config)


def vllm(token: str | None = "secret") -> VLLMProvider:
    return VLLMProvider("inference", "vllm", "remote::vllm", VLLMConfig(url=VLLM, api_token=token, max_tokens=77))


def tags(*names: str) -> httpx.Response:
    return httpx.Response(200, json={"models": [{"name": n, "model": n} for n in names]})


@respx.mock
async def test_ollama_start_refused_raises_naming_the_url() -> None:
    respx.get(f"{OLLAMA}/api/ps").mock(side_effect=httpx.ConnectError("refused"))
    with pytest.raises(StartupFailure, match=r"http://ollama.test:11434.*ollama serve"):
        await ollama().start()


@respx.mock
async def test_ollama_start_refused_is_tolerated_when_configured() -> None:
    respx.get(f"{OLLAMA}/api/ps").mock(side_effect=httpx.ConnectError("refused"))
    provider = ollama(raise_on_connect_error=False)
    await provider.start()
    assert provider.reachable_at_start is False


@respx.mock
async def test_ollama_model_check_with_latest_fallback() -> None:
    respx.get(f"{OLLAMA}/api/tags").mock(return_value=tags("llama3.2:latest", "all-minilm:l6-v2"))
    provider = ollama()
    assert await provider.check_model("llama3.2") == "llama3.2:latest"
    assert await provider.check_model("all-minilm:l6-v2") == "all-minilm:l6-v2"
    with pytest.raises(InvalidRequest, match=r"available: llama3\.2:latest, all-minilm:l6-v2"):
        await provider.check_model("ghost:1b")


@pytest.mark.parametrize(
    ("mock", "error", "fragment"),
    [
        ({"side_effect": httpx.ConnectError("refused")}, Unavailable, "unreachable"),
        ({"side_effect": httpx.ReadTimeout("slow")}, GatewayTimeout, "did not answer in time"),
        ({"side_effect": httpx.RemoteProtocolError("reset")}, Unavailable, "unreachable"),
        ({"return_value": httpx.Response(200, text="not json")}, BadGateway, "not JSON"),
        ({"return_value": httpx.Response(200, text='{"models": [NaN]}')}, BadGateway, "not JSON"),
        ({"return_value": httpx.Response(200, json={"unexpected": True})}, BadGateway, "unexpected shape"),
        ({"return_value": httpx.Response(500, json={"error": "boom"})}, BadGateway, "answered 500: boom"),
    ],
)
@respx.mock
async def test_ollama_listing_failures(mock: dict[str, object], error: type[StackError], fragment: str) -> None:
    respx.get(f"{OLLAMA}/api/tags").mock(**mock)  # type: ignore[arg-type]
    with pytest.raises(error, match=fragment) as caught:
        await ollama().list_models()
    assert "provider 'ollama'" in caught.value.message and OLLAMA in caught.value.message


@respx.mock
async def test_vllm_sends_its_token_and_max_tokens() -> None:
    route = respx.post(f"{VLLM}/chat/completions").mock(
        return_value=httpx.Response(200, json={"choices": [{"message": {"role": "assistant", "content": "x"}}]})
    )
    await vllm().chat({"model": "m", "messages": [{"role": "user", "content": "hi"}]})
    sent = route.calls.last.request
    assert sent.headers["authorization"] == "Bearer secret"
    assert json.loads(sent.content)["max_tokens"] == 77


@respx.mock
async def test_vllm_without_token_sends_no_authorization() -> None:
    route = respx.get(f"{VLLM}/models").mock(return_value=httpx.Response(200, json={"data": [{"id": "m"}]}))
    assert await vllm(token=None).check_model("m") == "m"
    assert "authorization" not in route.calls.last.request.headers


@respx.mock
async def test_vllm_missing_model_names_what_it_serves() -> None:
    respx.get(f"{VLLM}/models").mock(return_value=httpx.Response(200, json={"data": [{"id": "a"}, {"id": "b"}]}))
    with pytest.raises(InvalidRequest, match=r"is not served by .*available: a, b"):
        await vllm().check_model("ghost")


@respx.mock
async def test_upstream_client_errors_become_400() -> None:
    respx.post(f"{VLLM}/chat/completions").mock(
        return_value=httpx.Response(404, json={"error": {"message": "model 'x' not found"}})
    )
    with pytest.raises(InvalidRequest, match=r"rejected the request \(404\): model 'x' not found"):
        await vllm().chat({"model": "x", "messages": []})


@respx.mock
async def test_stream_with_a_malformed_event() -> None:
    respx.post(f"{VLLM}/chat/completions").mock(
        return_value=httpx.Response(
            200, text='data: {"ok": 1}\n\ndata: {not json\n\n', headers={"content-type": "text/event-stream"}
        )
    )
    events = await vllm().chat_stream({"model": "m", "messages": []})
    received = []
    with pytest.raises(BadGateway, match="not JSON"):
        async for event in events:
            received.append(event)
    assert received == [{"ok": 1}]


@respx.mock
async def test_stream_refused_before_the_first_byte() -> None:
    respx.post(f"{VLLM}/chat/completions").mock(side_effect=httpx.ConnectError("refused"))
    with pytest.raises(Unavailable):
        await vllm().chat_stream({"model": "m", "messages": []})


@respx.mock
async def test_health() -> None:
    respx.get(f"{OLLAMA}/api/ps").mock(
        side_effect=[httpx.Response(200, json={"models": []}), httpx.ConnectError("refused")]
    )
    provider = ollama()
    assert await provider.health() == {"status": "OK"}
    assert (await provider.health())["status"] == "Error"
    respx.get("http://vllm.test:8000/health").mock(return_value=httpx.Response(503))
    assert (await vllm().health())["status"] == "Error"
