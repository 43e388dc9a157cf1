"""The ``${env.X}`` placeholders of a run.yaml, read as the stack expands them.

One reading for the lint (`conformance.config_lint`) and for what a config promises about the
live server (`conformance.run_config`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from conformance.generation import Generation

# A well-formed placeholder; what follows the name decides the form.
PLACEHOLDER = re.compile(r"\$\{env\.([A-Z0-9_]+)(?:(:=|:\+|:|\+)([^}]*))?\}")
DISABLED = "__disabled__"


def resolve(text: str, env: Mapping[str, str]) -> str:
    """A value as the stack expands it (set, default and conditional forms of either grammar)."""

    def value(match: re.Match[str]) -> str:
        current, form, operand = env.get(match.group(1)) or "", match.group(2) or "", match.group(3) or ""
        if form in (":", ":="):
            return current or operand
        if form in ("+", ":+"):
            return operand if current else ""
        return current

    return PLACEHOLDER.sub(value, text)


def switched_off(generation: Generation) -> frozenset[str]:
    """The provider ids that switch a provider off: before 0.2.13 none (every value is expanded),
    in llama-stack 0.7 and OGX ``__disabled__`` (core/stack.py at 0.7.3, replace_env_vars), on the
    reference server also an empty id, as CFG-GATE-006 asks."""
    if generation.is_reference:
        return frozenset({"", DISABLED})
    return frozenset() if not generation.in_window("0.2.13", None) else frozenset({DISABLED})


__all__ = ["DISABLED", "PLACEHOLDER", "resolve", "switched_off"]
