"""Soak: hundreds of idle and slowloris connections, and health answers within its bound all along.

The held connections are closed by the server's header deadline (10 s), which is the observable
end of the soak; health is probed on fresh connections every quarter second meanwhile.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time

import httpx

from tests.conftest import ServerFactory

HELD = 300  # below the server's connection cap on a 1,024-descriptor machine
HEALTH_BOUND_S = 1.0


def test_health_stays_prompt_while_slow_and_idle_connections_are_held(servers: ServerFactory) -> None:
    server = servers.running()
    host, port = server.url.removeprefix("http://").split(":")
    held = [socket.create_connection((host, int(port))) for _ in range(HELD)]
    for index, sock in enumerate(held):
        if index % 2:
            sock.sendall(b"GET /v1/models HTTP/1.1\r\nhost: x\r\nx-slow: ")
    stop = threading.Event()

    def drip() -> None:
        while not stop.wait(0.5):
            for sock in held[1::2]:
                with contextlib.suppress(OSError):  # the server closed it: the point of the soak
                    sock.sendall(b"x")

    dripper = threading.Thread(target=drip, daemon=True)
    dripper.start()
    latencies: list[float] = []
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            started = time.monotonic()
            assert httpx.get(f"{server.url}/v1/health", timeout=5).status_code == 200
            latencies.append(time.monotonic() - started)
            if all(_closed(sock) for sock in held):
                break
            stop.wait(0.25)  # the probing pace, not a synchronisation
        still_open = sum(not _closed(sock) for sock in held)
    finally:
        stop.set()
        dripper.join(timeout=5)
        for sock in held:
            sock.close()
    print(f"soak: {len(latencies)} health probes, slowest {max(latencies) * 1000:.0f} ms; {still_open} held left")
    assert still_open == 0, f"{still_open} of {HELD} slow or idle connections were still open after 20 s"
    assert max(latencies) < HEALTH_BOUND_S, f"health took {max(latencies):.2f} s at worst"


def _closed(sock: socket.socket) -> bool:
    """Whether the server has closed ``sock`` (a non-blocking peek sees end of stream)."""
    try:
        sock.setblocking(False)
        return sock.recv(1, socket.MSG_PEEK) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True
    finally:
        sock.setblocking(True)
