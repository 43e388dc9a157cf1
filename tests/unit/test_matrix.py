"""docs/matrix.md from result files: one column per file, a reason line per failure."""

from __future__ import annotations

import json
from pathlib import Path

from conformance.matrix import main, render


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
            (Path("a.json"), doc("reference", {"CORE-HEALTH-001": ("pass", None)})),
            (
                Path("b.json"),
                doc(
                    "llama-stack 0.7.3", {"CORE-HEALTH-001": ("fail", "upstream says so"), "QUOTA-001": ("fail", None)}
                ),
            ),
        ]
    )
    assert "| requirement | reference | llama-stack 0.7.3 |" in text
    assert "| CORE-HEALTH-001 | pass | **fail** |" in text
    assert "| QUOTA-001 | — | **fail** |" in text
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
