"""Child processes the suite starts: servers under test and fakes.

Rules every child follows: it runs in its own session (so its PID is its process group, and
stopping it stops whatever it spawned), it is waited on with a deadline, and it is stopped by
that PID, never by name. Readiness is a line on stdout when the child announces itself (the
reference server and the fakes do), otherwise the first HTTP answer on its health route.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import ssl
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from conformance.launchers.forking import spawn


class LaunchError(Exception):
    """The child could not be started, or did not become ready in time."""


@dataclass
class Exited:
    """The child ended before it became ready (the expected outcome of a failing start-up)."""

    returncode: int
    stdout: str
    stderr: str


class ManagedProcess:
    def __init__(self, argv: list[str], env: dict[str, str], workdir: Path, name: str) -> None:
        self.argv = argv
        self.name = name
        workdir.mkdir(parents=True, exist_ok=True)
        self.stdout_path = workdir / f"{name}.stdout"
        self.stderr_path = workdir / f"{name}.stderr"
        self._stderr_file = self.stderr_path.open("wb")
        # stdout is read by the suite (readiness lines) and kept on disk too, for the report's logs.
        self._stdout_file = self.stdout_path.open("wb")
        self._stdout_chunks: list[bytes] = []
        self._drainer: threading.Thread | None = None
        self._terminated = False
        try:
            # Forked from a preloaded parent where that can run it (`forking`), else a new process.
            self.popen = spawn(argv, env, workdir, self._stderr_file)
        except OSError as exc:
            self._stderr_file.close()
            self._stdout_file.close()
            raise LaunchError(f"cannot start {argv[0]!r}: {exc.strerror or exc}") from None

    @property
    def pid(self) -> int:
        return self.popen.pid

    def stdout_text(self) -> str:
        return b"".join(self._stdout_chunks).decode("utf-8", "replace")

    def stderr_text(self) -> str:
        if not self._stderr_file.closed:  # after stop() the file is closed and complete
            self._stderr_file.flush()
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")

    def exited(self) -> Exited:
        """What the child left behind; call it once the child has exited."""
        returncode = self.popen.poll()
        assert returncode is not None, "exited() before the child exited"
        self._drain_rest()
        return Exited(returncode, self.stdout_text(), self.stderr_text())

    def _drain_rest(self) -> None:
        assert self.popen.stdout is not None
        if self._drainer is not None:
            self._drainer.join(timeout=5)
        elif self.popen.poll() is not None:
            rest = self.popen.stdout.read()
            if rest:
                self._took(rest)

    def wait_for_line(self, prefix: str, timeout: float, anywhere: bool = False) -> str | Exited:
        """Block until stdout has a line starting with ``prefix`` (or holding it, ``anywhere``);
        return what follows it."""
        assert self.popen.stdout is not None
        stream = self.popen.stdout
        deadline = time.monotonic() + timeout
        pending = b""
        with selectors.DefaultSelector() as selector:
            selector.register(stream, selectors.EVENT_READ)
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    self.stop()
                    raise LaunchError(f"{self.name} did not become ready within {timeout:g} s")
                if not selector.select(remaining):
                    continue
                chunk = os.read(stream.fileno(), 65536)
                if not chunk:  # end of stream: the child exited
                    code = self.popen.wait(timeout=max(deadline - time.monotonic(), 1))
                    return Exited(code, self.stdout_text() + pending.decode(), self.stderr_text())
                self._took(chunk)
                pending += chunk
                *lines, pending = pending.split(b"\n")
                for raw in lines:
                    line = raw.decode("utf-8", "replace").strip()
                    at = line.find(prefix) if anywhere else (0 if line.startswith(prefix) else -1)
                    if at >= 0:
                        self._drain_in_background()
                        return line[at + len(prefix) :].strip()

    def wait_for_http(self, url: str, timeout: float) -> str | Exited:
        """Block until ``url`` gives any HTTP answer (a 401 counts: the server is up).

        The probe comes from another loopback address where there is one (127.0.0.2 on Linux):
        servers that count every request against a per-IP quota, health included (upstream
        does), would otherwise start the checks with one unit of 127.0.0.1's budget spent."""
        deadline = time.monotonic() + timeout
        self._drain_in_background()
        # Any answer will do, so the certificate of an https target is not checked here (the checks
        # do that). A transport given to the client carries its own verify setting.
        transport = httpx.HTTPTransport(local_address=PROBE_ADDRESS, verify=False) if _can_bind(PROBE_ADDRESS) else None
        with httpx.Client(timeout=1.0, verify=False, transport=transport) as client:
            while time.monotonic() < deadline:
                try:
                    client.get(url)
                    return url
                except httpx.TransportError as exc:
                    if _tls_trouble(exc):
                        return url
                try:  # waits for the child's exit, and paces the next attempt
                    self.popen.wait(timeout=0.1)
                    return self.exited()
                except subprocess.TimeoutExpired:
                    continue
        self.stop()
        raise LaunchError(f"{self.name} did not answer on {url} within {timeout:g} s")

    def _took(self, chunk: bytes) -> None:
        self._stdout_chunks.append(chunk)
        if not self._stdout_file.closed:
            self._stdout_file.write(chunk)
            self._stdout_file.flush()

    def _drain_in_background(self) -> None:
        """Keep reading stdout so a chatty child never blocks on a full pipe."""
        assert self.popen.stdout is not None
        stream = self.popen.stdout

        def drain() -> None:
            for chunk in iter(lambda: stream.read1(65536), b""):  # type: ignore[attr-defined]
                self._took(chunk)

        if self._drainer is None:
            self._drainer = threading.Thread(target=drain, name=f"drain-{self.name}", daemon=True)
            self._drainer.start()

    def terminate(self) -> None:
        """Ask the child's process group to stop (SIGTERM) without waiting: a caller stopping
        many children signals them all first, so they shut down side by side (each takes most
        of a second), then `stop`s each."""
        if self.popen.poll() is None and not self._terminated:
            self._terminated = True
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGTERM)

    def stop(self, grace: float = 5.0) -> int | None:
        """SIGTERM the child's process group (unless `terminate` did), then SIGKILL after
        ``grace`` seconds."""
        self.terminate()
        if self.popen.poll() is None:
            try:
                self.popen.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.popen.pid, signal.SIGKILL)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.popen.wait(timeout=5.0)
        self._stderr_file.close()
        if self._drainer is not None:
            self._drainer.join(timeout=5)
        self._stdout_file.close()
        return self.popen.returncode


PROBE_ADDRESS = "127.0.0.2"


def _tls_trouble(exc: BaseException) -> bool:
    """Whether a probe failed in the TLS handshake on something the server said: it accepted the
    connection and answered, so a server is up. What it speaks (plain HTTP on a TLS port, say) is
    for the checks to judge, with the evidence in hand; waiting on would only end in "did not
    start" a minute later. A connection closed mid-handshake says nothing and is tried again."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ssl.SSLError):
            return not isinstance(cause, ssl.SSLEOFError | ssl.SSLZeroReturnError)
        cause = cause.__cause__ or cause.__context__
    return False


def _can_bind(address: str) -> bool:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((address, 0))
        except OSError:
            return False
    return True


def free_port() -> int:
    """A port that was free a moment ago, for launchers that must be told one in advance."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
