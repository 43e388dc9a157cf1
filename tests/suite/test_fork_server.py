"""The fork server starts children that behave as if ``python -m MODULE`` had started them."""

from __future__ import annotations

import importlib.util
import os
import select
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from conformance.launchers import forking
from conformance.launchers.forking import ForkedChild, ForkServer, group_of, spawn
from conformance.launchers.process import ManagedProcess
from conformance.launchers.zygote import GROUPS

FAKES = [sys.executable, "-m", "conformance.fakes"]


def forked(argv: list[str], tmp_path: Path, env: dict[str, str] | None = None) -> ForkedChild:
    with (tmp_path / "child.stderr").open("wb") as stderr:
        child = spawn(argv, env if env is not None else dict(os.environ), tmp_path, stderr)
    assert isinstance(child, ForkedChild), f"{argv} was not forked"
    return child


def test_every_preloaded_module_exists() -> None:
    """A name that no longer exists would make every fork server fail and the suite fall back,
    silently, to slow starts."""
    missing = [name for names in GROUPS.values() for name in names if importlib.util.find_spec(name) is None]
    assert not missing


def test_only_the_groups_own_modules_are_forked() -> None:
    env = dict(os.environ)
    assert group_of([*FAKES, "ollama"], env) == "conformance.fakes"
    assert group_of([sys.executable, "-m", "reference_server", "run", "x.yaml"], env) == "reference_server"
    assert group_of(["/other/venv/bin/python", "-m", "reference_server"], env) is None  # a release's interpreter
    assert group_of([sys.executable, "tests/defects/serve.py"], env) is None
    assert group_of([sys.executable, "-m", "conformance.fakes.jwks"], env) is None


def test_the_opt_out_starts_a_new_process(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CONFORMANCE_FORK_SERVER", "0")
    with (tmp_path / "child.stderr").open("wb") as stderr:
        child = spawn([*FAKES, "--help"], dict(os.environ), tmp_path, stderr)
    assert isinstance(child, subprocess.Popen)
    assert child.wait(timeout=30) == 0
    assert child.stdout is not None
    child.stdout.close()


def test_a_child_gets_its_arguments_stdio_folder_and_exit_code(tmp_path: Path) -> None:
    child = forked([*FAKES, "no-such-kind"], tmp_path, {**os.environ, "CONFORMANCE_PROBE": "1"})
    assert child.wait(timeout=30) == 2  # argparse's exit code for a bad argument
    assert child.stdout is not None and child.stdout.read() == b""
    child.stdout.close()
    stderr = (tmp_path / "child.stderr").read_text()
    assert "python -m conformance.fakes" in stderr and "no-such-kind" in stderr, stderr


def test_a_child_serves_in_its_own_session_and_stops_by_its_pid(tmp_path: Path) -> None:
    process = ManagedProcess([*FAKES, "ollama"], dict(os.environ), tmp_path, "fake")
    assert isinstance(process.popen, ForkedChild)
    url = process.wait_for_line("fake ollama: listening on ", 30)
    assert isinstance(url, str) and url.startswith("http://127.0.0.1:")
    assert os.getpgid(process.pid) == process.pid, "the child does not lead its own process group"
    assert process.stop() == 0  # SIGTERM to its group: a graceful stop
    assert process.popen.poll() == 0


def test_a_killed_child_reports_the_signal(tmp_path: Path) -> None:
    process = ManagedProcess([*FAKES, "ollama"], dict(os.environ), tmp_path, "fake")
    assert isinstance(process.wait_for_line("fake ollama: listening on ", 30), str)
    os.killpg(process.pid, signal.SIGKILL)
    assert process.popen.wait(timeout=30) == -signal.SIGKILL
    process.stop()


def test_interpreter_variables_get_a_fork_server_started_with_them(tmp_path: Path) -> None:
    """``PYTHON*`` variables act when an interpreter starts; a forked child never starts one,
    so it must come from a fork server that started with the same variables."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTHON")}
    plain = forked([*FAKES, "--help"], tmp_path, env)
    optimized = forked([*FAKES, "--help"], tmp_path, {**env, "PYTHONOPTIMIZE": "1"})
    assert plain.wait(timeout=30) == optimized.wait(timeout=30) == 0
    servers = {key: server for key, server in forking._servers.items() if key[0] == "conformance.fakes"}
    assert ("conformance.fakes", ()) in servers
    assert ("conformance.fakes", (("PYTHONOPTIMIZE", "1"),)) in servers
    for child in (plain, optimized):
        assert child.stdout is not None
        child.stdout.close()


def test_closing_the_fork_server_stops_the_children_it_started(tmp_path: Path) -> None:
    server = ForkServer("conformance.fakes", ())
    with (tmp_path / "child.stderr").open("wb") as stderr:
        child = server.spawn(["-m", "conformance.fakes", "ollama"], dict(os.environ), tmp_path, stderr)
    assert isinstance(child, ForkedChild) and child.stdout is not None
    assert child.stdout.readline().startswith(b"fake ollama: listening on ")
    server.close()  # SIGTERM from the fork server: the fake stops gracefully
    assert child.wait(timeout=30) == 0
    with pytest.raises(ProcessLookupError):
        os.killpg(child.pid, 0)  # nothing of it is left
    child.stdout.close()


def test_a_fork_server_that_dies_takes_its_children_with_it(tmp_path: Path) -> None:
    """Nobody could report the exits of a dead fork server's children, nor stop them by a PID
    the suite still trusts: they are killed by their process groups, and counted as killed."""
    server = ForkServer("conformance.fakes", ())
    with (tmp_path / "child.stderr").open("wb") as stderr:
        child = server.spawn(["-m", "conformance.fakes", "ollama"], dict(os.environ), tmp_path, stderr)
    assert isinstance(child, ForkedChild) and child.stdout is not None
    assert child.stdout.readline().startswith(b"fake ollama: listening on ")
    server._process.kill()
    assert child.wait(timeout=30) == -signal.SIGKILL
    # Its end of the pipe closes when it is really gone (bounded: a live child would keep it open).
    assert select.select([child.stdout], [], [], 30)[0], "the child is still running"
    assert child.stdout.read() == b""
    child.stdout.close()
    server.close()
