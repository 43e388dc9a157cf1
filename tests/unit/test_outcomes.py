"""How check outcomes combine into a requirement's verdict."""

from __future__ import annotations

from conformance.outcomes import combine, split_skip_reason


def test_split_skip_reason() -> None:
    assert split_skip_reason("[inconclusive] every request answered 401") == (
        "inconclusive",
        "every request answered 401",
    )
    assert split_skip_reason("Skipped: [not-evaluated] needs a launcher") == ("not-evaluated", "needs a launcher")
    assert split_skip_reason("[bogus] x") == ("skip", "[bogus] x")
    assert split_skip_reason("no llm model") == ("skip", "no llm model")


def test_combine() -> None:
    assert combine(["pass", "fail", "skip"]) == "fail"
    assert combine(["pass", "inconclusive"]) == "inconclusive"
    assert combine(["pass", "out-of-window"]) == "pass"
    assert combine(["out-of-window", "out-of-window"]) == "out-of-window"
    assert combine(["skip", "not-evaluated"]) == "not-evaluated"
    assert combine(["pass", "not-evaluated", "skip"]) == "pass"  # one check really ran and passed
    assert combine([]) == "not-evaluated"
