"""``python -m conformance.fakes NAME [--port N] [--models a,b] [--tls-cert PEM --tls-key PEM]``:
serve one fake on loopback, over HTTPS when given a certificate.

Prints ``fake NAME: listening on URL`` once it accepts requests, like the reference server.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from conformance.fakes import ready_prefix
from conformance.fakes.base import FakeState
from loopback_serving import BindError, bind, exit_now, serve, url_of

# Each kind is a module of this package with create_app(state) (and DEFAULT_MODELS where it serves
# models). Only the one asked for is imported: the JWKS issuer's crypto alone took a third of an
# Ollama fake's start-up, and the suite starts a fake for almost every scenario.
FAKES = ("garbage", "jwks", "ollama", "validator", "vllm")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m conformance.fakes")
    parser.add_argument("kind", choices=FAKES)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--models", default=None, help="comma-separated model names the fake serves")
    parser.add_argument("--tls-cert", default=None, help="serve HTTPS with this certificate (PEM)")
    parser.add_argument("--tls-key", default=None, help="the certificate's private key (PEM)")
    args = parser.parse_args(argv)
    if bool(args.tls_cert) != bool(args.tls_key):
        parser.error("--tls-cert and --tls-key go together")
    fake = importlib.import_module(f"conformance.fakes.{args.kind}")
    state = FakeState()
    state.models = (
        [m for m in args.models.split(",") if m]
        if args.models is not None
        else list(getattr(fake, "DEFAULT_MODELS", []))
    )
    app = fake.create_app(state)
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
