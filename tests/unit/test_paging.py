"""The one pager of OpenAI-style listings (stored chat completions, files, vector stores, their files)."""

from __future__ import annotations

import pytest

from reference_server.errors import InvalidRequest
from reference_server.resources.paging import page

ENTRIES = [(name, {"id": name}) for name in "abcde"]


def ids(listing: dict[str, object]) -> list[str]:
    return [entry["id"] for entry in listing["data"]]  # type: ignore[attr-defined]


def test_pages_walk_once_and_say_where_they_end() -> None:
    first = page(ENTRIES, None, 2, "thing")
    assert (ids(first), first["has_more"], first["first_id"], first["last_id"]) == (["a", "b"], True, "a", "b")
    last = page(ENTRIES, "d", 2, "thing")
    assert (ids(last), last["has_more"]) == (["e"], False)


def test_before_ends_the_listing_and_after_walks_inside_it() -> None:
    assert ids(page(ENTRIES, None, 10, "thing", before="d")) == ["a", "b", "c"]
    window = page(ENTRIES, "a", 1, "thing", before="d")
    assert (ids(window), window["has_more"]) == (["b"], True)
    assert page(ENTRIES, None, 10, "thing", before="a")["data"] == []


@pytest.mark.parametrize(
    ("after", "before", "named"), [("zz", None, "after"), (None, "zz", "before"), ("d", "c", "after")]
)
def test_a_cursor_outside_the_listing_is_refused_by_name(after: str | None, before: str | None, named: str) -> None:
    with pytest.raises(InvalidRequest, match=f"^{named}: thing"):
        page(ENTRIES, after, 10, "thing", before)
