"""What a backend puts in a completion cannot break the listing of stored completions."""

from __future__ import annotations

import asyncio
from pathlib import Path

from reference_server.resources.chat_completions import ChatCompletionStore
from reference_server.store.kvstore import SqliteKVStore


def test_a_created_that_is_no_integer_sorts_as_zero(tmp_path: Path) -> None:
    store = ChatCompletionStore(SqliteKVStore(tmp_path / "chats.db"))
    try:
        for ident, created in (("a", 5), ("b", "yesterday"), ("c", 7), ("d", None)):
            asyncio.run(store.add({"id": ident, "created": created, "model": "m"}, [], None))
        assert [c["id"] for c in store.page(None, None, 10, None, "desc")["data"]] == ["c", "a", "d", "b"]
    finally:
        store.close()
