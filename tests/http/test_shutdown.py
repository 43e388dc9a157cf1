"""SIGTERM is a graceful stop: in-flight requests finish, the stores close, the exit code is 0."""

from __future__ import annotations

import signal
import socket
import ssl
import threading
from urllib.parse import urlsplit

import httpx

from conformance.fakes.handle import FakeProcess
from conformance.tls import make_pki
from tests.conftest import ServerFactory


def test_sigterm_finishes_in_flight_requests_and_exits_0(servers: ServerFactory, tmp_path) -> None:  # type: ignore[no-untyped-def]
    slow = FakeProcess("ollama", tmp_path / "slow", models=["llama3.2:3b"])
    try:
        slow.steer(latency_s=1.0)
        text = servers.minimal().replace(servers.ollama_url, slow.url)
        server = servers.running(servers.config(text))
        answers: list[int] = []
        chat = {"model_id": "x", "provider_model_id": "llama3.2:3b"}

        def register() -> None:  # a request that spends ~1 s waiting on the slow backend
            answers.append(httpx.post(server.url + "/v1/models", json=chat, timeout=30).status_code)

        worker = threading.Thread(target=register)
        worker.start()
        # Wait until the backend has the request in hand, so the SIGTERM lands mid-flight.
        for _ in range(200):
            if any(r["path"] == "/api/tags" for r in slow.requests()):
                break
            worker.join(timeout=0.01)
        server.process.popen.send_signal(signal.SIGTERM)
        worker.join(timeout=30)
        assert answers == [200], f"the in-flight request got {answers}"
        assert server.process.popen.wait(timeout=30) == 0
    finally:
        slow.stop()


def test_an_idle_tls_client_does_not_hold_up_the_stop(servers: ServerFactory) -> None:
    """A stopping server closes idle keep-alive connections; over TLS that close waits for the
    peer's close_notify, which an idle client does not send. The server must not wait for it until
    its graceful-shutdown timeout (10 s), when uvicorn gives up with an error line."""
    pki = make_pki(servers.tmp_path)
    cert, key = pki.server
    server = servers.running(
        servers.config(servers.minimal() + f"server: {{tls_certfile: {cert}, tls_keyfile: {key}}}\n")
    )
    address = urlsplit(server.url)
    context = ssl.create_default_context(cafile=pki.ca)
    raw = socket.create_connection((address.hostname, address.port), timeout=30)
    with context.wrap_socket(raw, server_hostname=address.hostname) as tls:
        tls.sendall(b"GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
        assert tls.recv(65536).startswith(b"HTTP/1.1 200")  # now an idle keep-alive connection
        server.process.popen.send_signal(signal.SIGTERM)
        assert server.process.popen.wait(timeout=30) == 0
    stderr = server.process.stderr_text()
    assert "graceful shutdown exceeded" not in stderr, f"the stop waited for the idle client: {stderr[-400:]}"
