"""JSON as RFC 8259 defines it, with bounds a server can live with.

Python's parser takes ``NaN`` and ``Infinity``, turns ``1e400`` into infinity, and accepts
nesting until the interpreter's recursion limit. None of that can be written back as JSON: one
such value stored in a model's metadata or a chunk made every later listing of it unserialisable
(a permanent 500, persisted across restarts), and deep nesting overflowed the recursion of the
code that walks a body. So every body from a client or a backend is read with this parser, which
refuses all of it up front with a `json.JSONDecodeError` (a ValueError) naming the position:

* the constants ``NaN``, ``Infinity`` and ``-Infinity``;
* numbers that overflow a double (``1e400``) and integers longer than `MAX_INT_DIGITS` digits;
* nesting deeper than `MAX_DEPTH` arrays and objects.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

MAX_DEPTH = 64
MAX_INT_DIGITS = 400
# Strings are skipped whole (brackets inside them do not nest); only brackets are counted.
_STRING_OR_BRACKET = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


class _Refused(Exception):
    def __init__(self, what: str, token: str) -> None:
        self.what = what
        self.token = token


def _constant(name: str) -> Any:
    raise _Refused(f"{name} is not valid JSON", name)


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _Refused(f"the number {text[:40]} is too large for a double", text)
    return value


def _int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise _Refused(f"an integer of {len(text)} digits is too long (at most {MAX_INT_DIGITS})", text)
    return int(text)


def _check_depth(text: str) -> None:
    depth = 0
    for match in _STRING_OR_BRACKET.finditer(text):
        token = match.group(0)
        if token in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                raise json.JSONDecodeError(f"nested deeper than {MAX_DEPTH} levels", text, match.start())
        elif token in "]}":
            depth -= 1


def loads(data: str | bytes) -> Any:
    """Parse JSON strictly; everything refused raises `json.JSONDecodeError` with a position."""
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    _check_depth(text)
    try:
        return json.loads(text, parse_constant=_constant, parse_float=_float, parse_int=_int)
    except _Refused as exc:
        raise json.JSONDecodeError(exc.what, text, max(text.find(exc.token), 0)) from None
    except RecursionError:  # a depth the bracket count did not see (it cannot, but never a 500)
        raise json.JSONDecodeError(f"nested deeper than {MAX_DEPTH} levels", text, 0) from None
