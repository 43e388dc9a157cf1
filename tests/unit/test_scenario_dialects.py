"""Each scenario config speaks only the placeholder grammar of the generation it is rendered for.

A config in the wrong grammar turns a correct release into a false failure (0.2.12 reads
``${env.X:=d}`` as the default ``=d``), so the rule is checked on the fixtures themselves, with
the same lint an operator's --stack-config gets. The reference server reads both grammars.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from conformance.config_lint import lint
from conformance.generation import parse_override

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
GENERATIONS = {"0.2.12": "0.2.12", "0.7": "0.7.3", "ogx-1": "ogx-1.5"}


def rendered_configs() -> list[tuple[str, str, Path]]:
    found = []
    for meta in sorted(FIXTURES.glob("scenarios/*/scenario.yaml")):
        mapped = (yaml.safe_load(meta.read_text()) or {}).get("configs") or {}
        for dialect in GENERATIONS:
            path = FIXTURES / mapped[dialect] if dialect in mapped else meta.parent / f"{dialect}.yaml"
            if path.exists():
                found.append((meta.parent.name, dialect, path))
    return found


CONFIGS = rendered_configs()


def test_every_generation_has_configs() -> None:
    assert {dialect for _, dialect, _ in CONFIGS} == set(GENERATIONS)


@pytest.mark.parametrize(("scenario", "dialect", "path"), CONFIGS, ids=[f"{s}-{d}" for s, d, _ in CONFIGS])
def test_config_uses_its_generations_grammar(scenario: str, dialect: str, path: Path) -> None:
    text = path.read_text()
    if scenario.startswith("malformed-"):  # the malformed placeholder is what those scenarios test
        return
    config = yaml.safe_load(text)
    foreign = [str(f) for f in lint(config, {}, parse_override(GENERATIONS[dialect])) if f.kind == "grammar"]
    assert not foreign, f"{path} is rendered for {dialect} but uses another generation's forms: {foreign}"
