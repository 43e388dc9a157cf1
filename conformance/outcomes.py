"""The verdict vocabulary, and how a pytest outcome maps onto it.

pytest knows pass, fail and skip. The suite needs three more kinds of "did not pass", so they
travel as skips with a tag in the reason; that survives pytest-xdist's report serialisation
without any custom transport.
"""

from __future__ import annotations

from typing import NoReturn

import pytest

PASS = "pass"
FAIL = "fail"
SKIP = "skip"
NOT_EVALUATED = "not-evaluated"
INCONCLUSIVE = "inconclusive"
OUT_OF_WINDOW = "out-of-window"

_TAGS = {NOT_EVALUATED, INCONCLUSIVE, OUT_OF_WINDOW}

# A requirement's verdict is the first of these among its checks' outcomes. Checks that could
# not run (not evaluated, skipped) do not outweigh one that ran and passed, and a requirement is
# out of window only when all of its checks are.
PRECEDENCE = [FAIL, INCONCLUSIVE, PASS, NOT_EVALUATED, SKIP, OUT_OF_WINDOW]


def _skip_with(tag: str, reason: str) -> NoReturn:
    pytest.skip(f"[{tag}] {reason}")


def not_evaluated(reason: str) -> NoReturn:
    """The check needs something this run does not have (a launcher, a second token)."""
    _skip_with(NOT_EVALUATED, reason)


def inconclusive(reason: str) -> NoReturn:
    """The check could not have failed (for example every request answered 401)."""
    _skip_with(INCONCLUSIVE, reason)


def out_of_window(reason: str) -> NoReturn:
    _skip_with(OUT_OF_WINDOW, reason)


def split_skip_reason(reason: str) -> tuple[str, str]:
    """``"[inconclusive] why"`` -> (``inconclusive``, ``why``); untagged skips are plain skips."""
    reason = reason.removeprefix("Skipped: ")
    if reason.startswith("["):
        tag, _, rest = reason[1:].partition("] ")
        if tag in _TAGS:
            return tag, rest
    return SKIP, reason


def combine(outcomes: list[str]) -> str:
    if not outcomes:
        return NOT_EVALUATED
    if all(outcome == OUT_OF_WINDOW for outcome in outcomes):
        return OUT_OF_WINDOW
    relevant = [outcome for outcome in outcomes if outcome != OUT_OF_WINDOW]
    return min(relevant, key=PRECEDENCE.index)
