"""Defects of the safety profile (conformance/checks/test_safety.py): shields, run-shield, Llama Guard verdicts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reference_server.resources.registry import ShieldRegistry
from reference_server.safety import llama_guard
from reference_server.stack import Stack
from tests.defects.patching import (
    Apply,
    does_nothing,
    drop,
    each_entry,
    get,
    json_edit,
    json_rule,
    on_path,
    patch,
    rewrite_api,
)
from tests.defects.registry import defect
from tests.defects.vector_io import failing_get

defect("shield-listing-without-resource-id", "SAFE-SHIELD-001")(
    rewrite_api(json_rule(get("/v1/shields"), each_entry(drop("provider_resource_id"))))
)
defect("run-shield-without-violation", "SAFE-RUN-001")(
    rewrite_api(on_path("/v1/safety/run-shield", json_edit(lambda b: {"is_safe": True})))
)
defect("violation-level-outside-the-enum", "SAFE-RUN-001")(
    rewrite_api(
        on_path(
            "/v1/safety/run-shield",
            json_edit(lambda b: {"violation": {**b["violation"], "violation_level": "fatal"}} if b["violation"] else b),
        )
    )
)


def verdict_defect(edit: Callable[[Any], Any]) -> Apply:
    def apply() -> None:
        original = llama_guard.read_verdict
        llama_guard.read_verdict = lambda answer, model, excluded: edit(original(answer, model, excluded))

    return apply


defect("guard-flags-everything", "SAFE-RUN-002")(
    verdict_defect(
        lambda _verdict: {"violation_level": "error", "user_message": "blocked", "metadata": {"violation_type": "S1"}}
    )
)
defect("violation-without-category", "SAFE-RUN-003")(
    verdict_defect(lambda verdict: None if verdict is None else {**verdict, "metadata": {}})
)
defect("unknown-shield-500", "SAFE-RUN-004", crashes=True)(patch(ShieldRegistry, "get", failing_get("shield")))


@defect("shield-model-unchecked", "SAFE-REG-001")
def shield_checks_skipped() -> None:
    """Register any shield, whatever its model: upstream finds out on the first run-shield."""
    llama_guard.require_guard_model = lambda shield, find_model: None


@defect("shield-name-checked-only", "SAFE-REG-001")
def shield_name_checked_only() -> None:
    """Take one of Meta's guard names on trust, registered or not (llama-stack 0.2.12's
    register_shield checks only the name): a made-up name is still refused, a real one never."""
    guard_names = {f"meta-llama/Llama-Guard-3-{size}" for size in ("1B", "8B", "11B-Vision")}
    checked = llama_guard.require_guard_model

    def by_name(shield: Any, find_model: Any) -> None:
        if shield.provider_resource_id not in guard_names:
            checked(shield, find_model)

    llama_guard.require_guard_model = by_name


# A registration is answered with the shield and kept nowhere.
defect("shield-registration-not-stored", "SAFE-REG-002")(does_nothing(ShieldRegistry, "register", echo=True))


@defect("config-shields-dropped", "SAFE-GATE-001")
def config_shields_dropped() -> None:
    ShieldRegistry.adopt_config = lambda self, items: None  # type: ignore[method-assign]


@defect("guard-on-first-provider", "SAFE-SEED-001")
def judge_on_first_provider() -> None:
    async def judge(self: Any, model_id: str, messages: list[Any]) -> str:
        model = self.models.get(model_id)
        first = next(p for p in self.providers if p.api == "inference")
        return await first.chat_text(model.provider_resource_id, messages)  # type: ignore[no-any-return]

    Stack.judge = judge  # type: ignore[method-assign]


@defect("violation-with-our-own-words", "SAFE-RUN-005")
def violation_with_our_own_words() -> None:
    """The reference server's text before issue 19, not the one clients of upstream match on."""
    llama_guard.USER_MESSAGE = "The message was blocked by a safety shield."
