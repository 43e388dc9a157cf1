"""A run ended by SIGTERM (a CI job out of time) still stops what its fixtures started."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

SESSION = """
import subprocess, sys, time
from pathlib import Path
import pytest

HERE = Path(__file__).parent

@pytest.fixture(scope="session")
def server():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"], start_new_session=True)
    (HERE / "child.pid").write_text(str(child.pid))
    yield child
    child.kill()
    child.wait()

def test_runs_until_stopped(server):
    (HERE / "ready").write_text("ready")
    time.sleep(120)
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _wait_for(condition: Callable[[], bool], bound: float) -> bool:
    deadline = time.monotonic() + bound
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_sigterm_tears_the_session_down(tmp_path: Path) -> None:
    (tmp_path / "test_session.py").write_text(SESSION)
    run = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-q",
            "--stack-launcher=reference",
            "test_session.py",
        ],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    child = 0
    try:
        assert _wait_for((tmp_path / "ready").exists, 60), "the session never started its test"
        child = int((tmp_path / "child.pid").read_text())
        run.send_signal(signal.SIGTERM)
        assert run.wait(timeout=30) == 2, "an interrupted run exits 2 (pytest's INTERRUPTED)"
        # the session fixture's finaliser ran: what it started is gone with the run
        assert _wait_for(lambda: not _alive(child), 10), "SIGTERM left the session's child running"
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
            run.wait()
        if child and _alive(child):
            os.kill(child, signal.SIGKILL)
