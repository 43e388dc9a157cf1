"""``llama-stack-conformance [--repeat N] [pytest options]``: the installed checks, from any folder.

A thin front for ``pytest --pyargs conformance.checks``; every option of the plugin applies.
With ``--repeat N`` it is a soak run: the whole suite N times against the same target, then the
list of checks whose outcome changed between runs (flaky), and exit 1 if there is any.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

BASE = ["--pyargs", "conformance.checks", "-p", "no:cacheprovider"]


def soak(repeat: int, args: list[str]) -> int:
    history: dict[str, list[str]] = {}
    for round_number in range(1, repeat + 1):
        with tempfile.TemporaryDirectory(prefix="soak-") as folder:
            done = subprocess.run(
                [sys.executable, "-m", "pytest", *BASE, "-q", "--conformance-report", folder, *args],
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


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if "--repeat" in args:
        index = args.index("--repeat")
        value = args[index + 1] if index + 1 < len(args) else ""
        if not value.isdigit() or int(value) < 1:
            print(f"error: --repeat takes a number of rounds, got {value!r}", file=sys.stderr)
            return 4
        return soak(int(value), args[:index] + args[index + 2 :])
    return int(pytest.main([*BASE, *args]))


if __name__ == "__main__":
    sys.exit(main())
