"""From a requirement id to its implementation: the reference server's modules name the
requirements they implement (a ``# Requirements (conformance/catalog.yaml): ...`` comment under
the module docstring), and every MUST the reference must pass is named somewhere.

The run-config requirements are about an operator's run.yaml, not about a server, so no module
implements them.
"""

from __future__ import annotations

import re
from pathlib import Path

from conformance.catalog import load_catalog

REPO = Path(__file__).resolve().parents[2]
HEADER = "# Requirements (conformance/catalog.yaml):"
ID = re.compile(r"\b[A-Z]+(?:-[A-Z0-9]+)*-\d{3}\b")


def named_in_the_reference_server() -> dict[str, list[str]]:
    """requirement id -> the modules whose Requirements comment names it."""
    named: dict[str, list[str]] = {}
    for path in sorted((REPO / "reference_server").rglob("*.py")):
        lines = path.read_text(encoding="utf-8").splitlines()
        for index, line in enumerate(lines):
            if not line.startswith(HEADER):
                continue
            block = [line, *(following for following in lines[index + 1 :] if following.startswith("#  "))]
            for requirement_id in ID.findall(" ".join(block)):
                named.setdefault(requirement_id, []).append(str(path.relative_to(REPO)))
    return named


def test_every_must_is_implemented_somewhere_named() -> None:
    catalog = load_catalog()
    musts = {rid for rid, r in catalog.items() if r.level == "MUST" and r.profile != "run-config"}
    missing = sorted(musts - set(named_in_the_reference_server()))
    assert not missing, f"no reference_server module names these MUST requirements: {missing}"


def test_the_named_requirements_exist() -> None:
    unknown = sorted(set(named_in_the_reference_server()) - set(load_catalog()))
    assert not unknown, f"named in reference_server but not in the catalog: {unknown}"
