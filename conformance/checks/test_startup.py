"""Profile ``startup``: the seed's pull request, the starter coming up without Ollama.

The fake Ollama of these scenarios starts *down* (its port refuses connections); one check
brings it up during the run to prove the server picks it up without a restart.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from conformance.checks.shapes import expect_data_list, expect_json_error, model_provider, openai_path
from conformance.checks.test_config import start_expecting_failure
from conformance.generation import Generation
from conformance.http import RecordingClient, Response, Unreachable
from conformance.plugin import ScenarioAccess

requirement = pytest.mark.requirement
STARTER = "starter-without-ollama"
WITH_MODEL = {"OLLAMA_INFERENCE_MODEL": "llama3.2:3b"}
CHAT = {"model": "ollama/llama3.2:3b", "messages": [{"role": "user", "content": "Say hello."}]}
# START-OLLAMA-005's bound: how long after Ollama comes up the same process must serve it.
PICKUP_BOUND_S = 60.0


def starter(scenarios: ScenarioAccess, env: dict[str, str] | None = None) -> RecordingClient:
    return scenarios.client(scenarios.pool.shared(STARTER, env).url)


@requirement("START-OLLAMA-001")
def test_starter_starts_without_ollama(scenarios: ScenarioAccess) -> None:
    body = starter(scenarios).get_json("/v1/health")
    assert isinstance(body, dict) and body.get("status") == "OK", f"/v1/health answered {body!r}"


@requirement("START-OLLAMA-002")
def test_starter_without_ollama_lists_no_ollama_model(scenarios: ScenarioAccess) -> None:
    models = expect_data_list(starter(scenarios).get_json("/v1/models"), "/v1/models")
    ollama = [m for m in models if isinstance(m, dict) and model_provider(m) == "ollama"]
    assert not ollama, f"models of the unreachable Ollama are listed: {ollama!r:.300}"


@requirement("START-OLLAMA-003")
def test_inference_without_ollama_is_a_clear_error(scenarios: ScenarioAccess, stack_generation: Generation) -> None:
    chat = openai_path(stack_generation, "chat/completions")
    response = starter(scenarios, WITH_MODEL).post(chat, json_body=CHAT)
    assert response.status != 500, f"a 500 for an unreachable Ollama: {response.text[:300]}"
    expect_json_error(response, {*range(400, 500), 503}, "chat while Ollama is unreachable")


def expect_start_up_fails_naming_ollama(scenarios: ScenarioAccess, name: str) -> None:
    launched = scenarios.pool.shared(name)
    exited = start_expecting_failure(scenarios, name)
    url = launched.fakes["ollama"].url
    assert url in exited.stderr + exited.stdout, f"the error does not name {url}: {exited.stderr.strip()[-400:]}"


@requirement("START-OLLAMA-004")
def test_required_ollama_stops_start_up_naming_its_url(scenarios: ScenarioAccess) -> None:
    expect_start_up_fails_naming_ollama(scenarios, "ollama-raise-on-connect")


@requirement("START-OLLAMA-006")
def test_ollama_is_required_by_default(scenarios: ScenarioAccess) -> None:
    expect_start_up_fails_naming_ollama(scenarios, "ollama-default-raise")


@requirement("START-OLLAMA-005")
def test_ollama_appearing_later_is_picked_up(scenarios: ScenarioAccess, stack_generation: Generation) -> None:
    launched = scenarios.pool.launch(STARTER, WITH_MODEL)  # its own instance: this check changes the fake
    api = scenarios.client(launched.url)
    chat = openai_path(stack_generation, "chat/completions")
    before = api.post(chat, json_body=CHAT)
    assert before.status != 200, f"chat succeeded before Ollama was up: {before.text[:200]}"
    launched.fakes["ollama"].up()
    deadline, seen = time.monotonic() + PICKUP_BOUND_S, []
    while True:  # a bounded wait for the observable condition: a chat is served
        answer: Response | None = None
        try:
            answer = api.post(chat, json_body=CHAT)
            seen.append(str(answer.status))
        except Unreachable as exc:  # a release retrying its backend inside one request
            seen.append(f"no answer ({exc})"[:80])
        if answer is not None and answer.status == 200:
            break
        if time.monotonic() >= deadline:
            pytest.fail(f"Ollama came up but chat was not served within {PICKUP_BOUND_S:g} s: {seen}")
        time.sleep(1.0)  # paces the attempts; the verdict rests on the answers
    after: Any = answer.json()
    assert (after.get("choices") or [{}])[0].get("message", {}).get("role") == "assistant", f"{after!r:.300}"
