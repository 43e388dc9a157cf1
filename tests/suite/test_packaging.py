"""An installed suite (a built wheel, not this tree) still launches scenarios: the wheel carries
``fixtures/`` as ``conformance/fixtures`` (setup.py), and the plugin finds them there."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from tests.suite.harness import REPO, results, run_pytest, run_suite_command

BUILD_INPUTS = (
    "pyproject.toml",
    "setup.py",
    "MANIFEST.in",
    "README.md",
    "conformance",
    "reference_server",
    "loopback_serving",
    "fixtures",
)


def copy_build_inputs(target: Path) -> Path:
    target.mkdir()
    for part in BUILD_INPUTS:
        if (REPO / part).is_dir():
            shutil.copytree(REPO / part, target / part, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            shutil.copy2(REPO / part, target / part)
    return target


def test_a_built_install_carries_the_fixtures_and_launches_from_them(tmp_path: Path) -> None:
    site, outside = tmp_path / "site", tmp_path / "elsewhere"
    outside.mkdir()
    source = copy_build_inputs(tmp_path / "source")  # pip builds inside it: keep build/ out of this tree
    install = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation"]
    subprocess.run([*install, "--target", str(site), str(source)], check=True, timeout=300, stdin=subprocess.DEVNULL)
    packaged = site / "conformance" / "fixtures"
    shipped = sorted(p.relative_to(packaged) for p in packaged.rglob("*.yaml"))
    in_tree = sorted(p.relative_to(REPO / "fixtures") for p in (REPO / "fixtures").rglob("*.yaml"))
    assert shipped == in_tree

    # From a folder outside the tree, with the installed copy first on the path: both requirements
    # are judged on launched scenarios, so they pass only if the packaged fixtures were found.
    report = tmp_path / "report"
    done = run_pytest(
        "--pyargs", "conformance.checks", "-q", "-p", "no:xdist", "--stack-requirement", "CFG-ENV-001,CFG-GATE-001",
        "--conformance-report", str(report), cwd=outside, env={"PYTHONPATH": str(site)},
    )  # fmt: skip
    verdicts = {rid: entry["verdict"] for rid, entry in results(report).items()}
    assert verdicts == {"CFG-ENV-001": "pass", "CFG-GATE-001": "pass"}, done.stdout[-2000:] + done.stderr[-1000:]
    probe = subprocess.run(
        [sys.executable, "-c", "import conformance.scenarios as s; print(s.DEFAULT_FIXTURES)"],
        env={"PYTHONPATH": str(site), "PATH": ""},
        cwd=outside,
        capture_output=True,
        text=True,
        check=True,
    )
    assert probe.stdout.strip() == str(packaged)


def test_a_plain_install_certifies_the_embedded_server_green(plain_install: tuple[Path, Path], tmp_path: Path) -> None:
    """``pip install llama-stack-conformance`` (no extras), then ``llama-stack-conformance`` with no
    URL: the embedded reference server, every scenario included, must come out 100 % green."""
    _, venv = plain_install
    report = tmp_path / "report"
    script = str(venv / "bin" / "llama-stack-conformance")
    done = run_suite_command([script, "-q", "--conformance-report", str(report)], cwd=tmp_path, timeout=600)
    verdicts = {rid: entry["verdict"] for rid, entry in results(report).items()}
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    # run-config lints an operator's --stack-config; the embedded run has none, so it is not evaluated
    needs_config = {rid for rid in verdicts if rid.startswith("CFG-RUN-")}
    assert {verdicts[rid] for rid in needs_config} == {"not-evaluated"}, verdicts
    others = {k: v for k, v in verdicts.items() if k not in needs_config}
    assert others and set(others.values()) == {"pass"}, {k: v for k, v in others.items() if v != "pass"}
