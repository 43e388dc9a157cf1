"""``llama-stack-conformance [--repeat N] [pytest options]``: the installed checks, from any folder.

A thin front for ``pytest --pyargs conformance.checks``; every option of the plugin applies.
It runs pytest in a child process with the package's own ``console.ini``: the folder it is
started in (its pytest configuration, its conftest files) does not change the run, and pytest
can rewrite the plugin's assertions because nothing imported the package before pytest started.
(The name is one pytest never finds by itself, so a run of the checks by path, as this
repository's tests do, keeps the configuration of the project it runs in.)
With ``--repeat N`` it is a soak run: the whole suite N times against the same target, then the
list of checks whose outcome changed between runs (flaky), and exit 1 if there is any.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
# The rootdir is the package's parent, so check ids read conformance/checks/test_x.py::test_y
# wherever the package is installed, as baselines expect.
BASE = ["-c", str(PACKAGE / "console.ini"), "--rootdir", str(PACKAGE.parent), "--pyargs", "conformance.checks"]
EXIT_USAGE = 4


def pytest_command(args: list[str]) -> list[str]:
    return [sys.executable, "-m", "pytest", *BASE, *args]


def soak(repeat: int, args: list[str]) -> int:
    history: dict[str, list[str]] = {}
    for round_number in range(1, repeat + 1):
        with tempfile.TemporaryDirectory(prefix="soak-") as folder:
            done = subprocess.run(
                pytest_command(["-q", *args, "--conformance-report", folder]),
                capture_output=True,
                text=True,
                check=False,
            )
            results = Path(folder) / "results.json"
            if not results.exists():
                print(f"round {round_number}: the suite wrote no results (exit {done.returncode}):")
                print(done.stdout[-1500:] + done.stderr[-1500:])
                return 2
            for requirement in json.loads(results.read_text())["requirements"]:
                for check in requirement["checks"]:
                    history.setdefault(check["id"], []).append(check["outcome"])
        changed = sum(1 for outcomes in history.values() if len(set(outcomes)) > 1)
        print(
            f"round {round_number}/{repeat}: exit {done.returncode}, {len(history)} checks, {changed} flaky so far",
            flush=True,
        )
    flaky = {check: outcomes for check, outcomes in history.items() if len(set(outcomes)) > 1}
    for check, outcomes in sorted(flaky.items()):
        print(f"FLAKY {check}: " + ", ".join(f"{o} x{outcomes.count(o)}" for o in sorted(set(outcomes))))
    print(f"soak: {repeat} rounds, {len(history)} checks, {len(flaky)} flaky")
    return 1 if flaky else 0


def split_repeat(args: list[str]) -> tuple[str | None, list[str]]:
    """Take ``--repeat N`` or ``--repeat=N`` out of the arguments (the rest goes to pytest)."""
    rest: list[str] = []
    value: str | None = None
    items = iter(args)
    for arg in items:
        if arg == "--repeat":
            value = next(items, "")
        elif arg.startswith("--repeat="):
            value = arg.partition("=")[2]
        else:
            rest.append(arg)
    return value, rest


def main(argv: list[str] | None = None) -> int:
    value, args = split_repeat(list(sys.argv[1:] if argv is None else argv))
    if value is not None:
        if not value.isdigit() or int(value) < 1:
            print(f"error: --repeat takes a positive number of rounds, got {value!r}", file=sys.stderr)
            return EXIT_USAGE
        return soak(int(value), args)
    try:
        return subprocess.call(pytest_command(args))
    except KeyboardInterrupt:
        return 2


if __name__ == "__main__":
    sys.exit(main())
