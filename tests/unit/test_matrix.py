"""docs/matrix.md from result files: one column per file, a reason line per failure."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conformance.matrix import ResultsFile, main, render


def results(generation: str, verdicts: dict[str, tuple[str, str | None]]) -> ResultsFile:
    return ResultsFile.model_validate(doc(generation, verdicts))


def doc(generation: str, verdicts: dict[str, tuple[str, str | None]]) -> dict[str, object]:
    return {
        "target": {"generation": f"{generation} (detected)"},
        "finished": "2026-11-25T00:00:00+00:00",
        "claim": "x",
        "requirements": [
            {
                "id": rid,
                "verdict": verdict,
                "expected_failure": reason,
                "checks": [{"id": "c", "outcome": verdict, "message": "the check's message"}],
            }
            for rid, (verdict, reason) in verdicts.items()
        ],
    }


def test_columns_cells_and_reasons() -> None:
    text = render(
        [
            (Path("a.json"), results("reference", {"CORE-HEALTH-001": ("pass", None)})),
            (
                Path("b.json"),
                results(
                    "llama-stack 0.7.3", {"CORE-HEALTH-001": ("fail", "upstream says so"), "QUOTA-001": ("fail", None)}
                ),
            ),
        ]
    )
    assert "| requirement | basis | reference | llama-stack 0.7.3 |" in text
    assert "| CORE-HEALTH-001 | contract | pass | **fail** |" in text
    assert "| QUOTA-001 | documented | — | **fail** |" in text
    assert "- **CORE-HEALTH-001**: upstream says so" in text
    assert "- **QUOTA-001**: (no baseline entry) the check's message" in text


def test_a_missing_results_file_is_one_line(tmp_path: Path, capsys: object) -> None:
    assert main([str(tmp_path / "nope.json")]) == 2
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    assert main([str(bad)]) == 2
    bad.write_text("[1, 2]")  # JSON, but not a results file
    assert main([str(bad)]) == 2
    good = tmp_path / "good.json"
    good.write_text(json.dumps(doc("reference", {})))
    assert main([str(good)]) == 0


@pytest.mark.parametrize(
    ("entry", "named"),
    [
        ({"verdict": "pass"}, "requirements.0.id"),
        ({"id": "CORE-HEALTH-001", "verdict": "fail", "checks": [{"message": "m"}]}, "requirements.0.checks.0.outcome"),
        ({"id": "CORE-HEALTH-001", "verdict": None}, "requirements.0.verdict"),
    ],
)
def test_a_bad_entry_is_refused_naming_it(
    entry: dict[str, object], named: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"requirements": [entry]}))
    assert main([str(bad)]) == 2
    err = capsys.readouterr().err
    assert named in err and "Traceback" not in err, err


def test_a_run_by_url_fills_what_the_managed_run_could_not_judge(tmp_path: Path) -> None:
    managed = tmp_path / "release" / "results.json"
    by_url = tmp_path / "release-by-url" / "results.json"
    for path, verdicts in (
        (managed, {"CFG-RUN-003": ("not-evaluated", None), "QUOTA-001": ("pass", None)}),
        (by_url, {"CFG-RUN-003": ("fail", None), "QUOTA-001": ("fail", None)}),
    ):
        path.parent.mkdir()
        path.write_text(json.dumps(doc("ogx 1.5.0", verdicts)))
    text = render([(managed, ResultsFile.model_validate_json(managed.read_text()))])
    assert "| CFG-RUN-003 | documented | **fail (by URL)** |" in text
    assert "| QUOTA-001 | documented | pass |" in text  # what the managed run judged stands
    assert "- **CFG-RUN-003**: by URL: (no baseline entry) the check's message" in text
