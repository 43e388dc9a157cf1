"""What one GET /v1/models costs inside the app, without uvicorn, sockets or a load generator.

    python bench/app_cost.py [plain|jwt|jwt+quota|ceiling] [--requests 20000] [--concurrency 1] [--profile]

wrk figures move by 10-30 % between runs on a shared 2-core machine; calling the ASGI app in a
loop does not, so this is the instrument for deciding whether a change to the request path
helps. ``--profile`` prints cProfile's view of the same loop (the profiler inflates Python
frames, so read its shares, not its times). Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import ceiling  # noqa: E402
from run import positive  # noqa: E402

from conformance.fakes.handle import FakeProcess  # noqa: E402


def request_scope(token: str | None) -> dict[str, Any]:
    headers = [(b"host", b"127.0.0.1"), (b"user-agent", b"bench")]
    if token:
        headers.append((b"authorization", b"Bearer " + token.encode()))
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/v1/models",
        "raw_path": b"/v1/models",
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8321),
    }


async def drive(app: Any, scope: dict[str, Any], requests: int, concurrency: int) -> float:
    """Seconds per request, after a warm-up, with ``concurrency`` requests in flight (as wrk's
    connections keep them); fails loudly if the app does not answer 200."""
    statuses: list[int] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    async def client(count: int) -> None:
        for _ in range(count):
            await app(dict(scope), receive, send)

    await client(500)
    if set(statuses) != {200}:
        raise SystemExit(f"the app answered {sorted(set(statuses))}, not 200")
    began = time.perf_counter()
    await asyncio.gather(*(client(requests // concurrency) for _ in range(concurrency)))
    return (time.perf_counter() - began) / (requests // concurrency * concurrency)


async def measure(mode: str, work: Path, ollama_url: str, jwks: FakeProcess, args: argparse.Namespace) -> None:
    token = jwks.mint(expires_in=3600) if "jwt" in mode else None
    if mode == "ceiling":
        app: Any = ceiling.app
    else:
        from reference_server.api.app import create_app
        from reference_server.config.loader import load_config
        from reference_server.stack import Stack

        # The bench scenarios bench/run.py serves, in the reference's dialect.
        scenario = {"plain": "bench", "jwt": "bench-jwt", "jwt+quota": "bench-jwt-quota"}[mode]
        path = ROOT / "fixtures" / "scenarios" / scenario / "reference.yaml"
        env = {
            **os.environ,
            "OLLAMA_URL": ollama_url,
            "SQLITE_STORE_DIR": str(work),
            "CONFORMANCE_JWKS_URI": f"{jwks.url}/jwks",
        }
        stack = Stack.build(load_config(str(path), env))
        await stack.start()
        app = create_app(stack)
    scope = request_scope(token)
    seconds = await drive(app, scope, args.requests, args.concurrency)
    done = f"{args.requests} requests, {args.concurrency} at a time"
    print(f"{mode}: {seconds * 1e6:.1f} us per GET /v1/models in the app ({done})")
    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        await drive(app, scope, args.requests, args.concurrency)
        profiler.disable()
        pstats.Stats(profiler).sort_stats(args.sort).print_stats(30)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python bench/app_cost.py")
    parser.add_argument("mode", choices=["plain", "jwt", "jwt+quota", "ceiling"], nargs="?", default="plain")
    parser.add_argument("--requests", type=positive, default=20000)
    parser.add_argument("--concurrency", type=positive, default=1, help="requests in flight at once (wrk's 16)")
    parser.add_argument("--profile", action="store_true", help="also print a cProfile of the loop")
    parser.add_argument("--sort", default="tottime", choices=["tottime", "cumulative", "ncalls"], help="profile order")
    args = parser.parse_args()
    if args.requests < args.concurrency:
        parser.error(f"--requests ({args.requests}) must be at least --concurrency ({args.concurrency})")
    work = Path(tempfile.mkdtemp(prefix="app-cost-"))
    ollama = FakeProcess("ollama", work / "ollama")
    jwks = FakeProcess("jwks", work / "jwks")
    try:
        asyncio.run(measure(args.mode, work, ollama.url, jwks, args))
    finally:
        ollama.stop()
        jwks.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
