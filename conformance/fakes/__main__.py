"""``python -m conformance.fakes NAME [--port N] [--models a,b] [--tls-cert PEM --tls-key PEM]``:
serve one fake on loopback, over HTTPS when given a certificate.

Prints ``fake NAME: listening on URL`` once it accepts requests, like the reference server.
"""

from __future__ import annotations

import argparse
import sys

from conformance.fakes import garbage, jwks, ollama, validator, vllm
from conformance.fakes.base import FakeState
from loopback_serving import BindError, announcement, bind, exit_now, serve, url_of

FAKES = {
    "ollama": ollama.create_app,
    "vllm": vllm.create_app,
    "jwks": jwks.create_app,
    "validator": validator.create_app,
    "garbage": garbage.create_app,
}
DEFAULT_MODELS: dict[str, list[str]] = {"ollama": ollama.DEFAULT_MODELS, "vllm": vllm.DEFAULT_MODELS}


def ready_prefix(kind: str) -> str:
    """The line a fake prints (followed by its URL) once it serves."""
    return announcement(f"fake {kind}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m conformance.fakes")
    parser.add_argument("kind", choices=sorted(FAKES))
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--models", default=None, help="comma-separated model names the fake serves")
    parser.add_argument("--tls-cert", default=None, help="serve HTTPS with this certificate (PEM)")
    parser.add_argument("--tls-key", default=None, help="the certificate's private key (PEM)")
    args = parser.parse_args(argv)
    if bool(args.tls_cert) != bool(args.tls_key):
        parser.error("--tls-cert and --tls-key go together")
    state = FakeState()
    state.models = (
        [m for m in args.models.split(",") if m] if args.models is not None else list(DEFAULT_MODELS.get(args.kind, []))
    )
    app = FAKES[args.kind](state)
    try:
        sock = bind("127.0.0.1", args.port)
    except BindError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    tls = {"ssl_certfile": args.tls_cert, "ssl_keyfile": args.tls_key} if args.tls_cert else {}
    serve(app, sock, ready_prefix(args.kind) + url_of(sock, "https" if tls else "http"), **tls)
    return 0


if __name__ == "__main__":
    exit_now(main())
