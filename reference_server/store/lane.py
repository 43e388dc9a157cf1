"""A store's own worker thread: sqlite work never runs on the event loop.

sqlite calls block. Run on the event loop, a store locked by another process (a backup, a second
server on the same file) stalled everything behind its busy timeout: `/v1/health` waited
4.5-11.6 s, and an unrelated backend call timed out and blamed Ollama. Each store (and each
vector IO provider, whose index lives beside its rows) therefore hands its blocking work to one
thread of its own: the loop stays free, one locked store holds up only its own callers, and the
work keeps the order it was asked in, as it had under the store's lock.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


class Lane:
    def __init__(self, name: str) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"lane-{name}")

    async def run(self, work: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(work, *args, **kwargs))

    def close(self) -> None:
        self._executor.shutdown(wait=True)
