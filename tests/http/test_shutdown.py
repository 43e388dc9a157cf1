"""SIGTERM is a graceful stop: in-flight requests finish, the stores close, the exit code is 0."""

from __future__ import annotations

import signal
import threading

import httpx

from conformance.fakes.handle import FakeProcess
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
