"""Start a fake as a process, steer it over its control routes, take it down and bring it back.

``down()`` stops the process and keeps its port, so the stack under test sees a refused
connection, exactly like a backend that is not running; ``up()`` serves again on that port.
"""

from __future__ import annotations

import os
import ssl
import sys
from pathlib import Path
from typing import Any

import httpx

from conformance.fakes import ready_prefix
from conformance.launchers.process import Exited, LaunchError, ManagedProcess, free_port
from conformance.tls import Pki


class FakeProcess:
    def __init__(
        self,
        kind: str,
        workdir: Path,
        *,
        models: list[str] | None = None,
        port: int = 0,
        start: bool = True,
        timeout: float = 20.0,
        label: str | None = None,
        tls: Pki | None = None,
    ) -> None:
        self.kind = kind  # which fake: ollama, vllm, jwks, validator, garbage
        self.label = label or kind  # tells two fakes of one kind apart in logs
        self.workdir = workdir
        self.models = models
        self.timeout = timeout
        self.port = port or free_port()
        self.tls = tls
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}"
        self.process: ManagedProcess | None = None
        self._client: httpx.Client | None = None  # made on first use (loading the CA bundle takes a while)
        self._generation = 0
        if start:
            self.up()

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.popen.poll() is None

    def up(self) -> None:
        if self.running:
            return
        argv = [sys.executable, "-m", "conformance.fakes", self.kind, "--port", str(self.port)]
        if self.models is not None:
            argv += ["--models", ",".join(self.models)]
        if self.tls is not None:
            argv += ["--tls-cert", str(self.tls.server[0]), "--tls-key", str(self.tls.server[1])]
        self._generation += 1
        self.process = ManagedProcess(argv, dict(os.environ), self.workdir, f"fake-{self.label}-{self._generation}")
        ready = self.process.wait_for_line(ready_prefix(self.kind), self.timeout)
        if isinstance(ready, Exited):
            raise LaunchError(f"fake {self.kind} exited with {ready.returncode}: {ready.stderr.strip()[-300:]}")

    @property
    def _control(self) -> httpx.Client:
        if self._client is None:
            self._client = httpx.Client(base_url=self.url, timeout=5.0, verify=_trusting(self.tls))
        return self._client

    def _hang_up(self) -> None:
        """Close the control connection before the fake stops: a stopping server closes an idle
        connection itself, and over TLS it then waits for this client's close_notify, which an
        idle client never sends while it is not reading."""
        if self._client is not None:
            self._client.close()
            self._client = None

    def terminate(self) -> None:
        """Ask the fake to stop without waiting (see `ManagedProcess.terminate`); `stop` waits."""
        if self.process is not None:
            self._hang_up()
            self.process.terminate()

    def down(self) -> None:
        if self.process is not None:
            self._hang_up()
            self.process.stop()
            self.process = None

    def requests(self) -> list[dict[str, Any]]:
        data: list[dict[str, Any]] = self._control.get("/_fake/requests").json()["data"]
        return data

    def clear_requests(self) -> None:
        self._control.delete("/_fake/requests")

    def steer(self, **changes: Any) -> None:
        answer = self._control.post("/_fake/state", json=changes)
        answer.raise_for_status()
        if "models" in changes:
            self.models = list(changes["models"])  # a restart keeps serving the same models

    def mint(self, **spec: Any) -> str:
        """A token from the JWKS fake (see `conformance.fakes.jwks.Issuer.mint`)."""
        answer = self._control.post("/_fake/mint", json=spec)
        answer.raise_for_status()
        return str(answer.json()["token"])

    def require_token(self, token: str | None) -> None:
        """The JWKS fake answers its keys only to ``Authorization: Bearer <token>`` (None: to anyone)."""
        self._control.post("/_fake/require-token", json={"token": token}).raise_for_status()

    def rotate(self, retire_previous: bool = False) -> str:
        answer = self._control.post("/_fake/rotate", json={"retire_previous": retire_previous})
        answer.raise_for_status()
        return str(answer.json()["kid"])

    def stop(self) -> None:
        self.down()
        self._hang_up()


def _trusting(tls: Pki | None) -> ssl.SSLContext | bool:
    return ssl.create_default_context(cafile=str(tls.ca)) if tls else True
