"""The composite action passes its inputs through the suite's environment twins: check the names."""

from __future__ import annotations

from pathlib import Path

import yaml

from conformance.options import OPTIONS

ACTION = Path(__file__).resolve().parents[2] / ".github" / "actions" / "llama-stack-conformance" / "action.yml"


def test_every_variable_the_action_sets_is_an_option_twin() -> None:
    action = yaml.safe_load(ACTION.read_text())
    twins = {name for option in OPTIONS for name in option.envs}
    [run] = [step for step in action["runs"]["steps"] if step.get("name") == "run the suite"]
    assert set(run["env"]) <= twins, set(run["env"]) - twins
    # each documented input reaches the suite
    used = " ".join(str(v) for v in run["env"].values())
    for name in ("stack-url", "token", "profiles", "expected-failures"):
        assert f"inputs.{name}" in used, name
