"""One outbound request with a bound on its whole exchange, for the endpoints auth depends on.

httpx's timeouts bound each read, not the request: an issuer or validator that drips a byte a
second, or streams without end, would hold the request (and, for the JWKS, the key refresh that
every new token waits on) for as long as it likes, and a huge answer would be buffered whole.
Here the whole exchange has one deadline and the answer a size cap.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

MAX_ANSWER_BYTES = 1 << 20


class AnswerTooLarge(Exception):
    pass


async def bounded_request(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    deadline_s: float,
    max_bytes: int = MAX_ANSWER_BYTES,
    **kwargs: Any,
) -> tuple[int, bytes]:
    """(status, body); raises TimeoutError past the deadline, `AnswerTooLarge` past the cap, and
    httpx's errors for a failed exchange."""
    async with asyncio.timeout(deadline_s), client.stream(method, url, **kwargs) as answer:
        chunks: list[bytes] = []
        size = 0
        async for chunk in answer.aiter_raw():
            size += len(chunk)
            if size > max_bytes:
                raise AnswerTooLarge(f"the answer is larger than {max_bytes} bytes")
            chunks.append(chunk)
        return answer.status_code, b"".join(chunks)
