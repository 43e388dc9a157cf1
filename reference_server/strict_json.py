"""JSON as RFC 8259 defines it: Python's parser also takes ``NaN`` and ``Infinity``, which no
JSON encoder may write back. One such value stored in a model's metadata or a chunk would make
every later listing of it unserialisable (a permanent 500, persisted across restarts), so every
body from a client or a backend is read with this parser instead.
"""

from __future__ import annotations

import json
from typing import Any

_CONSTANTS = ("NaN", "-Infinity", "Infinity")


class _Constant(Exception):
    def __init__(self, name: str) -> None:
        self.name = name


def _reject(name: str) -> Any:
    raise _Constant(name)


def loads(data: str | bytes) -> Any:
    """Parse JSON; ``NaN``/``Infinity`` raise `json.JSONDecodeError` (a ValueError) with a position."""
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    try:
        return json.loads(text, parse_constant=_reject)
    except _Constant as exc:
        raise json.JSONDecodeError(f"{exc.name} is not valid JSON", text, max(text.find(exc.name), 0)) from None
