"""``python -m conformance.launchers.zygote GROUP``: the fork server behind `conformance.launchers.forking`.

It imports the modules of one group once, then forks a child per request, each of which runs
``python -m MODULE ARGS`` (or a script) as the interpreter would, minus the imports already done.
Everything a child gets from its requester is explicit: its arguments, its whole environment,
its working folder, and its stdout and stderr descriptors (passed over the control socket). The
child starts its own session, so the requester stops it by PID like any other child.

An exited child is reported but left a zombie until the requester says "reap": its PID, and so
its process group, cannot be reused while the requester may still signal it, just as with a
``subprocess.Popen`` child that has not been waited for.

The messages are JSON objects framed by a 4-byte length; descriptors travel with the length.
When the requester goes away (end of file on the socket), the children still running are
stopped by their process groups and the server exits.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import runpy
import selectors
import signal
import socket
import struct
import sys
import time
import traceback
from typing import Any, NoReturn

# What each group preloads: the modules a child of that group would import before it serves.
# numpy and faiss stay out: their thread pools would make the server multi-threaded, and a fork
# of a multi-threaded process is unsafe (the server checks it is single-threaded before forking).
GROUPS: dict[str, tuple[str, ...]] = {
    "reference_server": (
        "reference_server.cli",
        "reference_server.api.app",
        "reference_server.api.inference",
        "reference_server.api.models",
        "reference_server.api.vector_stores",
        "reference_server.api.vectors",
        "reference_server.api.safety",
        "reference_server.api.files",
        "reference_server.http_protocol",
        "uvicorn.lifespan.on",
        "uvicorn.loops.asyncio",
    ),
    "conformance.fakes": (
        # not conformance.fakes.__main__ itself: runpy warns when the module it runs is loaded
        "conformance.fakes.base",
        "loopback_serving",
        "argparse",
        "conformance.fakes.garbage",
        "conformance.fakes.jwks",
        "conformance.fakes.ollama",
        "conformance.fakes.validator",
        "conformance.fakes.vllm",
        "uvicorn.protocols.http.h11_impl",
        "uvicorn.lifespan.on",
        "uvicorn.loops.asyncio",
    ),
}

_LENGTH = struct.Struct("!I")
MAX_FDS = 4


def send(sock: socket.socket, message: dict[str, Any], fds: tuple[int, ...] = ()) -> None:
    body = json.dumps(message).encode()
    socket.send_fds(sock, [_LENGTH.pack(len(body))], list(fds))
    sock.sendall(body)


def receive(sock: socket.socket) -> tuple[dict[str, Any], list[int]] | None:
    """The next message and the descriptors sent with it; None at end of file."""
    head, fds, _flags, _address = socket.recv_fds(sock, _LENGTH.size, MAX_FDS)
    if not head:
        return None
    head += _exactly(sock, _LENGTH.size - len(head))
    (length,) = _LENGTH.unpack(head)
    return json.loads(_exactly(sock, length)), fds


def _exactly(sock: socket.socket, count: int) -> bytes:
    chunks = []
    while count > 0:
        chunk = sock.recv(count)
        if not chunk:
            raise EOFError("the peer closed the control socket mid-message")
        chunks.append(chunk)
        count -= len(chunk)
    return b"".join(chunks)


def _threads() -> int:
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:  # no /proc (macOS): the interpreter's own view
        import threading

        return threading.active_count()


class Zygote:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.living: set[int] = set()  # started, exit not yet reported
        self.exited: set[int] = set()  # reported, not yet reaped
        self._selector = selectors.DefaultSelector()
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)

    def serve(self) -> None:
        signal.set_wakeup_fd(self._wake_w)
        signal.signal(signal.SIGCHLD, lambda _signum, _frame: None)
        self._selector.register(self.sock, selectors.EVENT_READ)
        self._selector.register(self._wake_r, selectors.EVENT_READ)
        with self._selector:
            while True:
                ready = {key.fileobj for key, _ in self._selector.select()}
                if self._wake_r in ready:
                    with contextlib.suppress(BlockingIOError):
                        while os.read(self._wake_r, 512):
                            pass
                self._report_exits()
                if self.sock in ready:
                    try:
                        received = receive(self.sock)
                    except EOFError:
                        received = None
                    if received is None:
                        return
                    self._handle(*received)

    def _handle(self, message: dict[str, Any], fds: list[int]) -> None:
        op = message.get("op")
        if op == "spawn":
            try:
                self._spawn(message, fds)
            finally:
                for fd in fds:
                    os.close(fd)
        elif op == "reap" and message.get("pid") in self.exited:
            self.exited.discard(message["pid"])
            os.waitpid(message["pid"], 0)

    def _spawn(self, message: dict[str, Any], fds: list[int]) -> None:
        threads = _threads()
        if threads != 1:
            send(self.sock, {"failed": f"the fork server runs {threads} threads; forking it would be unsafe"})
            return
        try:
            pid = os.fork()
        except OSError as exc:  # no more processes, no memory: the requester starts one itself
            send(self.sock, {"failed": f"fork failed: {exc}"})
            return
        if pid == 0:
            self._become(message, fds)
        self.living.add(pid)
        send(self.sock, {"spawned": pid})

    def _report_exits(self) -> None:
        for pid in sorted(self.living):
            # WNOWAIT: learn of the exit but leave the zombie until the requester says "reap".
            result = os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
            if result is None:
                continue
            code = result.si_status if result.si_code == os.CLD_EXITED else -result.si_status
            self.living.discard(pid)
            self.exited.add(pid)
            send(self.sock, {"exited": pid, "code": code})

    def stop_children(self) -> None:
        """SIGTERM to every child still running, SIGKILL to those left after 5 s; each exit is
        still reported, as far as the requester still listens."""
        for pid in self.living:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + 5.0
        while self.living:
            if time.monotonic() >= deadline:
                for pid in self.living:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(pid, signal.SIGKILL)
            with contextlib.suppress(OSError):
                self._report_exits()
            time.sleep(0.05)  # polls the children's exits; nothing else is left to wait on
        for pid in self.exited:
            os.waitpid(pid, 0)

    def _become(self, message: dict[str, Any], fds: list[int]) -> NoReturn:
        """In the child: shed the server's state, take the requested stdio, folder and
        environment, run the program, and exit with its code."""
        code = 127
        try:
            os.setsid()
            signal.set_wakeup_fd(-1)
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            self.sock.close()
            self._selector.close()
            os.close(self._wake_r)
            os.close(self._wake_w)
            devnull = os.open(os.devnull, os.O_RDONLY)
            os.dup2(devnull, 0)
            os.dup2(fds[0], 1)
            os.dup2(fds[1], 2)
            for fd in (devnull, *fds):
                os.close(fd)
            os.chdir(message["cwd"])
            os.environ.clear()
            os.environ.update(message["env"])
            code = _run(message["argv"])
        finally:
            for stream in (sys.stdout, sys.stderr):
                with contextlib.suppress(Exception):
                    stream.flush()
            os._exit(code)


def _run(argv: list[str]) -> int:
    """Run ``argv`` (what follows the interpreter on its command line) as ``python`` would."""
    try:
        if argv[0] == "-m":
            sys.argv = [argv[1], *argv[2:]]
            sys.path[0] = os.getcwd()
            runpy.run_module(argv[1], run_name="__main__", alter_sys=True)
        else:
            sys.argv = list(argv)
            sys.path[0] = os.path.dirname(os.path.abspath(argv[0]))
            runpy.run_path(argv[0], run_name="__main__")
    except SystemExit as exc:
        if exc.code is None or isinstance(exc.code, int):
            return exc.code or 0
        print(exc.code, file=sys.stderr)
        return 1
    except BaseException:
        traceback.print_exc()
        return 1
    return 0


def main() -> int:
    if len(sys.argv) != 3 or sys.argv[1] not in GROUPS or not sys.argv[2].isdigit():
        print(
            f"usage: python -m conformance.launchers.zygote {{{','.join(GROUPS)}}} FD  (started by the suite, "
            "with FD its end of a unix socket; see conformance.launchers.forking)",
            file=sys.stderr,
        )
        return 2
    group, control = sys.argv[1], int(sys.argv[2])
    sock = socket.socket(fileno=control)
    for module in GROUPS[group]:
        importlib.import_module(module)
    zygote = Zygote(sock)
    send(sock, {"ready": True})
    try:
        zygote.serve()
    finally:
        zygote.stop_children()
    return 0


if __name__ == "__main__":
    sys.exit(main())
