"""The composite action, run as GitHub would run its shell steps, against a real reference server.

No GitHub runner is at hand (and `act` needs Docker), so this file plays the runner's part for
what the action itself scripts: it renders the ``${{ ... }}`` expressions the action uses, runs
each ``run:`` step with GitHub's bash flags, skips steps without ``if: always()`` after a failed
one, and hands the steps ``GITHUB_OUTPUT`` and ``GITHUB_STEP_SUMMARY`` files. The ``uses:`` steps
(setup-python, upload-artifact) are GitHub's own; the install step is only checked to point at
this project, because installing over the test environment would replace its editable install.
An expression the runner here does not know fails the test, so a new one cannot slip by untested.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from conformance.options import OPTIONS
from tests.conftest import ServerFactory
from tests.suite.harness import REPO

ACTION_DIR = REPO / ".github" / "actions" / "llama-stack-conformance"
ACTION = yaml.safe_load((ACTION_DIR / "action.yml").read_text(encoding="utf-8"))
EXPRESSION = re.compile(r"\$\{\{\s*([^}]+?)\s*\}\}")
INSTALL_STEP = "install the suite"


@dataclass
class ActionRun:
    """What a run of the action left behind: each step's exit status, its outputs and summary."""

    statuses: dict[str, int] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)
    summary: str = ""
    logs: str = ""


def render(text: str, contexts: dict[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        assert name in contexts, f"the action uses ${{{{ {name} }}}}, which this runner does not render"
        return contexts[name]

    return EXPRESSION.sub(value, text)


def run_action(inputs: dict[str, str], temp: Path) -> ActionRun:
    declared = ACTION["inputs"]
    assert set(inputs) <= set(declared), f"undeclared inputs {set(inputs) - set(declared)}"
    contexts = {f"inputs.{name}": str(inputs.get(name, spec.get("default", ""))) for name, spec in declared.items()}
    contexts |= {"github.action_path": str(ACTION_DIR), "runner.temp": str(temp)}
    output_file, summary_file = temp / "github_output", temp / "step_summary"
    outcome, failed = ActionRun(), False
    for step in ACTION["runs"]["steps"]:
        if "uses" in step:
            continue
        name = step["name"]
        script = render(step["run"], contexts)
        if name == INSTALL_STEP:
            quoted = re.fullmatch(r'python -m pip install --quiet "([^"]+)"\s*', script)
            assert quoted, f"the install step is not the one this runner knows how to check: {script!r}"
            target = Path(quoted.group(1)).resolve()
            assert target == REPO, f"the install step installs {target}, not this project"
            continue
        if failed and step.get("if") != "always()":
            continue
        env = {k: v for k, v in os.environ.items() if not k.startswith(("LLAMA_STACK_", "OGX_"))}
        env |= {key: render(str(v), contexts) for key, v in (step.get("env") or {}).items()}
        env |= {"GITHUB_OUTPUT": str(output_file), "GITHUB_STEP_SUMMARY": str(summary_file)}
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
        output_file.write_text("")
        assert step["shell"] == "bash", f"step {name!r} runs in {step['shell']}"
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
            env=env,
            cwd=temp,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
            stdin=subprocess.DEVNULL,
        )
        outcome.statuses[name] = done.returncode
        outcome.logs += f"--- {name} (exit {done.returncode})\n{done.stdout[-3000:]}{done.stderr[-3000:]}"
        failed = failed or done.returncode != 0
        for line in output_file.read_text().splitlines():
            key, _, value = line.partition("=")
            if step.get("id"):
                contexts[f"steps.{step['id']}.outputs.{key}"] = value
                outcome.outputs[key] = value
    outcome.summary = summary_file.read_text() if summary_file.exists() else ""
    return outcome


@pytest.fixture
def stack_url(servers: ServerFactory) -> str:
    return servers.running(servers.config(servers.full())).url


def test_a_conformant_deployment_passes_and_states_its_claim(stack_url: str, tmp_path: Path) -> None:
    run = run_action({"stack-url": stack_url, "profiles": "core"}, tmp_path)
    assert run.statuses == {"run the suite": 0, "claim": 0}, run.logs
    assert run.outputs.get("claim") == "conformant for profiles core", run.logs
    assert "### Llama Stack conformance: conformant for profiles core" in run.summary
    assert (tmp_path / "conformance" / "results.json").exists()
    assert (tmp_path / "conformance" / "junit.xml").exists()


def test_the_baseline_input_gates_and_the_claim_still_reaches_the_summary(stack_url: str, tmp_path: Path) -> None:
    # CORE-HEALTH-001 passes on the reference server, so listing it as a known failure is stale.
    baseline = tmp_path / "baseline.yaml"
    baseline.write_text("- id: CORE-HEALTH-001\n  reason: listed to prove that a stale entry fails the job\n")
    run = run_action({"stack-url": stack_url, "profiles": "core", "expected-failures": str(baseline)}, tmp_path)
    assert run.statuses["run the suite"] != 0, run.logs
    assert "CORE-HEALTH-001" in run.logs, run.logs
    assert run.statuses["claim"] == 0 and run.outputs.get("claim"), run.logs


def test_the_token_goes_through_the_environment_only() -> None:
    # a secret on a command line would show in process listings and in the step's log header
    for step in ACTION["runs"]["steps"]:
        where = step.get("name")
        assert "inputs.token" not in str(step.get("run", "")), f"step {where!r} puts the token on a command line"


def test_every_variable_the_action_sets_is_an_option_twin() -> None:
    twins = {name for option in OPTIONS for name in option.envs}
    [run] = [step for step in ACTION["runs"]["steps"] if step.get("name") == "run the suite"]
    assert set(run["env"]) <= twins, set(run["env"]) - twins
    used = " ".join(str(v) for v in run["env"].values())
    for name in ("stack-url", "token", "profiles", "expected-failures"):
        assert f"inputs.{name}" in used, name
