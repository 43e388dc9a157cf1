"""Benchmarks of the reference server, and with ``--releases`` of the real releases, against the
framework's ceiling, in the same interleaved rounds. Prints figures; asserts nothing.

    python bench/run.py [--duration 5] [--connections 16] [--rounds 3] [--suite] [--releases] [--tests] [--json F]

Every implementation is started by the suite's own launcher (the embedded reference server, and
llama-stack 0.2.12, 0.7.3 and OGX 1.5 from the release launcher's cached venvs) on the bench
scenarios of fixtures/scenarios (bench, bench-jwt, bench-jwt-quota: the same fake Ollama and fake
issuer in each release's dialect). Load comes from wrk when it is installed (Debian's ``wrk``),
else from a Python load generator (which then caps the figures itself; the output says which ran).
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

from conformance.launchers.base import Running  # noqa: E402
from conformance.launchers.choose import launcher_from_option  # noqa: E402
from conformance.launchers.process import ManagedProcess, free_port  # noqa: E402
from conformance.scenarios import Launched, ScenarioPool  # noqa: E402
from dev import TEST_ONLY_PLUGINS  # noqa: E402
from loopback_serving import announcement  # noqa: E402


def measure_new_processes() -> None:
    """Start every server measured here as a new process: a fork of the suite's preloaded fork
    server would skip the imports a cold start is made of (conformance.launchers.forking)."""
    os.environ["CONFORMANCE_FORK_SERVER"] = "0"


FIXTURES = ROOT / "fixtures"
RELEASES = ("llama-stack-0.2", "llama-stack-0.7", "ogx-1")
# (scenario, what the row says): the same three in every implementation's dialect
VARIANTS = (("bench", ""), ("bench-jwt", "JWT"), ("bench-jwt-quota", "JWT + quota"))
LEFT_OUT = [arg for plugin in TEST_ONLY_PLUGINS for arg in ("-p", f"no:{plugin}")]  # as dev.py and tox do
MAIN_JOB = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "auto", *LEFT_OUT]
# A release run as tox's release environments run it (tox.ini [release]), into a scratch folder.
RELEASE_RUN = [
    *(sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "2", *LEFT_OUT),
    *("--stack-launch-timeout=60", "--request-timeout=30"),
]
TEST_COMMAND = [sys.executable, "dev.py", "test"]


def positive(text: str) -> int:
    """An argparse type: a whole number of at least 1, refused by name otherwise."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is less than 1")
    return value


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


def ceiling_cold_starts(workdir: Path, runs: int, framework: str) -> list[float]:
    """Spawn to announced readiness of the bare app on ``framework`` (starlette, fastapi): the
    floor under any cold start on it, on this machine."""
    times = []
    for index in range(runs):
        began = time.perf_counter()
        argv = [sys.executable, str(ROOT / "bench" / "ceiling.py"), framework]
        process = ManagedProcess(argv, dict(os.environ), workdir, f"cold-{index}")
        ready = process.wait_for_line(announcement("ceiling"), 60)
        times.append(time.perf_counter() - began)
        process.stop()
        if not isinstance(ready, str):
            raise SystemExit(f"the ceiling did not start: {ready.stderr[-500:]}")
    return times


@dataclass
class Implementation:
    """One implementation's bench servers, or why it has none."""

    name: str
    targets: list[Target]
    cold_starts: list[float]
    unavailable: str | None = None


def chat_body(url: str) -> tuple[str, str]:
    """The chat route this implementation serves and a request for its first model."""
    models = httpx.get(url + "/v1/models").json().get("data", [])
    model = next(str(m.get("identifier", m.get("id"))) for m in models if "guard" not in str(m))
    body = json.dumps({"model": model, "messages": [{"role": "user", "content": "hi"}]})
    for route in ("/v1/chat/completions", "/v1/openai/v1/chat/completions"):
        answer = httpx.post(url + route, content=body, headers={"content-type": "application/json"}, timeout=30)
        if answer.status_code == 200:
            return url + route, body
    raise SystemExit(f"no chat route answered at {url}: {answer.status_code} {answer.text[:200]}")


def cold_starts(pool: ScenarioPool, launched: Launched, runs: int) -> list[float]:
    """Spawn to first answer, ``runs`` times on the bench scenario's own state (the last one is kept)."""
    times = []
    config = launched.scenario.config_for(pool.launcher.dialects)
    for index in range(runs):
        if isinstance(launched.outcome, Running):
            launched.outcome.stop()
        began = time.perf_counter()
        launched.outcome = pool.launcher.launch(config, launched.env, launched.workdir, f"cold-{index}", 120)
        if not isinstance(launched.outcome, Running):
            raise SystemExit(f"{pool.launcher.name} did not restart: {launched.outcome.stderr[-500:]}")
        times.append(time.perf_counter() - began)
    return times


def start_implementation(name: str, pools: list[ScenarioPool], starts: int) -> Implementation:
    launcher = launcher_from_option(name, None, FIXTURES)
    why = launcher.prepare(install=True)
    if why is not None:
        return Implementation(name, [], [], why)
    pool = ScenarioPool(launcher, FIXTURES, timeout=120)
    pools.append(pool)
    targets: list[Target] = []
    starts_s: list[float] = []
    for scenario, what in VARIANTS:
        launched = pool.launch(scenario)
        if not isinstance(launched.outcome, Running):
            return Implementation(name, [], [], f"{scenario} did not start: {launched.outcome.stderr[-300:]}")
        if not what:
            starts_s = cold_starts(pool, launched, starts)
        assert isinstance(launched.outcome, Running)
        url, process = launched.outcome.url, launched.outcome.process
        token = launched.fakes["jwks"].mint(expires_in=24 * 3600) if "jwks" in launched.fakes else None
        label = f"{name}: GET /v1/models" + (f", {what}" if what else "")
        targets.append((label, process, url + "/v1/models", token, None))
        if not what:
            chat_url, chat = chat_body(url)
            targets.append((f"{name}: POST chat via the fake Ollama", process, chat_url, None, chat))
    return Implementation(name, targets, starts_s)


def timed(argv: list[str]) -> dict[str, Any]:
    """Wall seconds of one command run from the repository, and whether it succeeded."""
    began = time.perf_counter()
    env = {key: value for key, value in os.environ.items() if key != "CONFORMANCE_FORK_SERVER"}  # as users run it
    done = subprocess.run(argv, cwd=ROOT, env=env, check=False, capture_output=True, text=True)
    tail = (done.stdout.strip().splitlines() or [""])[-1]
    return {"seconds": time.perf_counter() - began, "exit": done.returncode, "last_line": tail[-200:]}


def suite_figures(implementations: list[Implementation], work: Path, args: argparse.Namespace) -> dict[str, Any]:
    """What users wait for: the main job, each release run (with --releases), the test command
    (with --tests), each timed on its own after the load rounds, with nothing else running."""
    figures: dict[str, Any] = {}
    if args.suite:
        print("timing the main job ...", file=sys.stderr)
        figures["main job"] = timed([*MAIN_JOB, "--conformance-report", str(work / "suite-report")])
        for implementation in implementations[1:]:
            if implementation.unavailable:
                continue
            name = implementation.name
            print(f"timing the {name} run ...", file=sys.stderr)
            baseline = str(FIXTURES / "baselines" / f"{name}.yaml")
            options = [f"--stack-launcher={name}", "--expected-failures", baseline]
            figures[f"{name} run"] = timed([*RELEASE_RUN, *options, "--conformance-report", str(work / name)])
    if args.tests:
        print("timing the test command (dev.py test) ...", file=sys.stderr)
        figures["dev.py test"] = timed(TEST_COMMAND)
    return figures


def report(
    rows: list[dict[str, Any]],
    implementations: list[Implementation],
    suite: dict[str, Any],
    args: argparse.Namespace,
) -> None:
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
    for implementation in implementations:
        if implementation.unavailable:
            print(f"{implementation.name}: not measured: {implementation.unavailable}")
            continue
        starts = implementation.cold_starts
        print(
            f"{implementation.name}: cold start to first answer: median {statistics.median(starts):.3f} s "
            f"({', '.join(f'{s:.3f}' for s in starts)})"
        )
    for what, figure in suite.items():
        verdict = "passed" if figure["exit"] == 0 else f"exit {figure['exit']}: {figure['last_line']}"
        print(f"{what}: {figure['seconds']:.1f} s wall ({verdict})")
    if args.json:
        document = {
            "rows": rows,
            "cold_start_s": {i.name: i.cold_starts for i in implementations if not i.unavailable},
            "unavailable": {i.name: i.unavailable for i in implementations if i.unavailable},
            "suite": suite,
            "date": time.strftime("%Y-%m-%d"),
        }
        args.json.write_text(json.dumps(document, indent=2))


def main() -> int:
    parser = argparse.ArgumentParser(prog="python bench/run.py")
    parser.add_argument("--duration", type=positive, default=5)
    parser.add_argument("--connections", type=positive, default=16)
    parser.add_argument("--rounds", type=positive, default=3, help="interleaved rounds; figures are their medians")
    parser.add_argument("--starts", type=positive, default=7, help="cold starts per target; the median is shown")
    parser.add_argument(
        "--suite", action="store_true", help="also time the main job, and with --releases each release's run"
    )
    parser.add_argument("--tests", action="store_true", help="also time the test command (dev.py test; long)")
    parser.add_argument("--releases", action="store_true", help=f"also measure {', '.join(RELEASES)}")
    parser.add_argument("--json", type=Path, help="write the figures as JSON to this file")
    args = parser.parse_args()
    measure_new_processes()
    work = Path(tempfile.mkdtemp(prefix="bench-"))
    pools: list[ScenarioPool] = []
    running: list[ManagedProcess] = []
    implementations: list[Implementation] = []
    try:
        print("cold starts of the bare apps ...", file=sys.stderr)
        floors = [
            Implementation(f"ceiling: bare {shown} app", [], starts)
            for framework, shown in (("starlette", "Starlette"), ("fastapi", "FastAPI"))
            if (starts := ceiling_cold_starts(work / f"cold-{framework}", args.starts, framework))
        ]
        for name in ("reference", *(RELEASES if args.releases else ())):
            print(f"starting {name} ...", file=sys.stderr)
            implementations.append(start_implementation(name, pools, args.starts))
        reference_models = implementations[0].targets[0][2]
        ceiling_url = start_ceiling(httpx.get(reference_models).text, work, running)
        token = next(t[3] for t in implementations[0].targets if t[3])
        targets: list[Target] = [
            ("ceiling (bare Starlette, same body)", None, ceiling_url + "/v1/models", None, None),
            ("ceiling, same Authorization header", None, ceiling_url + "/v1/models", token, None),
        ]
        targets += [target for implementation in implementations for target in implementation.targets]
        rows = measure(targets, args)
        for pool in pools:
            pool.close()
        pools.clear()
        suite = suite_figures(implementations, work, args)
    finally:
        for process in running:
            process.stop()
        for pool in pools:
            pool.close()
    report(rows, [*floors, *implementations], suite, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
