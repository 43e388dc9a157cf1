"""Negative controls: every check fails against a server with the matching defect.

Each case runs the real suite, in a subprocess, against `tests/defects/serve.py DEFECT` through the
command-template launcher, restricted to the requirements the defect targets, and reads
the verdicts from results.json. The defect-free run of the same harness must pass everything,
so a failure here is the defect's doing, not the harness's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from conformance.catalog import load_catalog
from conformance.scenarios import DEFAULT_FIXTURES as FIXTURES
from conformance.scenarios import load_scenario
from tests.defects import DEFECTS
from tests.suite.harness import CHECKS, defect_launcher, results, run_pytest
from tests.suite.test_negative_controls_url import CONFIG_CONTROLS, DRIFT_CONTROLS


def run_suite(defect: str, requirements: tuple[str, ...], report: Path) -> tuple[int, dict[str, Any], str]:
    selection = ["--stack-requirement", ",".join(requirements)] if requirements else []
    done = run_pytest(
        "-q", "-p", "no:xdist", CHECKS, *defect_launcher(defect), "--conformance-report", str(report), *selection
    )
    return done.returncode, results(report), done.stdout[-3000:] + done.stderr[-2000:]


def test_every_requirement_has_a_negative_control() -> None:
    # A defective server for each; --stack-config's checks are controlled by defective or drifted configs.
    covered = {requirement for defect in DEFECTS.values() for requirement in defect.requirements}
    covered |= set(CONFIG_CONTROLS) | set(DRIFT_CONTROLS)
    missing = sorted(set(load_catalog()) - covered)
    assert not missing, f"requirements without a defect proving their checks can fail: {missing}"


def test_the_harness_passes_everything_without_a_defect(tmp_path: Path) -> None:
    code, verdicts, output = run_suite("none", (), tmp_path)
    assert code == 0, output
    assert set(verdicts) == set(load_catalog()), output
    # the run-config profile lints an operator's --stack-config; a launched run has none to lint
    needs_config = {rid for rid, r in load_catalog().items() if r.profile == "run-config"}
    assert {verdicts[rid]["verdict"] for rid in needs_config} == {"not-evaluated"}, verdicts
    assert {entry["verdict"] for rid, entry in verdicts.items() if rid not in needs_config} == {"pass"}, verdicts
    # each scenario lists the requirements whose checks launched it (their server logs say which)
    launched: dict[str, set[str]] = {}
    for rid, entry in verdicts.items():
        for log in (log for check in entry["checks"] for log in check.get("server_logs", [])):
            launched.setdefault(log.split("/")[1].rsplit("-", 1)[0], set()).add(rid)
    listed = {s.name: set(load_scenario(FIXTURES, s.name).requirements) for s in (FIXTURES / "scenarios").iterdir()}
    assert {name: ids for name, ids in listed.items() if ids} == launched


def test_quota_checks_without_a_quota_are_inconclusive(tmp_path: Path) -> None:
    """Health not counted, 401 over budget: with no quota at all neither could have failed."""
    code, verdicts, output = run_suite("quota-dropped", ("QUOTA-001", "QUOTA-003", "QUOTA-007"), tmp_path)
    got = {r: verdicts[r]["verdict"] for r in ("QUOTA-001", "QUOTA-003", "QUOTA-007")}
    assert got == {"QUOTA-001": "fail", "QUOTA-003": "inconclusive", "QUOTA-007": "inconclusive"}, output
    assert code == 1, output


@pytest.mark.parametrize("defect", sorted(name for name, defect in DEFECTS.items() if defect.requirements))
def test_checks_fail_on_their_defect(defect: str, tmp_path: Path) -> None:
    targeted = DEFECTS[defect].requirements
    code, verdicts, output = run_suite(defect, targeted, tmp_path)
    assert code == 1, f"the suite exited {code} against defect {defect!r}\n{output}"
    wrong = {r: verdicts.get(r, {}).get("verdict") for r in targeted if verdicts.get(r, {}).get("verdict") != "fail"}
    assert not wrong, f"against defect {defect!r} these requirements did not fail: {wrong}\n{output}"
    if not DEFECTS[defect].breaks_startup:
        # Failing because the target never came up proves nothing about the check.
        messages = [c["message"] for r in targeted for c in verdicts[r]["checks"] if c["outcome"] == "fail"]
        unrelated = [m for m in messages if "did not start" in m]
        assert not unrelated, f"defect {defect!r}: checks failed only because a scenario did not start: {unrelated}"
    if not DEFECTS[defect].crashes:
        # A defect that crashes where it meant to misbehave (a sync stand-in for an async method)
        # makes the checks fail on a 500, not on the behaviour the defect is named after.
        files = sorted(f for f in (tmp_path / "servers").rglob("*") if f.is_file())
        crashed = [str(f) for f in files if "Traceback (most recent call last)" in f.read_text(errors="replace")]
        assert not crashed, f"defect {defect!r}: the server crashed instead of misbehaving, see {crashed}\n{output}"
