"""Start the reference server and the fakes by forking a process that has imported them already.

Either one spends most of its start-up importing FastAPI, pydantic and its own models: 0.5-0.9 s
of a 0.6-1 s start here, against about 0.15 s once those imports are done. The suite starts
some fifty of them a run, so each pytest process keeps a fork server per group
(`conformance.launchers.zygote`), started on first use, and asks it for every
``python -m reference_server ...`` or ``python -m conformance.fakes ...`` it would have
spawned. What the child then runs is that module's ``__main__``, exactly as the interpreter
would, with the arguments, environment, folder and stdio it was given.

`spawn` falls back to `subprocess.Popen` for anything else (a release's interpreter, a command,
a script), where the platform has no descriptor passing, and when ``CONFORMANCE_FORK_SERVER=0``
(the bench does that to time real cold starts).
"""

from __future__ import annotations

import atexit
import contextlib
import io
import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO

from conformance.launchers.zygote import GROUPS, receive, send

# How long a fork server may take to import its group before the launch falls back to Popen.
READY_TIMEOUT_S = 30.0


class ForkedChild:
    """A child forked by a fork server, with the parts of `subprocess.Popen` the suite uses."""

    def __init__(self, server: ForkServer, pid: int, argv: list[str], stdout: IO[bytes]) -> None:
        self.pid = pid
        self.args = argv
        self.stdout: IO[bytes] | None = stdout
        self.returncode: int | None = None
        self._server = server
        self._exited = threading.Event()

    def poll(self) -> int | None:
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if not self._exited.wait(timeout):
            raise subprocess.TimeoutExpired(self.args, timeout or 0.0)
        assert self.returncode is not None
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.returncode is None:  # until reaped the PID stays this child's, as with Popen
            os.kill(self.pid, signum)

    def _ended(self, code: int) -> None:
        self.returncode = code
        self._exited.set()


class ForkServer:
    """One fork server (a child of this process) and the children it forked for us."""

    def __init__(self, group: str, interpreter_env: tuple[tuple[str, str], ...]) -> None:
        self.group = group
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        self._sock = ours
        env = {key: value for key, value in os.environ.items() if not key.startswith("PYTHON")}
        env.update(interpreter_env)
        self._process = subprocess.Popen(
            [sys.executable, "-m", "conformance.launchers.zygote", group, str(theirs.fileno())],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            pass_fds=(theirs.fileno(),),
            start_new_session=True,
        )
        theirs.close()
        self._send_lock = threading.Lock()
        self._spawn_lock = threading.Lock()
        self._expecting: tuple[list[str], IO[bytes]] = ([], io.BytesIO())
        self._replies: list[ForkedChild | str] = []
        self._reply = threading.Condition()
        self._children: dict[int, ForkedChild] = {}
        self._ready = threading.Event()
        self._gone = False
        self._closing = False
        self._reader = threading.Thread(target=self._read, name=f"fork-server-{group}", daemon=True)
        self._reader.start()

    def spawn(self, argv: list[str], env: dict[str, str], cwd: Path, stderr: IO[bytes]) -> ForkedChild | str:
        """Fork ``python *argv``; the reason it cannot, if it cannot."""
        if not self._ready.wait(READY_TIMEOUT_S) or self._gone:
            return f"the {self.group} fork server did not get ready"
        with self._spawn_lock:  # one request at a time: the reply is this request's
            read_end, write_end = os.pipe()
            stdout = os.fdopen(read_end, "rb")
            self._expecting = (argv, stdout)
            try:
                with self._send_lock:
                    message = {"op": "spawn", "argv": argv, "env": env, "cwd": str(cwd)}
                    send(self._sock, message, (write_end, stderr.fileno()))
            except OSError as exc:
                stdout.close()
                return f"the {self.group} fork server cannot be reached: {exc}"
            finally:
                os.close(write_end)
            with self._reply:
                answered = self._reply.wait_for(lambda: self._replies or self._gone, READY_TIMEOUT_S)
                if not answered:
                    # A late answer would be taken for the next request's: use this server no more
                    # (a child it still forks is stopped when it closes).
                    self._gone = True
                    reply: ForkedChild | str = f"the {self.group} fork server did not answer"
                else:
                    reply = self._replies.pop(0) if self._replies else "the fork server exited"
        if isinstance(reply, ForkedChild):
            return reply
        stdout.close()
        return reply

    def _read(self) -> None:
        try:
            while (received := receive(self._sock)) is not None:
                message, _fds = received
                if "ready" in message:
                    self._ready.set()
                elif "exited" in message:
                    child = self._children.pop(message["exited"])
                    child._ended(int(message["code"]))
                    if not self._closing:  # a closing server reaps them itself
                        with self._send_lock:
                            send(self._sock, {"op": "reap", "pid": child.pid})
                else:
                    reply: ForkedChild | str = str(message.get("failed"))
                    if "spawned" in message:
                        pid = int(message["spawned"])
                        reply = self._children[pid] = ForkedChild(self, pid, *self._expecting)
                    with self._reply:
                        self._replies.append(reply)
                        self._reply.notify_all()
        except Exception:  # a broken server or message: it cannot be trusted with children any more
            pass
        self._lost()

    def _lost(self) -> None:
        """The server is gone (closed, or died): nobody can report its children's exits now, so
        the ones still running are stopped by their process groups and counted as killed."""
        with self._reply:
            self._gone = True
            self._ready.set()
            self._reply.notify_all()
        if self._closing:
            return  # `close` lets the server stop them gracefully
        for child in list(self._children.values()):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(child.pid, signal.SIGKILL)
            child._ended(-signal.SIGKILL)
        self._children.clear()

    def close(self) -> None:
        """End of file to the server: it stops whatever still runs (SIGTERM, then SIGKILL after
        5 s) and exits."""
        self._closing = True
        with self._send_lock, contextlib.suppress(OSError):  # never in the middle of a message
            self._sock.shutdown(socket.SHUT_WR)  # our reader still hears how each child ended
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._reader.join(timeout=5)
        self._sock.close()
        for child in list(self._children.values()):
            child._ended(-signal.SIGKILL)  # the server did not say: it was killed itself
        self._children.clear()


# One fork server per group and per set of ``PYTHON*`` variables: those act when an interpreter
# starts, which a forked child does not, so its fork server must have started with the same.
_servers: dict[tuple[str, tuple[tuple[str, str], ...]], ForkServer] = {}
_servers_lock = threading.Lock()


def _interpreter_env(env: dict[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((key, value) for key, value in env.items() if key.startswith("PYTHON")))


def _server(group: str, env: dict[str, str]) -> ForkServer:
    key = (group, _interpreter_env(env))
    with _servers_lock:
        if key not in _servers:
            if not _servers:
                atexit.register(_close_all)
            _servers[key] = ForkServer(*key)
        return _servers[key]


def _close_all() -> None:
    for server in _servers.values():
        server.close()
    _servers.clear()


def group_of(argv: list[str], env: dict[str, str]) -> str | None:
    """The fork server group that can run ``argv`` in ``env``, or None for `subprocess.Popen`."""
    if os.environ.get("CONFORMANCE_FORK_SERVER", "1") == "0" or not hasattr(socket, "send_fds"):
        return None
    if len(argv) < 3 or argv[0] != sys.executable or argv[1] != "-m" or argv[2] not in GROUPS:
        return None
    return argv[2]


def warm(group: str, env: dict[str, str]) -> None:
    """Start the fork server for children of ``group`` in ``env`` now, so that its imports
    overlap whatever comes before the first launch."""
    if os.environ.get("CONFORMANCE_FORK_SERVER", "1") != "0":
        _server(group, env)


def spawn(argv: list[str], env: dict[str, str], cwd: Path, stderr: IO[bytes]) -> subprocess.Popen[bytes] | ForkedChild:
    """A child running ``argv``: forked where a fork server can run it, else a new process.

    Either way it has its own session, stdin from /dev/null, stdout on a pipe and stderr on
    ``stderr``."""
    group = group_of(argv, env)
    if group is not None:
        forked = _server(group, env).spawn(argv[1:], env, cwd, stderr)
        if isinstance(forked, ForkedChild):
            return forked
    return subprocess.Popen(
        argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=stderr, start_new_session=True
    )
