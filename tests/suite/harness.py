"""Running the conformance suite as a user would: a pytest subprocess, and its results file.

Shared by the plugin tests, the bad-target tests and the negative controls, so that all of them
start the suite the same way (environment twins cleared, no cache, bounded in time).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from dev import TEST_ONLY_PLUGINS

REPO = Path(__file__).resolve().parents[2]
CHECKS = str(REPO / "conformance" / "checks")
SERVE = REPO / "tests" / "defects" / "serve.py"
# The test extras' pytest plugins, which the suite never uses (dev.py says why they go), and
# here pytest-asyncio too: its options in pyproject.toml warn without it, but these runs' output
# is read by the tests, not by people. Some 250 suite runs each start without them.
UNUSED_PLUGINS = " ".join(f"-p no:{plugin}" for plugin in (*TEST_ONLY_PLUGINS, "asyncio"))


def run_pytest(*args: str, env: dict[str, str] | None = None, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return run_suite_command([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args], env=env, cwd=cwd)


def run_suite_command(
    argv: list[str], env: dict[str, str] | None = None, cwd: Path = REPO, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run the suite (pytest, or a console script) as a user would: the suite's environment twins
    and PYTHONPATH cleared, no standard input, bounded in time."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("LLAMA_STACK_", "OGX_", "PYTHONPATH"))}
    if not any(arg.startswith("--conformance-report") for arg in argv):
        # Not the default folder under cwd: parallel tests started from the repository would
        # write the same files there.
        full_env["LLAMA_STACK_CONFORMANCE_REPORT"] = tempfile.mkdtemp(prefix="suite-report-")
    full_env.update(env or {})
    full_env["PYTEST_ADDOPTS"] = f"{UNUSED_PLUGINS} {full_env.get('PYTEST_ADDOPTS', '')}".strip()
    return subprocess.run(
        argv,
        check=False,
        capture_output=True,
        text=True,
        cwd=cwd,
        env=full_env,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def defect_launcher(defect: str) -> list[str]:
    """Options that make the suite launch the reference server with one defect (tests/defects)."""
    return [
        "--stack-launcher",
        f"{sys.executable} {SERVE} {defect} {{config}} --port {{port}}",
        "--stack-generation=reference",
    ]


def results(report: Path) -> dict[str, dict[str, Any]]:
    """Requirement id -> its entry in results.json (empty when the run wrote none)."""
    path = report / "results.json"
    doc = json.loads(path.read_text()) if path.exists() else {}
    return {entry["id"]: entry for entry in doc.get("requirements", [])}


def verdicts(report: Path) -> dict[str, str]:
    return {rid: entry["verdict"] for rid, entry in results(report).items()}
