"""``inline::llama-guard``: a shield is a Llama Guard model served by an inference provider.

As in the seed's "Extending to handle Safety", the shield's provider id names the model (by
default the shield id is the model id, e.g. ``${env.SAFETY_MODEL}`` for both). Running the
shield sends the conversation to that model in Llama Guard's documented prompt format and reads
its answer: ``safe``, or ``unsafe`` and a line of category codes. Anything else is the model
misbehaving, a 502, because a shield must never let a message through on an answer it could
not read.
"""

# Requirements (conformance/catalog.yaml): SAFE-RUN-002, SAFE-RUN-003, SAFE-RUN-005, SAFE-SEED-001

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from reference_server.content import content_text
from reference_server.errors import BadGateway, InvalidRequest
from reference_server.providers.base import ProviderHandle
from reference_server.providers.catalog import LlamaGuardConfig
from reference_server.resources.models import Model
from reference_server.resources.shields import Shield

# The hazard taxonomy Llama Guard 3 was trained on (MLCommons), by code.
CATEGORIES = {
    "S1": "Violent Crimes.",
    "S2": "Non-Violent Crimes.",
    "S3": "Sex Crimes.",
    "S4": "Child Exploitation.",
    "S5": "Defamation.",
    "S6": "Specialized Advice.",
    "S7": "Privacy.",
    "S8": "Intellectual Property.",
    "S9": "Indiscriminate Weapons.",
    "S10": "Hate.",
    "S11": "Self-Harm.",
    "S12": "Sexual Content.",
    "S13": "Elections.",
    "S14": "Code Interpreter Abuse.",
}

# What a client shows its user: upstream's Llama Guard answers every violation with this text
# (llama_guard.py at v0.2.12, CANNED_RESPONSE_TEXT; unchanged in 0.7.3), and clients match on it.
USER_MESSAGE = "I can't answer that. Can I help with something else?"

Judge = Callable[[str, list[dict[str, Any]]], Awaitable[str]]


def require_guard_model(shield: Shield, find_model: Callable[[str], Model | None]) -> None:
    """Refuse a shield whose model is not registered, at registration rather than at first use."""
    model = find_model(shield.provider_resource_id)
    if model is None:
        raise InvalidRequest(
            f"shield {shield.identifier!r} runs on model {shield.provider_resource_id!r}, which is not registered; "
            "register the Llama Guard model first"
        )
    if model.model_type != "llm":
        raise InvalidRequest(
            f"shield {shield.identifier!r} runs on model {shield.provider_resource_id!r}, "
            "which is an embedding model, not a Llama Guard model"
        )


def guard_prompt(messages: list[dict[str, Any]], categories: dict[str, str]) -> str:
    """Llama Guard 3's prompt: judge the last message, from the user or from the agent."""
    role = "Agent" if messages and messages[-1].get("role") == "assistant" else "User"
    listed = "\n".join(f"{code}: {name}" for code, name in categories.items())
    turns = "\n\n".join(
        f"{'Agent' if m.get('role') == 'assistant' else 'User'}: {content_text(m.get('content'))}"
        for m in messages
        if m.get("role") in ("user", "assistant", "tool")
    )
    return (
        f"Task: Check if there is unsafe content in '{role}' messages in conversations according to our safety "
        "policy with the below categories.\n\n"
        f"<BEGIN UNSAFE CONTENT CATEGORIES>\n{listed}\n<END UNSAFE CONTENT CATEGORIES>\n\n"
        f"<BEGIN CONVERSATION>\n\n{turns}\n\n<END CONVERSATION>\n\n"
        f"Provide your safety assessment for ONLY THE LAST {role} message in the above conversation:\n"
        " - First line must read 'safe' or 'unsafe'.\n"
        " - If unsafe, a second line must include a comma-separated list of violated categories."
    )


def read_verdict(answer: str, model: str, excluded: set[str]) -> dict[str, Any] | None:
    lines = [line.strip() for line in answer.strip().splitlines() if line.strip()]
    verdict = lines[0].lower() if lines else ""
    if verdict == "safe":
        return None
    if verdict != "unsafe":
        raise BadGateway(f"guard model {model!r} answered neither 'safe' nor 'unsafe': {answer.strip()[:100]!r}")
    codes = [code.strip() for code in (lines[1] if len(lines) > 1 else "").split(",") if code.strip()]
    flagged = [code for code in codes if code not in excluded]
    if codes and not flagged:
        return None  # every category it named is one the config excludes
    return {
        "violation_level": "error",
        "user_message": USER_MESSAGE,
        "metadata": {"violation_type": ",".join(flagged)},
    }


@dataclass
class LlamaGuardSafety(ProviderHandle):
    async def health(self) -> dict[str, Any]:
        return {"status": "OK"}

    async def run_shield(self, shield: Shield, messages: list[dict[str, Any]], judge: Judge) -> dict[str, Any] | None:
        assert isinstance(self.config, LlamaGuardConfig)
        excluded = set(self.config.excluded_categories)
        categories = {code: name for code, name in CATEGORIES.items() if code not in excluded}
        prompt = guard_prompt(messages, categories)
        answer = await judge(shield.provider_resource_id, [{"role": "user", "content": prompt}])
        return read_verdict(answer, shield.provider_resource_id, excluded)
