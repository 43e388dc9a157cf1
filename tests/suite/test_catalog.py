"""The catalog, the checks and docs/requirements.md stay in step."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from conformance.catalog import _validate, load_catalog, render_markdown

REPO = Path(__file__).resolve().parents[2]


def collected_requirement_ids() -> set[str]:
    """Collection must succeed (markers are validated then); the ids come from the source."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--collect-only",
            "-q",
            "-p",
            "no:cacheprovider",
            str(REPO / "conformance" / "checks"),
            "--stack-url",
            "http://127.0.0.1:9",
        ],
        check=False,
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    ids: set[str] = set()
    for path in (REPO / "conformance" / "checks").glob("test_*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "requirement":
                ids.update(arg.value for arg in node.args if isinstance(arg, ast.Constant))
    return ids


def test_every_requirement_has_a_check_and_every_check_a_requirement() -> None:
    catalog = set(load_catalog())
    marked = collected_requirement_ids()
    assert not catalog - marked, f"requirements without a check: {sorted(catalog - marked)}"
    assert not marked - catalog, f"markers naming unknown requirements: {sorted(marked - catalog)}"


def test_generated_requirements_document_is_current() -> None:
    current = (REPO / "docs" / "requirements.md").read_text(encoding="utf-8")
    assert current == render_markdown(load_catalog()), "run: python -m conformance.catalog --write"


VALID = {"id": "CORE-X-001", "level": "MUST", "basis": "contract", "profile": "core", "text": "t", "source": "RFC 1"}


@pytest.mark.parametrize(
    ("entry", "fragment"),
    [
        ({**VALID, "id": "bad"}, "id must look like"),
        ({**VALID, "level": "MAY"}, "level"),
        ({**VALID, "profile": "nope"}, "profile"),
        ({**VALID, "text": ""}, "text"),
        ({**VALID, "since": "x"}, "since"),
        ({**VALID, "extra": 1}, "unknown"),
        ({**VALID, "source": "research/x.md §2"}, "open"),
        ({k: v for k, v in VALID.items() if k != "basis"}, "basis must be a non-empty"),
        ({**VALID, "basis": "folklore"}, "basis must be one of"),
    ],
)
def test_catalog_validation(entry: dict[str, object], fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        _validate(entry, 0)


def test_user_facing_texts_cite_openable_sources_and_name_no_internal_notes() -> None:
    """Reports show each requirement's text and source to people who have neither this project's
    research notes nor its internal vocabulary."""
    for requirement in load_catalog().values():
        shown = requirement.text + " " + requirement.source
        assert "research/" not in shown and "seed" not in shown.lower(), requirement.id
    for page in ("README.md", "docs/requirements.md"):
        assert "research/" not in (REPO / page).read_text(encoding="utf-8"), page
