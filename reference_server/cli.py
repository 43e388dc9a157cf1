"""``python -m reference_server run CONFIG``: load, build, bind, serve.

Contract with operators and launchers:

* a bad config or flag prints one ``error: ...`` line on stderr and exits 2;
* a failure to start (port taken, a provider refusing to start) prints one line and exits 1;
* once the server accepts requests, exactly one line ``reference_server: listening on URL`` is
  printed on stdout, so a launcher can wait on it instead of polling.
"""

# Requirements (conformance/catalog.yaml): CFG-TLS-001

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import re
import ssl
import sys
from collections.abc import Sequence

from loopback_serving import BindError, announcement, bind, exit_now, serve, url_of
from reference_server import __version__
from reference_server.config import ConfigError, load_config
from reference_server.errors import StackError

READY_PREFIX = announcement("reference_server")
EXIT_CONFIG = 2
EXIT_STARTUP = 1

_ENV_PAIR = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)=(.*)", re.DOTALL)


class StartupError(Exception):
    """The config is valid but the server cannot start (exit 1)."""


def _env_pair(text: str) -> tuple[str, str]:
    match = _ENV_PAIR.fullmatch(text)
    if not match:
        raise argparse.ArgumentTypeError(f"invalid --env {text!r}: expected KEY=VALUE")
    return match.group(1), match.group(2)


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid port {text!r}: expected a number from 0 to 65535") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"invalid port {value}: expected a number from 0 to 65535")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="reference_server", description="A minimal, fast Llama Stack server.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="serve a run.yaml")
    run.add_argument("config", help="path to a run.yaml")
    run.add_argument("--port", type=_port, help="port to listen on (0: any free port); default server.port, then 8321")
    run.add_argument("--host", help="address to bind; default server.host, then 127.0.0.1 (0.0.0.0 in containers)")
    run.add_argument(
        "--env",
        type=_env_pair,
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="set an environment variable before substitution (repeatable)",
    )
    run.add_argument("--log-level", default="warning", choices=["debug", "info", "warning", "error"])
    return parser


# Seam (tests/defects/seams.py): a negative control replaces this (a config error escaping as a traceback).
def _serve(args: argparse.Namespace) -> None:
    env = dict(os.environ)
    env.update(dict(args.env))
    config = load_config(args.config, env)

    from reference_server.api.app import create_app
    from reference_server.http_protocol import BoundedH11Protocol
    from reference_server.stack import Stack

    server_config = config.run.server
    for field in ("tls_certfile", "tls_keyfile", "tls_cafile"):
        value = getattr(server_config, field)
        if value and not os.path.isfile(value):
            raise ConfigError(f"server.{field}", f"file {value!r} does not exist")
    host = args.host or server_config.host or "127.0.0.1"
    port = args.port if args.port is not None else server_config.port
    try:
        stack = Stack.build(config)
        asyncio.run(stack.start())
    except StackError as exc:
        raise StartupError(exc.message) from None
    try:
        sock = bind(host, port)
    except BindError as exc:
        raise StartupError(str(exc)) from None
    scheme = "https" if server_config.tls_certfile else "http"
    serve(
        create_app(stack),
        sock,
        READY_PREFIX + url_of(sock, scheme),
        log_level=args.log_level,
        ssl_certfile=server_config.tls_certfile,
        ssl_keyfile=server_config.tls_keyfile,
        ssl_ca_certs=server_config.tls_cafile,
        # As upstream: a CA file means mutual TLS, so a client without a certificate it signed is
        # refused at the handshake. Given only ssl_ca_certs, uvicorn would ask for no certificate.
        ssl_cert_reqs=ssl.CERT_REQUIRED if server_config.tls_cafile else ssl.CERT_NONE,
        timeout_graceful_shutdown=10,
        # request headers within a bound, and no more connections than descriptors allow
        http=BoundedH11Protocol,
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    try:
        _serve(args)
    except ConfigError as exc:
        print(f"error: {exc.one_line()}", file=sys.stderr)
        return EXIT_CONFIG
    except StartupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_STARTUP
    except KeyboardInterrupt:
        return 0
    return 0


def console() -> None:
    """The ``llama-stack-reference`` command: `main`, then a prompt exit (`exit_now`)."""
    exit_now(main())
