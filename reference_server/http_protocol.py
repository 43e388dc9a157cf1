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
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > MAX_CONNECTIONS:
            transport.write(_BUSY)
            transport.close()
            return
        self._arm()

    def _arm(self) -> None:
        self._disarm()
        self._header_deadline = self.loop.call_later(HEADER_TIMEOUT_S, self._headers_too_slow)

    def _disarm(self) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None

    def _waiting_for_headers(self) -> bool:
        return self.cycle is None or self.cycle.response_complete

    def _headers_too_slow(self) -> None:
        self._header_deadline = None
        if self._waiting_for_headers() and not self.transport.is_closing():
            self.transport.close()

    def handle_events(self) -> None:
        super().handle_events()
        if not self._waiting_for_headers():
            self._disarm()  # a request is under way: its body has its own bound

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)
