"""Reading Llama Guard's answers and writing its prompt."""

from __future__ import annotations

import pytest

from reference_server.errors import BadGateway
from reference_server.safety.llama_guard import CATEGORIES, guard_prompt, read_verdict


@pytest.mark.parametrize("answer", ["safe", " Safe \n", "\n\nsafe\n"])
def test_safe_answers(answer: str) -> None:
    assert read_verdict(answer, "g", set()) is None


def test_unsafe_answers_carry_their_categories_minus_the_excluded() -> None:
    verdict = read_verdict("unsafe\nS1, S10", "g", set())
    assert verdict is not None and verdict["violation_level"] == "error"
    assert verdict["metadata"] == {"violation_type": "S1,S10"}
    excluded = read_verdict("unsafe\nS1,S10", "g", {"S1"})
    assert excluded is not None and excluded["metadata"] == {"violation_type": "S10"}
    assert read_verdict("unsafe\nS7", "g", {"S7"}) is None
    assert read_verdict("UNSAFE", "g", set()) == {**verdict, "metadata": {"violation_type": ""}}


@pytest.mark.parametrize("answer", ["", "maybe", "I cannot help with that", "safety first"])
def test_unreadable_answers_are_a_bad_gateway_naming_the_model(answer: str) -> None:
    with pytest.raises(BadGateway, match="'guard-model'"):
        read_verdict(answer, "guard-model", set())


def test_prompt_judges_the_last_role_and_lists_only_included_categories() -> None:
    messages = [
        {"role": "user", "content": "question"},
        {"role": "assistant", "content": [{"type": "text", "text": "an answer"}]},
    ]
    categories = {code: name for code, name in CATEGORIES.items() if code != "S7"}
    prompt = guard_prompt(messages, categories)
    assert "ONLY THE LAST Agent message" in prompt and "Agent: an answer" in prompt and "User: question" in prompt
    assert "S7:" not in prompt and "S14: Code Interpreter Abuse." in prompt
    assert "ONLY THE LAST User message" in guard_prompt(messages[:1], categories)
