#!/usr/bin/env python3
"""The project's commands, runnable on a fresh machine with only Python 3.11+ and pip.

    python3 dev.py conformance [pytest args]   the main job: the whole suite against the embedded
                                               reference server, verdict table, reports/conformance/
    python3 dev.py test [pytest args]          every test: unit, HTTP, negative controls, the main job
    python3 dev.py lint                        ruff, mypy, and the GitHub workflows and action
                                               against GitHub's schemas

Each command first makes ``.venv`` (once) and installs the project into it with its test and
lint extras (again only when pyproject.toml changed), so nothing needs installing by hand.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
REPORT = ROOT / "reports" / "conformance"
# pytest plugins of the project's test extras that the suite itself never uses. A user's run of
# the suite does not load them, so the main job leaves them out too: hypothesis alone took about
# a second of each pytest process's start-up (three in an ``-n 2`` run).
TEST_ONLY_PLUGINS = ("hypothesispytest", "anyio", "respx")


def venv_python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def ensure_environment() -> Path:
    if sys.version_info < (3, 11):  # noqa: UP036 - dev.py runs under whatever python3 the user has
        sys.exit(f"error: Python 3.11 or newer is needed, this is {sys.version.split()[0]}")
    python = venv_python()
    if not python.exists():
        print(f"dev.py: creating {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()[:16]
    stamp = VENV / f".installed-{digest}"
    if not stamp.exists():
        print("dev.py: installing the project and its test tools into .venv", flush=True)
        run([str(python), "-m", "pip", "install", "--quiet", "--upgrade", "pip"])
        run([str(python), "-m", "pip", "install", "--quiet", "-e", f"{ROOT}[test,lint]"])
        for old in VENV.glob(".installed-*"):
            old.unlink()
        stamp.touch()
    return python


def run(argv: list[str]) -> int:
    code = subprocess.call(argv, cwd=ROOT)
    if code != 0 and argv[1:3] == ["-m", "pip"]:
        sys.exit(f"error: installing into .venv failed (exit {code})")
    return code


def conformance(python: Path, extra: list[str]) -> int:
    # Scenarios start in parallel across workers; the verdicts are the same as in a serial run.
    return run(
        [
            str(python),
            "-m",
            "pytest",
            "-n",
            "auto",
            *(arg for plugin in TEST_ONLY_PLUGINS for arg in ("-p", f"no:{plugin}")),
            "--conformance-report",
            str(REPORT),
            "--junitxml",
            str(REPORT / "junit.xml"),
            *extra,
        ]
    )


def tests(python: Path, extra: list[str]) -> int:
    code = run([str(python), "-m", "pytest", "-n", "2", "tests", *extra])
    if code != 0:
        return code
    return conformance(python, [])


def lint(python: Path) -> int:
    code = run([str(python), "-m", "ruff", "check", "."])
    code = code or run([str(python), "-m", "ruff", "format", "--check", "."])
    code = code or run([str(python), "-m", "mypy"])
    return code or workflows(python)


def workflows(python: Path) -> int:
    """GitHub never sees these files before they land, so a typo would show only on GitHub."""
    schema_check = [str(python), "-m", "check_jsonschema", "--builtin-schema"]
    files = sorted(str(p.relative_to(ROOT)) for p in (ROOT / ".github" / "workflows").glob("*.yml"))
    code = run([*schema_check, "vendor.github-workflows", *files, "docs/examples/conformance-workflow.yml"])
    return code or run([*schema_check, "vendor.github-actions", ".github/actions/llama-stack-conformance/action.yml"])


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] not in ("conformance", "test", "lint"):
        print(__doc__, file=sys.stderr)
        return 2
    command, extra = sys.argv[1], sys.argv[2:]
    python = ensure_environment()
    if command == "conformance":
        return conformance(python, extra)
    if command == "test":
        return tests(python, extra)
    return lint(python)


if __name__ == "__main__":
    sys.exit(main())
