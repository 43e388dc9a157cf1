"""The negative controls' package keeps its shape: it mirrors the checks, and its reach inside is on record."""

from __future__ import annotations

import inspect
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.defects import DEFECTS
from tests.defects.registry import defect
from tests.defects.seams import SEAMS, is_private, owners

REPO = Path(__file__).resolve().parents[2]
CHECKS = REPO / "conformance" / "checks"


def _check_module_of() -> dict[str, str]:
    """Requirement id -> the checks module (test_core.py -> core) whose checks carry its marker."""
    found: dict[str, str] = {}
    for path in CHECKS.glob("test_*.py"):
        for requirement in re.findall(r'requirement\("([A-Z0-9-]+)"', path.read_text(encoding="utf-8")):
            found.setdefault(requirement, path.stem.removeprefix("test_"))
    return found


def test_each_defect_lives_in_the_module_named_after_its_checks() -> None:
    where = _check_module_of()
    misplaced = {
        name: (d.module, where.get(d.requirements[0]))
        for name, d in DEFECTS.items()
        if d.requirements and d.module != f"tests.defects.{where.get(d.requirements[0])}"
    }
    assert not misplaced, f"defect -> (its module, the checks module of its first requirement): {misplaced}"
    assert {d.module for d in DEFECTS.values() if not d.requirements} <= {
        f"tests.defects.{profile}" for profile in set(where.values())
    } | {"tests.defects.suite_targets"}


def test_a_name_is_registered_once() -> None:
    with pytest.raises(ValueError, match="registered twice"):
        defect("none")(lambda: None)


def test_the_private_names_defects_replace_are_the_listed_seams() -> None:
    # A subprocess: applying a defect in this process would leave it applied for the tests after.
    done = subprocess.run(
        [sys.executable, "-m", "tests.defects.seams"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    replaced = {seam for seams in json.loads(done.stdout).values() for seam in seams}
    assert "reference_server.api.app:create_app" in replaced  # the probe sees what defects replace
    assert {seam for seam in replaced if is_private(seam)} == set(SEAMS)


@pytest.mark.parametrize("seam", sorted(SEAMS))
def test_each_seam_is_marked_where_it_is_defined(seam: str) -> None:
    owner, name = seam.split(":")
    comment = inspect.getcomments(getattr(owners()[owner], name)) or ""
    assert "tests/defects" in comment, f"{seam} is replaced by a defect; say so above its definition"
