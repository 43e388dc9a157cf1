"""One page of an OpenAI-style listing: ``data`` after a cursor, with ``has_more``, ``first_id``
and ``last_id``. The stored chat completions and the files page the same way, so a client's
walk by ``after`` behaves the same on both."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from reference_server.errors import InvalidRequest


def _position(entries: Sequence[tuple[str, dict[str, Any]]], cursor: str, name: str, kind: str) -> int:
    ids = [identifier for identifier, _ in entries]
    if cursor not in ids:
        raise InvalidRequest(f"{name}: {kind} {cursor!r} is not in this listing")
    return ids.index(cursor)


def page(
    entries: Sequence[tuple[str, dict[str, Any]]],
    after: str | None,
    limit: int,
    kind: str,
    before: str | None = None,
) -> dict[str, Any]:
    """``entries``: (id, wire form) in listing order, already filtered to what the caller may see;
    ``before`` (OpenAI's, for vector stores) ends the listing at that entry. A cursor that is not
    among them is refused: a walk that silently restarted at the top would hand the client every
    entry again."""
    if before is not None:
        entries = entries[: _position(entries, before, "before", kind)]
    start = 0 if after is None else _position(entries, after, "after", kind) + 1
    chosen = [(identifier, wire) for identifier, wire in entries[start : start + limit]]
    return {
        "object": "list",
        "data": [wire for _, wire in chosen],
        "has_more": start + limit < len(entries),
        "first_id": chosen[0][0] if chosen else "",
        "last_id": chosen[-1][0] if chosen else "",
    }
