"""--expected-failures end to end: a listed failure gates green, a new one and a stale entry gate red."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.suite.harness import CHECKS, defect_launcher, run_pytest

# CORE-VERSION-001 fails against this defect; CORE-HEALTH-001 passes.
DEFECT = defect_launcher("version-missing")
SELECTED = "--stack-requirement=CORE-VERSION-001,CORE-HEALTH-001"


def gate(tmp_path: Path, baseline: str) -> tuple[int, str, dict[str, object]]:
    path = tmp_path / "baseline.yaml"
    path.write_text(baseline)
    report = tmp_path / "report"
    done = run_pytest(CHECKS, *DEFECT, SELECTED, f"--expected-failures={path}", "--conformance-report", str(report))
    doc = json.loads((report / "results.json").read_text()) if (report / "results.json").exists() else {}
    return done.returncode, done.stdout + done.stderr, doc


def test_a_listed_requirement_failure_gates_green(tmp_path: Path) -> None:
    code, out, doc = gate(tmp_path, "- id: CORE-VERSION-001\n  reason: upstream omits the version\n")
    assert code == 0, out[-3000:]
    assert "fail (expected)" in out and "baseline gate passed: 1 expected failure(s), 0 new, 0 stale" in out
    baseline = doc["baseline"]
    assert isinstance(baseline, dict) and baseline["passed"] is True
    entry = next(e for e in doc["requirements"] if e["id"] == "CORE-VERSION-001")  # type: ignore[attr-defined]
    assert entry["verdict"] == "fail" and entry["expected_failure"] == "upstream omits the version"


def test_a_listed_check_failure_gates_green(tmp_path: Path) -> None:
    code, out, _ = gate(tmp_path, "- id: test_core.py::test_version_is_a_string\n  reason: known\n")
    assert code == 0, out[-3000:]


def test_a_new_failure_gates_red_naming_it(tmp_path: Path) -> None:
    code, out, doc = gate(tmp_path, "[]\n")
    assert code == 1
    assert "new failure: CORE-VERSION-001" in out
    assert doc["baseline"]["new"]  # type: ignore[index]


def test_a_listed_item_that_now_passes_is_stale_and_gates_red(tmp_path: Path) -> None:
    baseline = "- {id: CORE-VERSION-001, reason: known}\n- {id: CORE-HEALTH-001, reason: was broken once}\n"
    code, out, doc = gate(tmp_path, baseline)
    assert code == 1
    assert "stale entry (now passes, remove it): CORE-HEALTH-001" in out
    assert doc["baseline"]["stale"] == ["CORE-HEALTH-001"]  # type: ignore[index]


def test_a_listed_item_that_did_not_run_changes_nothing(tmp_path: Path) -> None:
    baseline = "- {id: CORE-VERSION-001, reason: known}\n- {id: QUOTA-001, reason: not selected}\n"
    code, out, _ = gate(tmp_path, baseline)
    assert code == 0 and "not run: QUOTA-001" in out, out[-3000:]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("{id: CORE-VERSION-001}", "expected a list"),
        ("- CORE-VERSION-001", "entry 1: expected a mapping"),
        ("- {id: NOPE-001, reason: x}", "'NOPE-001' is neither a known requirement id"),
        ("- {id: CORE-VERSION-001}", "reason must say why"),
        ("- {id: CORE-VERSION-001, reason: a, why: b}", "unknown keys ['why']"),
        ("- {id: CORE-VERSION-001, reason: a}\n- {id: CORE-VERSION-001, reason: b}", "listed twice"),
        ("- {id: [", "not valid YAML"),
        ("- id: CORE-VERSION-001\n  reason: [x\n- id: b", "not valid YAML: line 3, column 5: expected ','"),
        (b"- id: CORE-VERSION-001\n  reason: caf\xe9\n", "not UTF-8 text (byte 36 is 0xe9)"),
    ],
)
def test_a_bad_baseline_is_a_usage_error(text: str | bytes, fragment: str, tmp_path: Path) -> None:
    path = tmp_path / "baseline.yaml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    done = run_pytest(CHECKS, f"--expected-failures={path}", "--collect-only", cwd=tmp_path)
    assert done.returncode == 4, done.stdout + done.stderr
    assert fragment in done.stderr and "Traceback" not in done.stderr
    assert "INTERNALERROR" not in done.stdout + done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_a_missing_baseline_is_a_usage_error(tmp_path: Path) -> None:
    done = run_pytest(CHECKS, f"--expected-failures={tmp_path / 'nope.yaml'}", "--collect-only", cwd=tmp_path)
    assert done.returncode == 4 and "cannot read it" in done.stderr


def test_a_listed_inconclusive_requirement_gates_green_and_an_unlisted_one_red(tmp_path: Path) -> None:
    """No quota at all: the health check cannot tell whether health is counted (inconclusive)."""
    report, path = tmp_path / "report", tmp_path / "baseline.yaml"
    selection = ("--stack-requirement=QUOTA-001,QUOTA-007", "--conformance-report", str(report))
    quota_gone = defect_launcher("quota-dropped")
    path.write_text("- {id: QUOTA-001, reason: no quota}\n")
    red = run_pytest(CHECKS, *quota_gone, *selection, f"--expected-failures={path}")
    assert red.returncode == 1, red.stdout[-3000:]
    path.write_text("- {id: QUOTA-001, reason: no quota}\n- {id: QUOTA-007, reason: no quota to count health in}\n")
    green = run_pytest(CHECKS, *quota_gone, *selection, f"--expected-failures={path}")
    assert green.returncode == 0, green.stdout[-3000:]
    assert "inconclusive (expected)" in green.stdout and "2 expected failure(s), 0 new, 0 stale" in green.stdout
