"""Shields and run-shield over real HTTP, judged by the fake's guard model."""

from __future__ import annotations

import httpx
import pytest

from conformance.fakes.openai_compat import UNSAFE_MARKER
from tests.conftest import Server, ServerFactory
from tests.http.test_cli import expect_one_line_error


@pytest.fixture
def server(servers: ServerFactory) -> Server:
    return servers.running(servers.config(servers.full()))


def run(server: Server, shield: str, text: str, role: str = "user") -> httpx.Response:
    messages = [{"role": "user", "content": "hi"}, {"role": role, "content": text}]
    return httpx.post(server.url + "/v1/safety/run-shield", json={"shield_id": shield, "messages": messages})


def test_verdicts(server: Server) -> None:
    assert run(server, "guard", "a harmless question").json() == {"violation": None}
    flagged = run(server, "guard", f"{UNSAFE_MARKER} here", role="assistant").json()["violation"]
    assert flagged["violation_level"] == "error"
    assert flagged["metadata"] == {"violation_type": "S1"}
    assert isinstance(flagged["user_message"], str) and UNSAFE_MARKER not in flagged["user_message"]


def test_register_list_get(server: Server) -> None:
    body = {"shield_id": "second", "provider_shield_id": "guard", "params": {"k": 1}}
    created = httpx.post(server.url + "/v1/shields", json=body)
    assert created.json() == {
        "identifier": "second",
        "provider_resource_id": "guard",
        "provider_id": "llama-guard",
        "type": "shield",
        "params": {"k": 1},
    }
    assert [s["identifier"] for s in httpx.get(server.url + "/v1/shields").json()["data"]] == ["guard", "second"]
    assert httpx.get(server.url + "/v1/shields/second").json() == created.json()
    assert run(server, "second", "fine").json() == {"violation": None}


@pytest.mark.parametrize(
    ("body", "status", "fragment"),
    [
        ({"shield_id": "s", "provider_shield_id": "ghost"}, 400, "'ghost'"),
        ({"shield_id": "s", "provider_shield_id": "e"}, 400, "embedding model"),
        ({"shield_id": "s", "provider_id": "nope", "provider_shield_id": "guard"}, 400, "'nope'"),
        ({"shield_id": "guard", "provider_shield_id": "m"}, 409, "'guard'"),
    ],
)
def test_bad_registrations(server: Server, body: object, status: int, fragment: str) -> None:
    answer = httpx.post(server.url + "/v1/shields", json=body)
    assert answer.status_code == status, answer.text
    assert fragment in answer.json()["error"]["message"]


def test_unknown_shield_and_empty_conversation(server: Server) -> None:
    unknown = run(server, "ghost", "x")
    assert unknown.status_code == 404 and "'ghost'" in unknown.json()["error"]["message"]
    empty = httpx.post(server.url + "/v1/safety/run-shield", json={"shield_id": "guard", "messages": []})
    assert empty.status_code == 400 and "messages" in empty.json()["error"]["message"]


def test_config_shield_over_a_model_not_in_the_config_is_a_config_error(servers: ServerFactory) -> None:
    text = servers.full().replace("{shield_id: guard, provider_id: llama-guard}", "{shield_id: other-guard}")
    expect_one_line_error(servers.start(servers.config(text)), 2, "shields[0]", "'other-guard'")


def test_guard_model_down_is_a_clear_503(servers: ServerFactory) -> None:
    dead = "http://127.0.0.1:9"  # discard port: nothing answers
    text = servers.full().replace(f'url: "{servers.ollama_url}"', f'url: "{dead}", raise_on_connect_error: false')
    server = servers.running(servers.config(text))
    answer = run(server, "guard", "x")
    assert answer.status_code == 503 and dead in answer.json()["error"]["message"]
