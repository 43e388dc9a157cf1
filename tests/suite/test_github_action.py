"""The composite action and the example workflow, run as GitHub would run their shell steps.

No GitHub runner is at hand (and `act` needs Docker), so tests/suite/actions_runner.py plays
the runner's part for what the action and the example script themselves. The action's install
step runs for real once per session (the ``plain_install`` fixture), into a fresh virtualenv
from a copy of this project, and the runs here reuse that virtualenv.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conformance.options import OPTIONS
from tests.conftest import ServerFactory
from tests.suite.actions_runner import ACTION, ACTION_PATH, EXAMPLE, INSTALL_STEP, VENV, StepsRun, render, run_steps


def run_action(inputs: dict[str, str], temp: Path, plain_install: tuple[Path, Path]) -> StepsRun:
    action_dir, venv = plain_install
    declared = ACTION["inputs"]
    assert set(inputs) <= set(declared), f"undeclared inputs {set(inputs) - set(declared)}"
    contexts = {f"inputs.{name}": str(inputs.get(name, spec.get("default", ""))) for name, spec in declared.items()}
    contexts |= {"github.action_path": str(action_dir), "runner.temp": str(temp)}
    (temp / VENV).symlink_to(venv)  # what the install step built, once for the module
    steps = [step for step in ACTION["runs"]["steps"] if step.get("name") != INSTALL_STEP]
    return run_steps(steps, contexts, temp, StepsRun())


@pytest.fixture
def stack_url(servers: ServerFactory) -> str:
    return servers.running(servers.config(servers.full())).url


def test_the_install_step_leaves_the_jobs_python_alone() -> None:
    """setup-python would change the job's Python for every later step of the user's workflow."""
    uses = [step["uses"] for step in ACTION["runs"]["steps"] if "uses" in step]
    assert not [u for u in uses if u.startswith("actions/setup-python")], uses


def test_a_conformant_deployment_passes_and_states_its_claim(
    stack_url: str, tmp_path: Path, plain_install: tuple[Path, Path]
) -> None:
    run = run_action({"stack-url": stack_url, "profiles": "core"}, tmp_path, plain_install)
    assert run.statuses == {"run the suite": 0, "claim": 0}, run.logs
    assert run.outputs.get("claim") == "conformant for profiles core", run.logs
    assert "### Llama Stack conformance: conformant for profiles core" in run.summary
    assert (tmp_path / "conformance" / "results.json").exists()
    assert (tmp_path / "conformance" / "junit.xml").exists()


def test_the_baseline_input_gates_and_the_claim_still_reaches_the_summary(
    stack_url: str, tmp_path: Path, plain_install: tuple[Path, Path]
) -> None:
    # CORE-HEALTH-001 passes on the reference server, so listing it as a known failure is stale.
    baseline = tmp_path / "baseline.yaml"
    baseline.write_text("- id: CORE-HEALTH-001\n  reason: listed to prove that a stale entry fails the job\n")
    inputs = {"stack-url": stack_url, "profiles": "core", "expected-failures": str(baseline)}
    run = run_action(inputs, tmp_path, plain_install)
    assert run.statuses["run the suite"] != 0, run.logs
    assert "CORE-HEALTH-001" in run.logs, run.logs
    assert run.statuses["claim"] == 0 and run.outputs.get("claim"), run.logs


def test_a_run_that_wrote_nothing_still_gets_a_claim(tmp_path: Path, plain_install: tuple[Path, Path]) -> None:
    run = run_action({"stack-url": "http://127.0.0.1:9"}, tmp_path, plain_install)
    assert run.statuses["run the suite"] == 3, run.logs
    assert run.outputs.get("claim", "").startswith("no claim: the suite wrote no results"), run.logs


def test_credentials_go_through_the_environment_only() -> None:
    # a secret on a command line would show in process listings and in the step's log header
    for step in [*ACTION["runs"]["steps"], *EXAMPLE["jobs"]["conformance"]["steps"]]:
        script = str(step.get("run", ""))
        assert "${{" not in script, f"step {step.get('name')!r} renders an expression into its script: {script!r}"


def test_every_variable_the_action_sets_is_an_option_twin() -> None:
    twins = {name for option in OPTIONS for name in option.envs}
    [run] = [step for step in ACTION["runs"]["steps"] if step.get("name") == "run the suite"]
    assert set(run["env"]) <= twins, set(run["env"]) - twins
    used = " ".join(str(v) for v in run["env"].values())
    for name in ("stack-url", "token", "token-alt", "profiles", "expected-failures", "ca-file", "jwks-url"):
        assert f"inputs.{name}" in used, name


def test_the_example_pins_the_action() -> None:
    [uses] = [s["uses"] for s in EXAMPLE["jobs"]["conformance"]["steps"] if str(s.get("uses", "")).count("/") > 1]
    path, _, ref = uses.partition("@")
    assert path.endswith("/" + str(ACTION_PATH)), uses
    assert re.fullmatch(r"v\d+\.\d+\.\d+|[0-9a-f]{40}", ref), f"the example must pin a tag or a commit, not {ref!r}"


@pytest.mark.parametrize("defect", [None, "health-not-ok"])
def test_the_example_workflow_as_copied(
    defect: str | None, servers: ServerFactory, tmp_path: Path, plain_install: tuple[Path, Path]
) -> None:
    """The example's steps after its start step: the action (only the URL adapted to the server
    started here), then its claim step, which must report on a failing run too."""
    url = servers.running(servers.config(servers.full()), defect=defect).url
    steps = EXAMPLE["jobs"]["conformance"]["steps"]
    [action_step] = [s for s in steps if s.get("id") == "conformance"]
    contexts = {"secrets.LLAMA_STACK_TOKEN": "", "runner.temp": str(tmp_path)}
    inputs = {key: render(str(value), contexts) for key, value in action_step["with"].items()}
    assert "expected-failures" not in inputs, "a new user has no baseline file yet"
    (tmp_path / "action").mkdir()
    action_run = run_action({**inputs, "stack-url": url}, tmp_path / "action", plain_install)
    contexts |= {f"steps.conformance.outputs.{k}": v for k, v in action_run.outputs.items()}
    after = steps[steps.index(action_step) + 1 :]
    run = run_steps(after, contexts, tmp_path, StepsRun(failed=action_run.failed))
    assert action_run.statuses["run the suite"] == (1 if defect else 0), action_run.logs
    # inference also holds a launched-only requirement (INF-BACKEND-001): passed where evaluated
    expected = (
        "not conformant: a MUST failed in core"
        if defect
        else "conformant for profiles core; passed where evaluated in inference"
    )
    assert run.statuses == {"conformance claim": 0}, run.logs
    assert f"llama-stack conformance: {expected}" in run.logs, run.logs
