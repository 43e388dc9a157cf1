"""Start a fake as a process and steer it over its control routes."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import httpx

from conformance.fakes.__main__ import READY
from conformance.launchers.process import Exited, LaunchError, ManagedProcess


class FakeProcess:
    def __init__(
        self, name: str, workdir: Path, *, models: list[str] | None = None, port: int = 0, timeout: float = 20.0
    ) -> None:
        argv = [sys.executable, "-m", "conformance.fakes", name, "--port", str(port)]
        if models is not None:
            argv += ["--models", ",".join(models)]
        self.name = name
        self.process = ManagedProcess(argv, dict(os.environ), workdir, f"fake-{name}")
        ready = self.process.wait_for_line(READY.format(name=name), timeout)
        if isinstance(ready, Exited):
            raise LaunchError(f"fake {name} exited with {ready.returncode}: {ready.stderr.strip()[-300:]}")
        self.url = ready
        self._client = httpx.Client(base_url=self.url, timeout=5.0)

    def requests(self) -> list[dict[str, Any]]:
        data: list[dict[str, Any]] = self._client.get("/_fake/requests").json()["data"]
        return data

    def clear_requests(self) -> None:
        self._client.delete("/_fake/requests")

    def steer(self, **changes: Any) -> None:
        answer = self._client.post("/_fake/state", json=changes)
        answer.raise_for_status()

    def stop(self) -> None:
        self._client.close()
        self.process.stop()
