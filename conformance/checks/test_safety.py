"""Profile ``safety``: shields and run-shield (black box), and Llama Guard's verdicts, the
SAFETY_MODEL gate and the seed's two-vLLM layout on launched scenarios.

Black-box checks judge shapes only: what a real guard model thinks of a text is not the
target's contract. Verdicts are checked where the guard is the suite's fake, which answers
`unsafe` and S1 exactly when the conversation holds its marker.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from conformance.checks.shapes import (
    expect_data_list,
    expect_fields,
    expect_json_error,
    expect_listing,
    model_field,
    model_id,
    require_route,
    unique_id,
)
from conformance.fakes.openai_compat import UNSAFE_MARKER
from conformance.http import RecordingClient
from conformance.outcomes import inconclusive
from conformance.plugin import ScenarioAccess

requirement = pytest.mark.requirement
BENIGN = [{"role": "user", "content": "What is the capital of France?"}]
FLAGGED = [{"role": "user", "content": f"Tell me something {UNSAFE_MARKER} please."}]
GUARD_MODEL = "llama-guard3:1b"  # the starter-safety scenario's SAFETY_MODEL


def shields_of(api: RecordingClient) -> list[dict[str, Any]]:
    return [s for s in expect_data_list(api.get_json("/v1/shields"), "/v1/shields") if isinstance(s, dict)]


def first_shield(api: RecordingClient) -> str:
    listed = shields_of(api)
    if not listed:
        pytest.skip("the target lists no shield")
    return str(listed[0].get("identifier"))


def run_shield(api: RecordingClient, shield_id: str, messages: list[dict[str, Any]]) -> Any:
    body = {"shield_id": shield_id, "messages": messages, "params": {}}
    answer = api.post("/v1/safety/run-shield", json_body=body, expect=200).json()
    assert isinstance(answer, dict) and "violation" in answer, f"run-shield answered {answer!r:.300}"
    return answer["violation"]


@requirement("SAFE-SHIELD-001")
def test_shields_listing_and_get(stack_api: RecordingClient) -> None:
    require_route(stack_api, "GET", "/v1/shields", "safety")
    fields = {"identifier": str, "provider_resource_id": str, "provider_id": str, "type": str}
    listed = expect_listing(stack_api, "/v1/shields", fields)
    if not listed:
        pytest.skip("the target lists no shield")
    for where, shield in listed:
        assert shield["type"] == "shield", f"{where}: type is {shield['type']!r}, expected 'shield'"
        got = stack_api.get_json(f"/v1/shields/{shield['identifier']}")
        assert isinstance(got, dict) and got.get("identifier") == shield["identifier"], (
            f"GET /v1/shields/{shield['identifier']} answered {got!r:.200}"
        )


@requirement("SAFE-RUN-001")
def test_run_shield_answer_shape(stack_api: RecordingClient) -> None:
    require_route(stack_api, "POST", "/v1/safety/run-shield", "safety")
    shield = first_shield(stack_api)
    # The flagged text is unsafe only to the suite's fake guard; a real one may call it safe, and
    # then only the null case is judged. Either way both answers must have the documented shape.
    for messages in (BENIGN, FLAGGED):
        violation = run_shield(stack_api, shield, messages)
        if violation is not None:
            expect_fields(violation, {"violation_level": str, "user_message": str, "metadata": dict}, "violation")
            assert violation["violation_level"] in ("info", "warn", "error"), f"violation_level {violation!r:.200}"


@requirement("SAFE-RUN-004")
def test_unknown_shield_is_refused(stack_api: RecordingClient) -> None:
    require_route(stack_api, "POST", "/v1/safety/run-shield", "safety")
    ghost = unique_id("ghost-shield")
    response = stack_api.post("/v1/safety/run-shield", json_body={"shield_id": ghost, "messages": BENIGN, "params": {}})
    expect_json_error(response, range(400, 500), "running a shield that does not exist")
    assert ghost in response.text, f"the error does not name the shield {ghost!r}: {response.text[:300]}"


# The guard models Meta publishes and llama-stack names (LLAMA_GUARD_MODEL_IDS at v0.2.12).
LLAMA_GUARD_MODELS = (
    "meta-llama/Llama-Guard-3-8B",
    "meta-llama/Llama-Guard-3-11B-Vision",
    "meta-llama/Llama-Guard-3-1B",
)


@requirement("SAFE-REG-001")
def test_shield_over_an_unregistered_model_is_refused(stack_api: RecordingClient) -> None:
    require_route(stack_api, "POST", "/v1/shields", "safety")
    providers = expect_data_list(stack_api.get_json("/v1/providers"), "/v1/providers")
    guards = [p for p in providers if isinstance(p, dict) and p.get("provider_type") == "inline::llama-guard"]
    if not guards:
        pytest.skip("the target has no inline::llama-guard safety provider")
    # A real Llama Guard name, not a made-up one: a provider that only checks the name against
    # the guard models it knows (llama_guard.py at v0.2.12, register_shield) must still be caught.
    models = expect_data_list(stack_api.get_json("/v1/models"), "/v1/models")
    known = {str(m.get(key)) for m in models if isinstance(m, dict) for key in ("identifier", "provider_resource_id")}
    unregistered = [name for name in LLAMA_GUARD_MODELS if name not in known]
    if not unregistered:
        inconclusive(f"every Llama Guard model is registered on the target ({', '.join(LLAMA_GUARD_MODELS)})")
    shield_id, ghost = unique_id("shield"), unregistered[0]
    body = {"shield_id": shield_id, "provider_id": guards[0].get("provider_id"), "provider_shield_id": ghost}
    response = stack_api.post("/v1/shields", json_body=body)
    if response.status < 300:
        stack_api.delete(f"/v1/shields/{shield_id}")  # do not leave it behind where DELETE exists
    expect_json_error(response, range(400, 500), "registering a Llama Guard shield over an unregistered model")
    assert ghost in response.text, f"the error does not name the model {ghost!r}: {response.text[:300]}"


def safety_served(api: RecordingClient) -> RecordingClient:
    """A launched stack whose release has no safety API (OGX 1.x) lacks the capability: skip."""
    require_route(api, "POST", "/v1/safety/run-shield")
    return api


@pytest.fixture
def guarded(scenarios: ScenarioAccess) -> RecordingClient:
    return safety_served(scenarios.client(scenarios.pool.shared("starter-safety").url))


@requirement("SAFE-RUN-002")
def test_safe_answer_is_no_violation(guarded: RecordingClient) -> None:
    assert run_shield(guarded, GUARD_MODEL, BENIGN) is None


@requirement("SAFE-RUN-003")
def test_unsafe_answer_is_a_violation_with_its_category(guarded: RecordingClient) -> None:
    violation = run_shield(guarded, GUARD_MODEL, FLAGGED)
    assert isinstance(violation, dict), f"the guard model answered unsafe/S1, yet violation is {violation!r}"
    assert violation.get("violation_level") == "error", f"violation_level is {violation.get('violation_level')!r}"
    category = str((violation.get("metadata") or {}).get("violation_type", ""))
    assert "S1" in category.split(","), f"metadata.violation_type is {category!r}, not S1"


# Upstream's Llama Guard text for every violation (llama_guard.py at v0.2.12 and 0.7.3).
CANNED_REFUSAL = "I can't answer that. Can I help with something else?"


@requirement("SAFE-RUN-005")
def test_a_violation_tells_the_user_upstreams_refusal(guarded: RecordingClient) -> None:
    violation = run_shield(guarded, GUARD_MODEL, FLAGGED)
    if not isinstance(violation, dict):  # SAFE-RUN-003's defect; this check needs a violation to read
        inconclusive(f"the guard model answered unsafe/S1, yet violation is {violation!r}")
    assert violation.get("user_message") == CANNED_REFUSAL, f"user_message is {violation.get('user_message')!r}"


@requirement("SAFE-REG-002")
def test_shield_registered_at_run_time(scenarios: ScenarioAccess) -> None:
    api = safety_served(scenarios.client(scenarios.pool.launch("starter-safety").url))
    require_route(api, "POST", "/v1/shields")
    listed = [m for m in expect_data_list(api.get_json("/v1/models"), "/v1/models") if isinstance(m, dict)]
    guards = [model_id(m) for m in listed if model_field(m, "provider_resource_id") == GUARD_MODEL]
    assert len(guards) == 1, f"expected one model served as {GUARD_MODEL!r}, got {guards} of {len(listed)} listed"
    model, shield_id = guards[0], unique_id("shield")
    body = {"shield_id": shield_id, "provider_id": "llama-guard", "provider_shield_id": model}
    api.post("/v1/shields", json_body=body, expect=200)
    shields = [s.get("identifier") for s in shields_of(api)]
    assert shield_id in shields, f"GET /v1/shields does not list {shield_id!r}: {shields}"


@requirement("SAFE-GATE-001")
def test_safety_model_gates_the_shield(scenarios: ScenarioAccess) -> None:
    # The scenario with the variable set first: a dialect without it leaves the check not evaluated.
    with_model = safety_served(scenarios.client(scenarios.pool.shared("starter-safety").url))
    without = scenarios.client(scenarios.pool.shared("starter-without-ollama").url)
    unset = [s.get("identifier") for s in shields_of(without)]
    assert unset == [], f"shields with SAFETY_MODEL unset: {unset}"
    shields = [s.get("identifier") for s in shields_of(with_model)]
    assert shields == [GUARD_MODEL], f"shields with SAFETY_MODEL={GUARD_MODEL}: {shields}"


@requirement("SAFE-SEED-001")
def test_seed_layout_judges_on_the_second_vllm(scenarios: ScenarioAccess) -> None:
    launched = scenarios.pool.shared("safety-two-vllm")
    api = safety_served(scenarios.client(launched.url))
    guard_model = launched.env["SAFETY_MODEL"]
    main, guard = launched.fakes["vllm"], launched.fakes["safety-vllm"]
    main.clear_requests()
    guard.clear_requests()
    assert run_shield(api, guard_model, FLAGGED) is not None, "the shield let the flagged message through"

    def chats(fake: Any) -> list[Any]:
        return [json.loads(r["body"]).get("model") for r in fake.requests() if r["path"].endswith("/chat/completions")]

    assert chats(guard) == [guard_model], f"chat completions on SAFETY_VLLM_URL: {chats(guard)}"
    assert chats(main) == [], f"chat completions on VLLM_URL (should be none): {chats(main)}"
