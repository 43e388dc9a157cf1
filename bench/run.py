"""Benchmarks of the reference server against the framework's ceiling. Prints figures; asserts nothing.

    python bench/run.py [--duration 5] [--connections 16] [--suite] [--write docs/performance.md]

Each target runs alone on loopback, driven by wrk when it is installed (Debian's ``wrk``), else
by a Python load generator (which then caps the figures itself; the output says which ran).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from conformance.fakes.handle import FakeProcess  # noqa: E402
from conformance.launchers.base import REFERENCE_READY  # noqa: E402
from conformance.launchers.process import Exited, ManagedProcess, free_port  # noqa: E402

CONFIG = """version: 2
image_name: bench
apis: [inference]
providers:
  inference:
  - {{provider_id: ollama, provider_type: remote::ollama, config: {{url: "{ollama}"}}}}
metadata_store: {{type: sqlite, db_path: "{state}/registry.db"}}
models:
- {{model_id: llama3.2:3b, provider_id: ollama}}
- {{model_id: all-minilm:l6-v2, provider_id: ollama, model_type: embedding, metadata: {{embedding_dimension: 384}}}}
"""
JWT = """server:
  auth:
    provider_type: oauth2_token
    config: {{jwks: {{uri: "{jwks}/jwks"}}, issuer: "https://issuer.conformance.test"}}
"""
QUOTA = """  quota:
    kvstore: {{type: sqlite, db_path: "{state}/quota.db"}}
    anonymous_max_requests: 1000000000
    authenticated_max_requests: 1000000000
"""
CHAT = json.dumps({"model": "llama3.2:3b", "messages": [{"role": "user", "content": "hi"}]})


@dataclass
class Load:
    rps: float
    p50_ms: float
    p99_ms: float
    tool: str


def wrk(url: str, seconds: int, connections: int, token: str | None, body: str | None) -> Load:
    script = None
    args = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency"]
    if token:
        args += ["-H", f"Authorization: Bearer {token}"]
    if body:
        script = Path(tempfile.mkstemp(suffix=".lua")[1])
        script.write_text(
            f'wrk.method = "POST"\nwrk.body = {json.dumps(body)}\nwrk.headers["Content-Type"] = "application/json"\n'
        )
        args += ["-s", str(script)]
    out = subprocess.run([*args, url], capture_output=True, text=True, timeout=seconds + 30, check=True).stdout
    if script:
        script.unlink()

    def latency(label: str) -> float:
        match = re.search(rf"^\s*{label}%\s+([\d.]+)(us|ms|s)", out, re.M)
        if not match:
            return float("nan")
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        print(f"  warning: {errors.group(1)} non-2xx answers from {url}", file=sys.stderr)
    return Load(rps, latency("50"), latency("99"), "wrk")


async def python_load(url: str, seconds: int, connections: int, token: str | None, body: str | None) -> Load:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds
    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=connections), headers=headers) as client:

        async def worker() -> None:
            while time.perf_counter() < deadline:
                start = time.perf_counter()
                if body:
                    await client.post(url, content=body, headers={"content-type": "application/json"})
                else:
                    await client.get(url)
                latencies.append((time.perf_counter() - start) * 1000)

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.perf_counter() - began
    latencies.sort()
    return Load(
        len(latencies) / elapsed,
        latencies[len(latencies) // 2],
        latencies[int(len(latencies) * 0.99)],
        "python (caps the figures)",
    )


def load(url: str, seconds: int, connections: int, token: str | None = None, body: str | None = None) -> Load:
    for _ in range(200):  # warm-up
        httpx.request(
            "POST" if body else "GET",
            url,
            content=body,
            headers={"content-type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})},
        )
    if shutil.which("wrk"):
        return wrk(url, seconds, connections, token, body)
    return asyncio.run(python_load(url, seconds, connections, token, body))


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def start_reference(config: Path, workdir: Path, label: str | None = None) -> tuple[ManagedProcess, str]:
    process = ManagedProcess(
        [sys.executable, "-m", "reference_server", "run", str(config), "--port", "0"],
        dict(os.environ),
        workdir,
        label or f"ref-{config.stem}",
    )
    ready = process.wait_for_line(REFERENCE_READY, 30)
    if isinstance(ready, Exited):
        raise SystemExit(f"the reference server did not start: {ready.stderr[-500:]}")
    return process, ready


def cold_start(config: Path, workdir: Path, runs: int = 7) -> list[float]:
    times = []
    for index in range(runs):
        began = time.perf_counter()
        process, url = start_reference(config, workdir, f"cold-{index}")
        httpx.get(url + "/v1/health").raise_for_status()
        times.append(time.perf_counter() - began)
        process.stop()
    return times


def report(rows: list[dict[str, Any]], starts: list[float], suite: float | None, args: argparse.Namespace) -> None:
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"{args.connections} connections, {args.duration} s per target; load: {rows[0]['tool']}"
    )
    print(f"{'target':58} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'ratio':>6} {'peak RSS':>9}")
    for row in rows:
        rss = f"{row['rss_mb']:.0f} MB" if "rss_mb" in row else ""
        print(f"{row['target']:58} {row['rps']:9.0f} {row['p50']:8.2f} {row['p99']:8.2f} {row['ratio']:6.0%} {rss:>9}")
    print(
        f"cold start to first healthy /v1/health: median {statistics.median(starts):.3f} s "
        f"({', '.join(f'{s:.3f}' for s in starts)})"
    )
    if suite is not None:
        print(f"main job (the whole suite against the embedded reference server): {suite:.1f} s wall")
    if args.json:
        args.json.write_text(
            json.dumps(
                {"rows": rows, "cold_start_s": starts, "suite_s": suite, "date": time.strftime("%Y-%m-%d")}, indent=2
            )
        )


def main() -> int:
    parser = argparse.ArgumentParser(prog="python bench/run.py")
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--suite", action="store_true", help="also time the main job (the whole suite)")
    parser.add_argument("--json", type=Path, help="write the figures as JSON to this file")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-"))
    ollama = FakeProcess("ollama", work / "ollama")
    jwks = FakeProcess("jwks", work / "jwks")
    token = jwks.mint(expires_in=3600)
    base = CONFIG.format(ollama=ollama.url, state=work)
    configs = {
        "plain": base,
        "jwt": base + JWT.format(jwks=jwks.url),
        "jwt+quota": base + JWT.format(jwks=jwks.url) + QUOTA.format(state=work),
    }
    rows: list[dict[str, object]] = []
    try:
        paths = {}
        for name, text in configs.items():
            paths[name] = work / f"{name.replace('+', '-')}.yaml"
            paths[name].write_text(text)
        plain, plain_url = start_reference(paths["plain"], work)
        body = httpx.get(plain_url + "/v1/models").text
        port = free_port()
        ceiling = ManagedProcess(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "ceiling:app",
                "--port",
                str(port),
                "--log-level",
                "warning",
                "--no-access-log",
                "--app-dir",
                str(ROOT / "bench"),
            ],
            {**os.environ, "CEILING_BODY": body},
            work,
            "ceiling",
        )
        ceiling.wait_for_http(f"http://127.0.0.1:{port}/v1/health", 30)
        top = load(f"http://127.0.0.1:{port}/v1/models", args.duration, args.connections)
        ceiling.stop()
        rows.append(
            {
                "target": "ceiling (bare Starlette, same body)",
                "rps": top.rps,
                "p50": top.p50_ms,
                "p99": top.p99_ms,
                "ratio": 1.0,
                "tool": top.tool,
            }
        )
        measured = [("GET /v1/models", plain, plain_url, None, None)]
        for name in ("jwt", "jwt+quota"):
            process, url = start_reference(paths[name], work)
            measured.append((f"GET /v1/models, {name}", process, url, token, None))
        measured.append(("POST /v1/openai/v1/chat/completions via fake Ollama", plain, plain_url, None, CHAT))
        for label, process, url, auth, chat in measured:
            path = "/v1/openai/v1/chat/completions" if chat else "/v1/models"
            figures = load(url + path, args.duration, args.connections, auth, chat)
            rows.append(
                {
                    "target": label,
                    "rps": figures.rps,
                    "p50": figures.p50_ms,
                    "p99": figures.p99_ms,
                    "ratio": figures.rps / top.rps,
                    "tool": figures.tool,
                    "rss_mb": peak_rss_mb(process.pid),
                }
            )
        for _label, process, *_ in measured:
            process.stop()
        starts = cold_start(paths["plain"], work)
        suite = None
        if args.suite:
            began = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
                cwd=ROOT,
                check=False,
                capture_output=True,
            )
            suite = time.perf_counter() - began
    finally:
        ollama.stop()
        jwks.stop()
    report(rows, starts, suite, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
