"""A stand-in for a GitHub runner, for the shell steps of the composite action and the example
workflow: it renders the ``${{ ... }}`` expressions they use (an unknown one fails), runs each
``run:`` step with GitHub's bash flags and ``RUNNER_TEMP``, skips steps without ``if: always()``
after a failed one, and hands the steps ``GITHUB_OUTPUT`` and ``GITHUB_STEP_SUMMARY`` files.
GitHub's own ``uses:`` steps (checkout, upload-artifact) are not run.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.suite.harness import REPO

ACTION_PATH = Path(".github") / "actions" / "llama-stack-conformance"
ACTION = yaml.safe_load((REPO / ACTION_PATH / "action.yml").read_text(encoding="utf-8"))
EXAMPLE = yaml.safe_load((REPO / "docs" / "examples" / "conformance-workflow.yml").read_text(encoding="utf-8"))
EXPRESSION = re.compile(r"\$\{\{\s*([^}]+?)\s*\}\}")
INSTALL_STEP = "install the suite"
VENV = "llama-stack-conformance-venv"


@dataclass
class StepsRun:
    """What a run of some steps left behind: each step's exit status, its outputs and summary."""

    statuses: dict[str, int] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)
    summary: str = ""
    logs: str = ""
    failed: bool = False


def render(text: str, contexts: Mapping[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        assert name in contexts, f"${{{{ {name} }}}} is used, which this runner does not render"
        return contexts[name]

    return EXPRESSION.sub(value, text)


def run_steps(steps: list[dict[str, Any]], contexts: dict[str, str], temp: Path, run: StepsRun) -> StepsRun:
    """Run the ``run:`` steps as a GitHub runner would; ``uses:`` steps are the caller's business."""
    output_file, summary_file = temp / "github_output", temp / "step_summary"
    for step in steps:
        if "run" not in step or (run.failed and step.get("if") != "always()"):
            continue
        name = step.get("name", step.get("id", "step"))
        env = {k: v for k, v in os.environ.items() if not k.startswith(("LLAMA_STACK_", "OGX_"))}
        env |= {key: render(str(v), contexts) for key, v in (step.get("env") or {}).items()}
        env |= {"GITHUB_OUTPUT": str(output_file), "GITHUB_STEP_SUMMARY": str(summary_file)}
        env |= {"RUNNER_TEMP": contexts["runner.temp"]}
        output_file.write_text("")
        assert step.get("shell", "bash") == "bash", f"step {name!r} runs in {step['shell']}"
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", render(step["run"], contexts)],
            env=env,
            cwd=temp,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
            stdin=subprocess.DEVNULL,
        )
        run.statuses[name] = done.returncode
        run.logs += f"--- {name} (exit {done.returncode})\n{done.stdout[-3000:]}{done.stderr[-3000:]}"
        run.failed = run.failed or done.returncode != 0
        for line in output_file.read_text().splitlines():
            key, _, value = line.partition("=")
            if step.get("id"):
                contexts[f"steps.{step['id']}.outputs.{key}"] = value
                run.outputs[key] = value
    run.summary += summary_file.read_text() if summary_file.exists() else ""
    return run
