"""The official clients, unchanged, against the reference server: the SDK calls issues 19 and 20 named.

openai's SDK on both OpenAI-compatible prefixes, and llama-stack-client 0.2.x on the native routes:
streamed completions, base64 embeddings, tool calls and stored chat completions; files uploaded,
attached to a vector store and found by search.
"""

from __future__ import annotations

import pytest

from conformance.fakes.openai_compat import REPLY
from tests.conftest import Server, ServerFactory

openai = pytest.importorskip("openai")
llama_stack_client = pytest.importorskip("llama_stack_client")

TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


@pytest.fixture
def server(servers: ServerFactory) -> Server:
    text = servers.minimal() + (
        "models:\n- {model_id: m, provider_model_id: llama3.2:3b}\n"
        "- {model_id: e, provider_model_id: all-minilm:l6-v2, model_type: embedding,"
        " metadata: {embedding_dimension: 384}}\n"
    )
    return servers.running(servers.config(text))


@pytest.mark.parametrize("prefix", ["/v1/openai/v1", "/v1"])
def test_the_openai_sdk(server: Server, prefix: str) -> None:
    client = openai.OpenAI(base_url=server.url + prefix, api_key="unused", max_retries=0)
    chunks = list(client.completions.create(model="m", prompt="hi", stream=True))
    assert "".join(c.choices[0].text for c in chunks) == REPLY
    floats = client.embeddings.create(model="e", input=["a"], encoding_format="float").data[0].embedding
    # without encoding_format the SDK asks for base64 and decodes it itself
    decoded = client.embeddings.create(model="e", input=["a"]).data[0].embedding
    assert decoded == pytest.approx(floats, abs=1e-6) and len(decoded) == 384
    answer = client.chat.completions.create(model="m", messages=[{"role": "user", "content": "weather?"}], tools=[TOOL])
    [call] = answer.choices[0].message.tool_calls or []
    assert call.function.name == "get_weather"
    stored = client.chat.completions.retrieve(answer.id)
    assert stored.id == answer.id
    assert answer.id in [c.id for c in client.chat.completions.list(limit=5).data]


def test_llama_stack_client_0_2(server: Server) -> None:
    client = llama_stack_client.LlamaStackClient(base_url=server.url, max_retries=0)
    deltas = [chunk.delta for chunk in client.inference.completion(model_id="m", content="hi", stream=True)]
    assert "".join(deltas) == REPLY
    vectors = client.inference.embeddings(model_id="e", contents=[{"type": "text", "text": "a"}]).embeddings
    assert [len(v) for v in vectors] == [384]
    tool = {"tool_name": "get_weather", "description": "The weather", "parameters": {"city": {"param_type": "string"}}}
    answer = client.inference.chat_completion(
        model_id="m", messages=[{"role": "user", "content": "weather?"}], tools=[tool]
    )
    [call] = answer.completion_message.tool_calls
    assert (call.tool_name, call.arguments) == ("get_weather", {"city": "conformance"})
    streamed = client.inference.chat_completion(
        model_id="m", messages=[{"role": "user", "content": "weather?"}], tools=[tool], stream=True
    )
    calls = [c.event.delta for c in streamed if c.event.delta.type == "tool_call"]
    assert [d.parse_status for d in calls] == ["succeeded"]


@pytest.mark.parametrize("prefix", ["/v1/openai/v1", "/v1"])
def test_the_openai_sdk_files_and_vector_stores(servers: ServerFactory, prefix: str) -> None:
    server = servers.running(servers.config(servers.full()))
    client = openai.OpenAI(base_url=server.url + prefix, api_key="unused", max_retries=0)
    text = "The conformance suite keeps its ledger in the north archive."
    uploaded = client.files.create(file=("ledger.txt", text.encode()), purpose="assistants")
    assert (uploaded.bytes, uploaded.filename) == (len(text), "ledger.txt")
    store = client.vector_stores.create(name="docs", metadata={"team": "a"})
    attached = client.vector_stores.files.create(vector_store_id=store.id, file_id=uploaded.id, attributes={"k": "v"})
    assert attached.status == "completed"
    [hit] = client.vector_stores.search(vector_store_id=store.id, query=text, max_num_results=1).data
    assert (hit.file_id, hit.filename, hit.attributes) == (uploaded.id, "ledger.txt", {"k": "v"})
    assert hit.content[0].text == text
    assert client.vector_stores.retrieve(store.id).file_counts.completed == 1
    assert client.files.content(uploaded.id).read() == text.encode()
