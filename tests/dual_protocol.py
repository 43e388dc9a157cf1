"""One loopback port that speaks both TLS and plain HTTP: the deployment a misconfigured proxy
makes. A connection that opens with a TLS handshake is passed through to a real HTTPS server;
any other is answered in the clear, as if served. The reference server (uvicorn) cannot do this,
so the check that an https port serves no plain HTTP is controlled with this front.
"""

from __future__ import annotations

import socket
import threading
from contextlib import suppress

TLS_HANDSHAKE = 0x16
PLAIN_ANSWER = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 16\r\nConnection: close\r\n\r\n"
    b'{"status": "OK"}'
)


class DualProtocolFront:
    def __init__(self, https_port: int) -> None:
        self.https_port = https_port
        self.stopping = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.port = self._listener.getsockname()[1]
        self._sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.stopping.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self._sockets.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with suppress(OSError):
            first = conn.recv(1, socket.MSG_PEEK)
            if first and first[0] == TLS_HANDSHAKE:
                upstream = socket.create_connection(("127.0.0.1", self.https_port), timeout=30)
                self._sockets.append(upstream)
                threading.Thread(target=_pipe, args=(upstream, conn), daemon=True).start()
                _pipe(conn, upstream)
            else:
                conn.recv(65536)
                conn.sendall(PLAIN_ANSWER)
                conn.close()

    def stop(self) -> None:
        self.stopping.set()
        for sock in [self._listener, *self._sockets]:
            with suppress(OSError):
                sock.close()


def _pipe(source: socket.socket, sink: socket.socket) -> None:
    with suppress(OSError):
        while chunk := source.recv(65536):
            sink.sendall(chunk)
    with suppress(OSError):
        sink.shutdown(socket.SHUT_WR)
