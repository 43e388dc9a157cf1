"""``python -m conformance.fakes NAME [--port N] [--models a,b]``: serve one fake on loopback.

Prints ``fake NAME: listening on URL`` once it accepts requests, like the reference server.
"""

from __future__ import annotations

import argparse
import socket
import sys

import uvicorn

from conformance.fakes import ollama
from conformance.fakes.base import FakeState

FAKES = {"ollama": ollama.create_app}
READY = "fake {name}: listening on "


class _Announcing(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, line: str) -> None:
        super().__init__(config)
        self._line = line

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if not self.should_exit:
            print(self._line, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m conformance.fakes")
    parser.add_argument("name", choices=sorted(FAKES))
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--models", default=None, help="comma-separated model names the fake serves")
    args = parser.parse_args(argv)
    state = FakeState()
    state.models = args.models.split(",") if args.models else list(ollama.DEFAULT_MODELS)
    app = FAKES[args.name](state)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1", args.port))
    except OSError as exc:
        print(f"error: cannot listen on 127.0.0.1:{args.port}: {exc.strerror}", file=sys.stderr)
        return 1
    sock.listen(512)
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", access_log=False)
    _Announcing(config, READY.format(name=args.name) + f"http://127.0.0.1:{port}").run(sockets=[sock])
    return 0


if __name__ == "__main__":
    sys.exit(main())
