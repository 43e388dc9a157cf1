"""Environment-variable substitution in run.yaml string values.

Llama Stack changed its placeholder grammar in 0.2.13 (see the research notes, section 2), and
configs of both eras are in the wild. We read the union of the two grammars, which is
unambiguous because the new forms start with ``:=`` / ``:+`` and the old ones with ``:`` / ``+``:

=========================  ===================  ======================
form                       variable set         variable unset or empty
=========================  ===================  ======================
``${env.X}``               its value            error (required)
``${env.X:=d}``            its value            ``d``
``${env.X:+v}``            ``v``                empty
``${env.X:d}`` (old)       its value            ``d``
``${env.X+v}`` (old)       ``v``                empty
=========================  ===================  ======================

Upstream leaves anything it cannot parse as literal text, which lets ``${env.`` leak into a
resolved value (a URL, a path) and fail far from its cause. We refuse instead: every ``${env.``
must be a complete placeholder, or the config is rejected with its path.

Typed coercion (empty -> None, true/false -> bool, numerals -> int/float) applies only to
strings in which a substitution happened, so a quoted ``"8080"`` stays a string.
"""

# Requirements (conformance/catalog.yaml): CORE-PLACEHOLDER-001, CFG-ENV-001, CFG-ENV-002,
#   CFG-ENV-003, CFG-ENV-004, CFG-ENV-005, CFG-ENV-006, CFG-ENV-007, CFG-ENV-009, CFG-ENV-013

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from typing import Any

from reference_server.config.errors import ConfigError, join_path

OPENER = "${env."
_NAME = re.compile(r"[A-Za-z0-9_]*")
_VALID_NAME = re.compile(r"[A-Z0-9_]+")
_INT = re.compile(r"[+-]?\d+")
_FLOAT = re.compile(r"[+-]?(\d+\.\d*|\.\d+|\d+(?=[eE]))([eE][+-]?\d+)?")

Scalar = str | int | float | bool | None


def is_set(env: Mapping[str, str], name: str) -> bool:
    """Upstream treats an empty variable as unset, in every form; so do we."""
    return bool(env.get(name, ""))


def _expand_home(value: str, env: Mapping[str, str]) -> str:
    if value == "~" or value.startswith("~/"):
        home = env.get("HOME") or os.path.expanduser("~")
        return home + value[1:]
    return value


# Seam (tests/defects/seams.py): a negative control replaces this (forms resolved as releases got them wrong).
def _placeholder(text: str, start: int, env: Mapping[str, str], path: str) -> tuple[str | None, int]:
    """Resolve the placeholder at ``text[start:]``; return its value and the index after it."""
    pos = start + len(OPENER)
    name_match = _NAME.match(text, pos)
    assert name_match is not None  # the pattern accepts the empty string
    name = name_match.group(0)
    pos = name_match.end()
    if not name:
        raise ConfigError(path, f"malformed placeholder {text[start : pos + 1]!r}: no variable name after '${{env.'")
    if not _VALID_NAME.fullmatch(name):
        raise ConfigError(
            path,
            f"malformed placeholder: variable name {name!r} must be upper-case letters, digits and '_'",
            variable=name,
        )
    close = text.find("}", pos)
    if close < 0:
        raise ConfigError(path, f"malformed placeholder {text[start:]!r}: missing closing '}}'", variable=name)
    operator_and_value = text[pos:close]
    if OPENER in operator_and_value or "${" in operator_and_value:
        raise ConfigError(path, f"nested placeholders are not supported in {text[start : close + 1]!r}", variable=name)

    if operator_and_value == "":
        if not is_set(env, name):
            raise ConfigError(
                path,
                f"environment variable {name!r} is not set or empty; set it, or write "
                f"${{env.{name}:=default}} for a default or ${{env.{name}:+value}} to make the field conditional",
                variable=name,
            )
        return _expand_home(env[name], env), close + 1
    if operator_and_value.startswith((":=", ":+")):
        operator, value = operator_and_value[:2], operator_and_value[2:]
    elif operator_and_value[0] in ":+":
        operator, value = operator_and_value[0], operator_and_value[1:]
    else:
        raise ConfigError(
            path,
            f"malformed placeholder {text[start : close + 1]!r}: after the name expected '}}', ':=', ':+', ':' or '+'",
            variable=name,
        )
    if operator == ":" and value[:1] in ("-", "?"):
        raise ConfigError(
            path,
            f"shell-style {':' + value[0]!r} is not supported in {text[start : close + 1]!r}; "
            f"write ${{env.{name}:=default}}",
            variable=name,
        )

    if operator in (":=", ":"):
        chosen = env[name] if is_set(env, name) else value
    else:  # ":+" and "+": a value only when the variable is set
        chosen = value if is_set(env, name) else ""
    return _expand_home(chosen, env), close + 1


# Longer numerals stay strings: no config number needs them, Python refuses to parse an int of
# over 4,300 digits, and a float this long is infinity, which no JSON answer can carry.
MAX_NUMERAL_LENGTH = 100


def coerce(text: str) -> Scalar:
    """Give a substituted string its natural type; only whole-string matches are converted."""
    if text == "":
        return None
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if len(text) > MAX_NUMERAL_LENGTH:
        return text
    if _INT.fullmatch(text):
        return int(text)
    if _FLOAT.fullmatch(text) and math.isfinite(value := float(text)):
        return value
    return text


def substitute_string(text: str, env: Mapping[str, str], path: str) -> Scalar:
    """Expand every placeholder in one string value."""
    start = text.find(OPENER)
    if start < 0:
        return text
    pieces: list[str] = []
    cursor = 0
    while start >= 0:
        pieces.append(text[cursor:start])
        value, cursor = _placeholder(text, start, env, path)
        pieces.append(value or "")
        start = text.find(OPENER, cursor)
    pieces.append(text[cursor:])
    return coerce("".join(pieces))


def substitute(value: Any, env: Mapping[str, str], path: str = "") -> Any:
    """Expand placeholders in every string of a YAML tree; keys are never touched."""
    if isinstance(value, str):
        return substitute_string(value, env, path)
    if isinstance(value, dict):
        return {key: substitute(item, env, join_path(path, str(key))) for key, item in value.items()}
    if isinstance(value, list):
        return [substitute(item, env, join_path(path, index)) for index, item in enumerate(value)]
    return value
