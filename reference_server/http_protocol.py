"""uvicorn's HTTP/1.1 protocol with the two bounds it lacks: time to send request headers, and
the number of open connections.

uvicorn bounds idle keep-alive time, but not how long a client may take to send its headers:
a client that opens a connection and sends nothing, or one byte now and then (slowloris), held
its connection for ever, and 1,100 of them exhausted 1,024 descriptors and locked every client
out. Here every connection must deliver a request's headers within `HEADER_TIMEOUT_S` of
opening (or of its previous response), and connections beyond `MAX_CONNECTIONS` are answered
503 in the error shape and closed at once, before they can hold a descriptor for long. The time
to receive a body is bounded by the body reader (`reference_server.api.limits`).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

HEADER_TIMEOUT_S = 10.0


def _descriptor_limit() -> int:
    try:
        import resource  # POSIX only
    except ImportError:
        return 1024
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    return soft if soft != resource.RLIM_INFINITY else 65536


# Below the descriptor limit, with room for the stores, the log and outbound connections.
MAX_CONNECTIONS = max(64, min(4096, _descriptor_limit() - 128))

_BUSY_BODY = json.dumps({"error": {"message": "Server busy: too many open connections; retry shortly"}}).encode()
_BUSY = (
    b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nconnection: close\r\n"
    b"retry-after: 1\r\ncontent-length: " + str(len(_BUSY_BODY)).encode() + b"\r\n\r\n" + _BUSY_BODY
)


class BoundedH11Protocol(H11Protocol):
    """One watch timer per connection, not one per request: the watch notes when the connection
    began to wait for headers (opening, or its last response) and closes it once that wait
    reaches `HEADER_TIMEOUT_S`; otherwise it looks again when the wait could next run out. A
    timer armed and cancelled around every request cost more than the rest of this class."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._watch: asyncio.TimerHandle | None = None
        self._waiting_since = 0.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > MAX_CONNECTIONS:
            transport.write(_BUSY)
            transport.close()
            return
        self._waiting_since = self.loop.time()
        self._watch = self.loop.call_later(HEADER_TIMEOUT_S, self._look)

    def _waiting_for_headers(self) -> bool:
        return self.cycle is None or self.cycle.response_complete

    def _look(self) -> None:
        self._watch = None
        if self.transport.is_closing():
            return
        delay = HEADER_TIMEOUT_S  # a request under way: its body has its own bound
        if self._waiting_for_headers():
            delay = HEADER_TIMEOUT_S - (self.loop.time() - self._waiting_since)
            if delay <= 0:
                self.transport.close()
                return
        self._watch = self.loop.call_later(delay, self._look)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._waiting_since = self.loop.time()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._watch is not None:
            self._watch.cancel()
            self._watch = None
        super().connection_lost(exc)
