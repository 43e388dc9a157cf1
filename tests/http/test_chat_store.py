"""Stored chat completions: read back by id, listed in order, walked by pages, private to their principal."""

from __future__ import annotations

import json
import os
import signal
from typing import Any

import httpx

from conformance.fakes.handle import FakeProcess
from tests.conftest import Server, ServerFactory, jwt_auth

MESSAGES = [{"role": "user", "content": "hi"}]
ROUTES = ("/v1/openai/v1/chat/completions", "/v1/chat/completions")


def chat(server: Server, model: str = "m", token: str | None = None, stream: bool = False) -> str:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    body = {"model": model, "messages": MESSAGES, "stream": stream}
    answer = httpx.post(server.url + ROUTES[0], json=body, headers=headers, timeout=30)
    assert answer.status_code == 200, answer.text
    if not stream:
        return str(answer.json()["id"])
    frames = [line[5:].strip() for line in answer.text.splitlines() if line.startswith("data:")]
    ids = {json.loads(frame)["id"] for frame in frames if frame != "[DONE]"}
    assert len(ids) == 1, ids
    return ids.pop()


def config(servers: ServerFactory, extra: str = "") -> str:
    return (
        servers.minimal()
        + "models:\n- {model_id: m, provider_model_id: llama3.2:3b}\n"
        + ("- {model_id: n, provider_model_id: a}\n" + extra)
    )


def listing(server: Server, route: str = ROUTES[0], token: str | None = None, **params: Any) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    answer = httpx.get(server.url + route, params=params, headers=headers)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def test_a_completion_is_read_back_with_its_messages_under_both_prefixes(servers: ServerFactory) -> None:
    server = servers.running(servers.config(config(servers)))
    plain, streamed = chat(server), chat(server, stream=True)
    for route in ROUTES:
        for ident in (plain, streamed):
            stored = httpx.get(f"{server.url}{route}/{ident}").json()
            assert stored["id"] == ident and stored["input_messages"] == MESSAGES and stored["model"] == "m"
            assert stored["choices"][0]["message"]["content"] == "Hello from the fake backend."
    missing = httpx.get(f"{server.url}{ROUTES[1]}/chatcmpl-nope")
    assert missing.status_code == 404 and "chatcmpl-nope" in missing.json()["error"]["message"]


def test_pages_walk_the_whole_list_once_newest_first(servers: ServerFactory) -> None:
    server = servers.running(servers.config(config(servers)))
    made = [chat(server, model="n" if i % 3 == 0 else "m") for i in range(7)]
    assert [c["id"] for c in listing(server)["data"]] == made[::-1]
    assert [c["id"] for c in listing(server, order="asc")["data"]] == made
    seen: list[str] = []
    after: str | None = None
    while True:
        page = listing(server, ROUTES[1], limit=3, **({"after": after} if after else {}))
        seen += [c["id"] for c in page["data"]]
        assert page["first_id"] == page["data"][0]["id"] and page["last_id"] == page["data"][-1]["id"]
        if not page["has_more"]:
            break
        after = page["last_id"]
    assert seen == made[::-1]
    assert [c["id"] for c in listing(server, model="n")["data"]] == [made[6], made[3], made[0]]
    for bad in ({"order": "sideways"}, {"limit": 0}, {"after": "chatcmpl-nope"}):
        refused = httpx.get(server.url + ROUTES[0], params=bad)
        assert refused.status_code == 400 and next(iter(bad)) in refused.text, (bad, refused.text)


def test_an_acknowledged_completion_survives_kill_9(servers: ServerFactory) -> None:
    path = servers.config(config(servers, f"inference_store: {{type: sqlite, db_path: '{servers.state}/chats.db'}}\n"))
    first = servers.running(path)
    ident = chat(first)
    os.kill(first.process.pid, signal.SIGKILL)
    first.process.popen.wait(timeout=10)
    assert (servers.state / "chats.db").exists()
    again = servers.running(path)
    assert [c["id"] for c in listing(again)["data"]] == [ident]


def test_a_principal_sees_only_its_own(servers: ServerFactory, issuer: FakeProcess) -> None:
    server = servers.running(
        servers.config(config(servers).replace("models:", jwt_auth(f"{issuer.url}/jwks") + "models:"))
    )
    alice, bob = issuer.mint(claims={"sub": "alice"}), issuer.mint(claims={"sub": "bob"})
    mine = chat(server, token=alice)
    assert [c["id"] for c in listing(server, token=alice)["data"]] == [mine]
    assert listing(server, token=bob)["data"] == []
    seen_by_bob = httpx.get(f"{server.url}{ROUTES[0]}/{mine}", headers={"Authorization": f"Bearer {bob}"})
    assert seen_by_bob.status_code == 404
