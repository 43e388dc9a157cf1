"""The suite against targets that misbehave: it ends within its timeouts, says what happened in
its first line, and never reports a check as passed."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from conformance.fakes.handle import FakeProcess
from tests.conftest import ServerFactory
from tests.suite.harness import run_pytest, verdicts


@pytest.fixture
def garbage(tmp_path: Path) -> Iterator[FakeProcess]:
    fake = FakeProcess("garbage", tmp_path / "garbage")
    try:
        yield fake
    finally:
        fake.stop()


def test_a_target_that_is_not_a_llama_stack(garbage: FakeProcess, tmp_path: Path) -> None:
    done = run_pytest(f"--stack-url={garbage.url}", cwd=tmp_path)
    assert done.returncode == 3, done.stdout[-1500:]
    assert "does not answer like a Llama Stack" in done.stdout + done.stderr
    assert " passed" not in done.stdout


def test_a_target_too_slow_for_the_timeout(garbage: FakeProcess, tmp_path: Path) -> None:
    garbage.steer(latency_s=5)
    done = run_pytest(f"--stack-url={garbage.url}", "--request-timeout=1", cwd=tmp_path)
    assert done.returncode == 3, done.stdout[-1500:]
    assert "no answer within 1 s" in done.stdout + done.stderr


def test_a_target_that_resets_connections(tmp_path: Path) -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    stop = threading.Event()

    def reset_everyone() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            conn.close()

    thread = threading.Thread(target=reset_everyone, daemon=True)
    thread.start()
    try:
        done = run_pytest(f"--stack-url=http://127.0.0.1:{port}", cwd=tmp_path)
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()
    assert done.returncode == 3, done.stdout[-1500:]
    assert "conformance: cannot reach" in done.stdout + done.stderr


def test_a_target_that_dies_half_way(servers: ServerFactory, tmp_path: Path) -> None:
    server = servers.running()
    server.process.stop()  # up at the start of the session, gone by the checks
    done = run_pytest(
        f"--stack-url={server.url}",
        "--stack-generation=reference",
        "--stack-profile=core",
        "--conformance-report",
        str(tmp_path),
        cwd=tmp_path,
    )
    assert done.returncode == 1, done.stdout[-1500:]
    assert set(verdicts(tmp_path).values()) == {"fail"}, verdicts(tmp_path)
