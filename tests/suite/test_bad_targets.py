"""The suite against targets that misbehave: it ends within its timeouts, says what happened in
its first line, and never reports a check as passed."""

from __future__ import annotations

import os
import socket
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from conformance.fakes.handle import FakeProcess
from conformance.launchers.process import ManagedProcess, free_port
from tests.conftest import ServerFactory, running_fake
from tests.suite.harness import run_pytest, verdicts


@pytest.fixture
def garbage(tmp_path: Path) -> Iterator[FakeProcess]:
    with running_fake("garbage", tmp_path / "garbage") as fake:
        yield fake


@pytest.mark.parametrize("override", [[], ["--stack-generation=0.2.12"]])
def test_a_target_that_is_not_a_llama_stack(garbage: FakeProcess, override: list[str], tmp_path: Path) -> None:
    done = run_pytest(f"--stack-url={garbage.url}", *override, cwd=tmp_path)
    assert done.returncode == 6, done.stdout[-1500:]
    [line] = done.stderr.splitlines()
    assert line.startswith(f"conformance: {garbage.url} does not look like a Llama Stack or OGX server: ")
    assert "answered 200 (text/plain): 'this is not a Llama Stack'" in line
    assert not done.stdout


def test_a_plain_web_server_is_not_graded(tmp_path: Path) -> None:
    """``python3 -m http.server``: 404 pages in HTML are no Llama Stack, not a guessed 0.2.0."""
    (tmp_path / "www").mkdir()
    port = free_port()
    web = ManagedProcess(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"], dict(os.environ), tmp_path, "web"
    )
    try:
        assert isinstance(web.wait_for_http(f"http://127.0.0.1:{port}/", 20), str)
        done = run_pytest(f"--stack-url=http://127.0.0.1:{port}", cwd=tmp_path / "www")
    finally:
        web.stop()
    assert done.returncode == 6, done.stdout[-1500:] + done.stderr
    assert "GET /v1/version answered 404 (text/html)" in done.stderr and not done.stdout


def test_plain_http_on_a_tls_port_counts_as_started(tmp_path: Path) -> None:
    """A launched target that speaks plain HTTP where its config asks for TLS is up: the launch
    returns, and the TLS checks judge what it speaks (CFG-TLS-001, CORE-TLS-001) instead of
    reporting, a launch timeout later, that it did not start."""
    port = free_port()
    web = ManagedProcess(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"], dict(os.environ), tmp_path, "web"
    )
    try:
        assert web.wait_for_http(f"https://127.0.0.1:{port}/", 20) == f"https://127.0.0.1:{port}/"
    finally:
        web.stop()


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
    server = servers.running(defect="dies-after-the-probe")  # answers the start-of-run probe, then exits
    done = run_pytest(
        f"--stack-url={server.url}",
        "--stack-generation=reference",
        "--stack-profile=core",
        "--conformance-report",
        str(tmp_path),
        cwd=tmp_path,
    )
    assert done.returncode == 1, done.stdout[-1500:]
    found = verdicts(tmp_path)
    # no TLS port to probe on an http:// target; everything that talks to it fails
    assert found.pop("CORE-TLS-001") == "not-evaluated"
    assert set(found.values()) == {"fail"}, found
