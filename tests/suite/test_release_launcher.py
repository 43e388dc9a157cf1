"""Release launchers when a release cannot be had here: one line, and checks not evaluated."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tests.suite.harness import CHECKS, defect_launcher, run_pytest, verdicts

RELEASE = """\
phantom:
  description: a release this machine cannot provide
  version: "0.7.3"
  dialect: "0.7"
  python: [{python}]
  packages: [--no-index, conformance-no-such-package]
  command: [llama, stack, run, "{{config}}", --port, "{{port}}"]
"""


def run_release(tmp_path: Path, python: str) -> tuple[int, str, dict[str, str]]:
    fixtures = tmp_path / "fixtures"
    (fixtures / "scenarios").mkdir(parents=True)
    (fixtures / "releases.yaml").write_text(RELEASE.format(python=python))
    report = tmp_path / "report"
    done = run_pytest(
        CHECKS,
        "--stack-launcher=phantom",
        f"--stack-fixtures={fixtures}",
        "--stack-profile=core",
        "--conformance-report",
        str(report),
        env={"LLAMA_STACK_CONFORMANCE_CACHE": str(tmp_path / "cache")},
    )
    doc = json.loads((report / "results.json").read_text())
    return done.returncode, done.stdout + done.stderr, {e["id"]: e["verdict"] for e in doc["requirements"]}


def test_no_suitable_python_is_one_line_and_not_evaluated(tmp_path: Path) -> None:
    code, out, verdicts = run_release(tmp_path, '"2.1"')
    assert code == 5, out[-3000:]  # nothing evaluated: never a green run
    assert "launcher phantom (unavailable: phantom needs Python 2.1; none found" in out
    assert set(verdicts.values()) == {"not-evaluated"}
    assert "Traceback" not in out


def test_a_failed_install_is_one_line_and_not_evaluated(tmp_path: Path) -> None:
    minor = f"{sys.version_info[0]}.{sys.version_info[1]}"
    code, out, verdicts = run_release(tmp_path, f'"{minor}"')
    assert code == 5, out[-3000:]  # nothing evaluated: never a green run
    refusal = "phantom could not be installed: -m pip install exited 1: ERROR: No matching distribution"
    assert f"launcher phantom (unavailable: {refusal}" in out
    assert set(verdicts.values()) == {"not-evaluated"}
    # the failure is remembered next to the venv for xdist workers, and the log is kept
    assert list((tmp_path / "cache" / "venvs").glob("phantom-*.failed"))
    assert list((tmp_path / "cache" / "venvs").glob("phantom-*.log"))


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("phantom:\n  version: '1.0'\n", "release 'phantom': missing"),
        ("- phantom\n", "expected a mapping of release names"),
        ("phantom: [\n", "not valid YAML"),
        (RELEASE.format(python='"3.11"').replace('python: ["3.11"]', "python: '3.11'"), "python must be a list"),
        (RELEASE.format(python="3.10"), "python must be a list of quoted minor versions"),
        (RELEASE.format(python='"3.11"') + "  env: [HF_HUB_OFFLINE]\n", "env must be a mapping"),
        (RELEASE.format(python='"3.11"') + "  constraints: releases/nope.txt\n", "nope.txt does not exist"),
    ],
)
def test_a_bad_release_file_is_a_usage_error(text: str, fragment: str, tmp_path: Path) -> None:
    fixtures = tmp_path / "fixtures"
    (fixtures / "scenarios").mkdir(parents=True)
    (fixtures / "releases.yaml").write_text(text)
    done = run_pytest(CHECKS, "--stack-launcher=phantom", f"--stack-fixtures={fixtures}", "--collect-only")
    assert done.returncode == 4 and fragment in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


def test_an_unknown_launcher_name_is_a_usage_error(tmp_path: Path) -> None:
    done = run_pytest(CHECKS, "--stack-launcher=llama-stack-9", "--collect-only", cwd=tmp_path)
    assert done.returncode == 4
    assert "not a release of" in done.stderr, done.stderr
    assert "releases.yaml (llama-stack-0.2, llama-stack-0.7, ogx-1)" in done.stderr, done.stderr


def test_the_readiness_probe_spends_none_of_the_checks_budget(tmp_path: Path) -> None:
    """A server that counts /v1/health (as upstream does) starts the quota checks with a full
    budget: the launcher probes it from another loopback address."""
    done = run_pytest(
        CHECKS,
        *defect_launcher("health-counted"),
        "--stack-requirement=QUOTA-001,QUOTA-004,QUOTA-007",
        "--conformance-report",
        str(tmp_path),
    )
    assert verdicts(tmp_path) == {"QUOTA-001": "pass", "QUOTA-004": "pass", "QUOTA-007": "fail"}, done.stdout[-3000:]
