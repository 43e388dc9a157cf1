"""Plain text out of the seed era's "interleaved content" (a string, or a list of items)."""

from __future__ import annotations

from typing import Any


def content_text(content: Any) -> str:
    """Text items are joined; other items (images) carry no text to embed or to judge."""
    if isinstance(content, str):
        return content
    if isinstance(content, dict):
        return str(content.get("text") or "")
    if isinstance(content, list):
        return "".join(content_text(item) for item in content)
    return "" if content is None else str(content)
