"""Bind a loopback-friendly socket and serve an ASGI app on it, announcing readiness once.

Shared by the reference server's CLI and the suite's fakes, which import nothing of each other:
both print one line on stdout, ``<name>: listening on URL``, the moment uvicorn really accepts
requests, and the suite's launchers wait for that line (`announcement`) instead of polling.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import sys
from typing import Any, NoReturn

# How long a stopping server waits for a TLS peer to answer its close_notify: 1-2 ticks of this.
TLS_CLOSE_WAIT_S = 0.5


class BindError(Exception):
    pass


def announcement(name: str) -> str:
    """What a server called ``name`` prints, followed by its URL, once it serves."""
    return f"{name}: listening on "


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto=IPPROTO_TCP matters: asyncio sets TCP_NODELAY only on accepted sockets whose proto
    # says TCP, and without it every response waits ~40 ms on Nagle and delayed ACKs.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        raise BindError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.set_inheritable(True)
    return sock


def url_of(sock: socket.socket, scheme: str = "http") -> str:
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"{scheme}://{shown}:{port}"


def serve(app: Any, sock: socket.socket, ready_line: str, **uvicorn_options: Any) -> None:
    """Run uvicorn on ``sock`` until shut down; print ``ready_line`` once it serves."""
    # uvicorn is imported here, not at the top: the suite imports this module for `announcement`
    # alone, in every pytest process, and uvicorn is a seventh of that process's start-up.
    import asyncio

    import uvicorn

    class AnnouncingServer(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets)
            if not self.should_exit:
                print(ready_line, flush=True)

        async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
            reaper = asyncio.get_running_loop().create_task(self._abort_unanswered_tls_closes())
            try:
                await super().shutdown(sockets)
            finally:
                reaper.cancel()

        async def _abort_unanswered_tls_closes(self) -> None:
            """Drop TLS connections whose close has waited `TLS_CLOSE_WAIT_S` for the peer.

            uvicorn's shutdown closes each idle connection and waits until all are gone. Over TLS
            a close sends close_notify and then waits for the peer's (asyncio allows 30 s), so a
            client that merely holds an idle keep-alive connection kept a stopping server alive
            until the graceful-shutdown timeout. The server has sent everything by then, and
            RFC 8446 section 6.1 lets it close without waiting for the peer's close_notify."""
            seen: set[Any] = set()
            while True:
                await asyncio.sleep(TLS_CLOSE_WAIT_S)
                closing = {
                    connection
                    for connection in self.server_state.connections
                    if connection.transport.is_closing() and connection.transport.get_extra_info("ssl_object")
                }
                for connection in closing & seen:
                    connection.transport.abort()
                seen = closing

    options: dict[str, Any] = {"log_level": "warning", "access_log": False, "server_header": False}
    options.update(uvicorn_options)
    # uvicorn stops gracefully on SIGTERM (in-flight requests finish, lifespan closes the stores)
    # and then re-raises the signal to the handler that was there before it. A no-op handler
    # here turns that into a normal return, so a graceful stop exits 0 instead of -15.
    signal.signal(signal.SIGTERM, lambda _signum, _frame: None)
    AnnouncingServer(uvicorn.Config(app, **options)).run(sockets=[sock])


def exit_now(code: int) -> NoReturn:
    """End the process with ``code``, skipping the interpreter's teardown.

    Call it once `serve` has returned (or the server never started): uvicorn has finished every
    request and the app's lifespan has closed what it held, and no atexit handler of these
    programs remains. What the teardown would still do is free a few hundred thousand objects
    one by one: 0.5-1 s of a stopped server's exit, paid each time the suite stops a server.
    """
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code)
