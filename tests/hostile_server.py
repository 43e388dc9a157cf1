"""A loopback HTTP endpoint that misbehaves on purpose, for the tests of both halves.

It plays a hostile JWKS issuer or validator for the reference server, and a hostile target for
the suite. The fakes in conformance/fakes cannot: they are well-formed HTTP servers (uvicorn),
and these behaviours break HTTP itself (headers that never end, bodies without end).

Each connection is handled by a `Behaviour`: a function that reads nothing more (the request
line and headers are read already) and then writes whatever it likes, as slowly or as endlessly
as it likes. Writes stop as soon as the peer closes, and `stop()` ends every connection, so
nothing outlives a test.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress

Behaviour = Callable[[socket.socket, "HostileServer"], None]


class HostileServer:
    def __init__(self, behaviour: Behaviour) -> None:
        self.behaviour = behaviour
        self.stopping = threading.Event()
        self.requests: list[bytes] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._threads: list[threading.Thread] = []
        self._accepting = threading.Thread(target=self._accept, daemon=True)
        self._accepting.start()

    def _accept(self) -> None:
        while not self.stopping.is_set():
            try:
                conn, _ = self._listener.accept()
            except (TimeoutError, OSError):
                continue
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _serve(self, conn: socket.socket) -> None:
        with conn, suppress(OSError):
            conn.settimeout(5)
            head = b""
            while b"\r\n\r\n" not in head and len(head) < 65536:
                data = conn.recv(4096)
                if not data:
                    return
                head += data
            self.requests.append(head)
            self.behaviour(conn, self)

    def stop(self) -> None:
        self.stopping.set()
        self._listener.close()
        for thread in self._threads:
            thread.join(timeout=5)


@contextmanager
def hostile(behaviour: Behaviour) -> Iterator[HostileServer]:
    server = HostileServer(behaviour)
    try:
        yield server
    finally:
        server.stop()


def answer(status: int, body: bytes, content_type: str = "application/json") -> Behaviour:
    def behave(conn: socket.socket, _server: HostileServer) -> None:
        head = f"HTTP/1.1 {status} X\r\ncontent-type: {content_type}\r\ncontent-length: {len(body)}\r\n"
        conn.sendall(head.encode() + b"connection: close\r\n\r\n" + body)

    return behave


def answer_json(value: object, status: int = 200) -> Behaviour:
    return answer(status, json.dumps(value).encode())


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def drip(prefix: bytes, every_s: float = 0.5) -> Behaviour:
    """Send ``prefix``, then one byte of a header line every ``every_s`` seconds, for ever."""

    def behave(conn: socket.socket, server: HostileServer) -> None:
        conn.sendall(prefix)
        while not server.stopping.wait(every_s):
            conn.sendall(b"x")

    return behave


def endless(head: bytes, piece: bytes, pace_s: float = 0.0) -> Behaviour:
    """Send ``head``, then ``piece`` over and over (a body or an event stream that never ends)."""

    def behave(conn: socket.socket, server: HostileServer) -> None:
        conn.sendall(head)
        while not server.stopping.is_set():
            conn.sendall(piece)
            if pace_s:
                time.sleep(pace_s)  # the pace of the stream itself, not a synchronisation

    return behave


CHUNKED_JSON = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n"
SSE = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"


def chunk(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


def by_path(routes: dict[str, Behaviour], default: Behaviour) -> Behaviour:
    """Dispatch on the request's path (``GET /v1/version`` -> ``/v1/version``)."""

    def behave(conn: socket.socket, server: HostileServer) -> None:
        line = server.requests[-1].split(b"\r\n", 1)[0].decode("latin-1")
        path = line.split(" ")[1].split("?")[0] if line.count(" ") >= 2 else ""
        routes.get(path, default)(conn, server)

    return behave


def huge(total: int, piece: bytes = b" " * 65536) -> Behaviour:
    """A JSON-typed answer of ``total`` bytes, sent as fast as the peer reads."""

    def behave(conn: socket.socket, server: HostileServer) -> None:
        conn.sendall(f"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {total}\r\n\r\n".encode())
        sent = 0
        while sent < total and not server.stopping.is_set():
            conn.sendall(piece[: total - sent])
            sent += len(piece)

    return behave
