"""How a file's text becomes the chunks of a vector store: OpenAI's chunking strategies.

``auto`` is OpenAI's default (800-token windows overlapping by 400); ``static`` names both
numbers (``max_chunk_size_tokens`` 100-4096, overlap at most half of it). Tokens are counted as
whitespace-separated words: upstream counts tiktoken tokens, which needs a download at start-up
(research/llama-stack-observed.md §1); a word is the nearest count that needs nothing.
"""

from __future__ import annotations

from typing import Any

from reference_server.errors import InvalidRequest

AUTO = {"type": "auto"}
AUTO_MAX_TOKENS, AUTO_OVERLAP_TOKENS = 800, 400
MAX_TOKENS_BOUNDS = (100, 4096)


def check_strategy(strategy: Any, where: str = "chunking_strategy") -> dict[str, Any]:
    """The strategy in its full wire form, or a 400 naming what is wrong with it."""
    if strategy is None:
        return dict(AUTO)
    if not isinstance(strategy, dict) or strategy.get("type") not in ("auto", "static"):
        raise InvalidRequest(f"{where}.type: must be 'auto' or 'static'")
    if strategy["type"] == "auto":
        if set(strategy) != {"type"}:
            raise InvalidRequest(f"{where}: an 'auto' strategy takes no other field")
        return dict(AUTO)
    static = strategy.get("static")
    if not isinstance(static, dict) or set(strategy) != {"type", "static"}:
        raise InvalidRequest(f"{where}.static: is required for a 'static' strategy, and alone")
    size, overlap = static.get("max_chunk_size_tokens"), static.get("chunk_overlap_tokens", AUTO_OVERLAP_TOKENS)
    low, high = MAX_TOKENS_BOUNDS
    if not isinstance(size, int) or isinstance(size, bool) or not low <= size <= high:
        raise InvalidRequest(f"{where}.static.max_chunk_size_tokens: must be a whole number from {low} to {high}")
    if not isinstance(overlap, int) or isinstance(overlap, bool) or not 0 <= overlap <= size // 2:
        raise InvalidRequest(f"{where}.static.chunk_overlap_tokens: must be a whole number from 0 to {size // 2}")
    unknown = sorted(set(static) - {"max_chunk_size_tokens", "chunk_overlap_tokens"})
    if unknown:
        raise InvalidRequest(f"{where}.static: unknown field {unknown[0]!r}")
    return {"type": "static", "static": {"max_chunk_size_tokens": size, "chunk_overlap_tokens": overlap}}


def chunk_text(text: str, strategy: dict[str, Any]) -> list[str]:
    """Overlapping windows of words; a text shorter than one window is one chunk, and a text of
    only whitespace none."""
    if strategy["type"] == "static":
        size, overlap = strategy["static"]["max_chunk_size_tokens"], strategy["static"]["chunk_overlap_tokens"]
    else:
        size, overlap = AUTO_MAX_TOKENS, AUTO_OVERLAP_TOKENS
    words = text.split()
    chunks = []
    for start in range(0, len(words), size - overlap):
        chunks.append(" ".join(words[start : start + size]))
        if start + size >= len(words):
            break
    return chunks
