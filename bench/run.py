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
from conformance.launchers.process import Exited, ManagedProcess, free_port  # noqa: E402
from conformance.launchers.reference import REFERENCE_READY  # noqa: E402

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
MAIN_JOB = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "auto"]
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


Target = tuple[str, ManagedProcess | None, str, str | None, str | None]


def measure(targets: list[Target], args: argparse.Namespace) -> list[dict[str, Any]]:
    """Median figures of interleaved rounds. The first two targets are the ceiling without and
    with the Authorization header; a target is compared with the ceiling that got the same
    request, so the cost of parsing an 800-byte header (the server's, not the app's) is not
    charged to authentication.

    Each round measures the ceiling and then every target, so a ratio compares two figures
    taken seconds apart: the machine's drift over a run (it moved the ceiling by 30 % in one
    run) cancels out of the ratios instead of landing on whichever target ran in a slow spell."""
    rounds: list[list[Load]] = []
    for index in range(args.rounds):
        print(f"round {index + 1} of {args.rounds} ...", file=sys.stderr)
        rounds.append([load(url, args.duration, args.connections, auth, chat) for _, _, url, auth, chat in targets])
    rows: list[dict[str, Any]] = []
    for position, (label, process, *_rest) in enumerate(targets):
        runs = [r[position] for r in rounds]
        ceiling = 1 if targets[position][3] else 0
        ratios = [r[position].rps / r[ceiling].rps for r in rounds]
        row: dict[str, Any] = {
            "target": label,
            "rps": statistics.median(x.rps for x in runs),
            "p50": statistics.median(x.p50_ms for x in runs),
            "p99": statistics.median(x.p99_ms for x in runs),
            "ratio": statistics.median(ratios),
            "ratio_range": [min(ratios), max(ratios)],
            "rps_runs": [x.rps for x in runs],
            "tool": runs[0].tool,
        }
        if process is not None:
            row["rss_mb"] = peak_rss_mb(process.pid)
        rows.append(row)
    return rows


def start_ceiling(body: str, workdir: Path, running: list[ManagedProcess]) -> str:
    port = free_port()
    argv = [sys.executable, "-m", "uvicorn", "ceiling:app", "--port", str(port), "--log-level", "warning"]
    argv += ["--no-access-log", "--app-dir", str(ROOT / "bench")]
    ceiling = ManagedProcess(argv, {**os.environ, "CEILING_BODY": body}, workdir, "ceiling")
    running.append(ceiling)
    url = f"http://127.0.0.1:{port}"
    ceiling.wait_for_http(url + "/v1/health", 30)
    return url


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
        f"{args.connections} connections, {args.duration} s per target and round, {args.rounds} interleaved "
        f"rounds (medians); load: {rows[0]['tool']}"
    )
    print(f"{'target':52} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'ratio':>6} {'ratio range':>12} {'peak RSS':>9}")
    for row in rows:
        rss = f"{row['rss_mb']:.0f} MB" if "rss_mb" in row else ""
        low, high = row["ratio_range"]
        spread = f"{low:.0%}-{high:.0%}"
        print(
            f"{row['target']:52} {row['rps']:7.0f} {row['p50']:7.2f} {row['p99']:7.2f} {row['ratio']:6.0%} "
            f"{spread:>12} {rss:>9}"
        )
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
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds; figures are their medians")
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
    rows: list[dict[str, Any]] = []
    running: list[ManagedProcess] = []
    try:
        paths = {}
        for name, text in configs.items():
            paths[name] = work / f"{name.replace('+', '-')}.yaml"
            paths[name].write_text(text)
        plain, plain_url = start_reference(paths["plain"], work)
        running.append(plain)
        body = httpx.get(plain_url + "/v1/models").text
        ceiling_url = start_ceiling(body, work, running)
        targets: list[Target] = [
            ("ceiling (bare Starlette, same body)", None, ceiling_url + "/v1/models", None, None),
            ("ceiling, same Authorization header", None, ceiling_url + "/v1/models", token, None),
            ("GET /v1/models", plain, plain_url + "/v1/models", None, None),
        ]
        for name in ("jwt", "jwt+quota"):
            process, url = start_reference(paths[name], work)
            running.append(process)
            targets.append((f"GET /v1/models, {name}", process, url + "/v1/models", token, None))
        chat_url = plain_url + "/v1/openai/v1/chat/completions"
        targets.append(("POST /v1/openai/v1/chat/completions via fake Ollama", plain, chat_url, None, CHAT))
        rows = measure(targets, args)
        for process in running:
            process.stop()
        running.clear()
        starts = cold_start(paths["plain"], work)
        suite = None
        if args.suite:
            began = time.perf_counter()
            subprocess.run(
                # The main job as dev.py runs it (-n auto), into a scratch report folder.
                [*MAIN_JOB, "--conformance-report", str(work / "suite-report")],
                cwd=ROOT,
                check=False,
                capture_output=True,
            )
            suite = time.perf_counter() - began
    finally:
        for process in running:
            process.stop()
        ollama.stop()
        jwks.stop()
    report(rows, starts, suite, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
