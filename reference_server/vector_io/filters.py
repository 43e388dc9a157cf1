"""OpenAI's attribute filters for vector store search: a comparison (``eq``, ``ne``, ``gt``,
``gte``, ``lt``, ``lte`` of ``key`` against ``value``) or a compound (``and``, ``or`` of
``filters``). A filter is checked whole before any search runs, so a typo is a 400 naming it
rather than a search that quietly matches nothing."""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

from reference_server.errors import InvalidRequest

COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": operator.eq,
    "ne": operator.ne,
    "gt": operator.gt,
    "gte": operator.ge,
    "lt": operator.lt,
    "lte": operator.le,
}
COMPOUNDS = {"and": all, "or": any}
MAX_DEPTH = 8


def check_filter(spec: Any, where: str = "filters", depth: int = 0) -> None:
    if depth > MAX_DEPTH:
        raise InvalidRequest(f"{where}: nested more than {MAX_DEPTH} levels")
    kind = spec.get("type") if isinstance(spec, dict) else None
    if kind in COMPARISONS:
        assert isinstance(spec, dict)
        if not isinstance(spec.get("key"), str) or "value" not in spec or set(spec) != {"type", "key", "value"}:
            raise InvalidRequest(f"{where}: a {kind!r} filter has exactly a string `key` and a `value`")
        if not isinstance(spec["value"], str | int | float | bool):
            raise InvalidRequest(f"{where}.value: must be a string, number or boolean")
    elif kind in COMPOUNDS:
        assert isinstance(spec, dict)
        parts = spec.get("filters")
        if not isinstance(parts, list) or set(spec) != {"type", "filters"}:
            raise InvalidRequest(f"{where}: an {kind!r} filter has exactly a list of `filters`")
        for index, part in enumerate(parts):
            check_filter(part, f"{where}.filters[{index}]", depth + 1)
    else:
        known = ", ".join([*COMPARISONS, *COMPOUNDS])
        raise InvalidRequest(f"{where}.type: {kind!r} is not a filter type ({known})")


def matches(attributes: dict[str, Any], spec: dict[str, Any]) -> bool:
    """Whether ``attributes`` pass a checked filter; an attribute that is missing, or of a type
    that cannot be compared with the value, does not match."""
    kind = spec["type"]
    if kind in COMPOUNDS:
        return COMPOUNDS[kind](matches(attributes, part) for part in spec["filters"])
    if spec["key"] not in attributes:
        return False
    try:
        return bool(COMPARISONS[kind](attributes[spec["key"]], spec["value"]))
    except TypeError:
        return False
