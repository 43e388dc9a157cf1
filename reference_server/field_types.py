"""Field types shared by provider and auth configs, so a bad value fails at load time with its path.

Without them a malformed URL surfaced as "cannot reach Ollama" and a missing CA file as a
traceback when the first client was built.
"""

from __future__ import annotations

import os
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator


def _http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"expected an http(s)://host[:port] URL, got {value!r}")
    try:
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        raise ValueError(f"malformed port in {value!r}") from None
    return value


def _existing_file(value: str) -> str:
    if not os.path.isfile(value):
        raise ValueError(f"file {value!r} does not exist")
    return value


def _verify(value: bool | str) -> bool | str:
    return value if isinstance(value, bool) else _existing_file(value)


HttpUrlText = Annotated[str, AfterValidator(_http_url)]
ExistingFile = Annotated[str, AfterValidator(_existing_file)]
TlsVerify = Annotated[bool | str, AfterValidator(_verify)]
