"""Each scenario config speaks only the placeholder grammar of the generation it is rendered for.

A config in the wrong grammar turns a correct release into a false failure (0.2.12 reads
``${env.X:=d}`` as the default ``=d``), so the rule is checked on the fixtures themselves rather
than trusted to review. The reference server reads both grammars; its configs are free.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
# A well-formed placeholder and what follows the name: nothing, ':=' / ':+' (0.2.13 on),
# or ':' / '+' (up to 0.2.12). Malformed placeholders are what the malformed-* scenarios test.
PLACEHOLDER = re.compile(r"\$\{env\.[A-Z0-9_]+(?P<operator>:=|:\+|:|\+)?")
GRAMMAR = {"0.2.12": {None, ":", "+"}, "0.7": {None, ":=", ":+"}, "ogx-1": {None, ":=", ":+"}}


def rendered_configs() -> list[tuple[str, str, Path]]:
    found = []
    for meta in sorted(FIXTURES.glob("scenarios/*/scenario.yaml")):
        mapped = (yaml.safe_load(meta.read_text()) or {}).get("configs") or {}
        for dialect in GRAMMAR:
            path = FIXTURES / mapped[dialect] if dialect in mapped else meta.parent / f"{dialect}.yaml"
            if path.exists():
                found.append((meta.parent.name, dialect, path))
    return found


CONFIGS = rendered_configs()


def test_every_generation_has_configs() -> None:
    assert {dialect for _, dialect, _ in CONFIGS} == set(GRAMMAR)


@pytest.mark.parametrize(("scenario", "dialect", "path"), CONFIGS, ids=[f"{s}-{d}" for s, d, _ in CONFIGS])
def test_config_uses_its_generations_grammar(scenario: str, dialect: str, path: Path) -> None:
    lines = [line.split(" #", 1)[0] for line in path.read_text().splitlines() if not line.lstrip().startswith("#")]
    text = "\n".join(lines)
    foreign = [m.group(0) for m in PLACEHOLDER.finditer(text) if m.group("operator") not in GRAMMAR[dialect]]
    assert not foreign, f"{path} is rendered for {dialect} but uses another generation's forms: {foreign}"
