"""Fixtures of the suite-level tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.suite.actions_runner import ACTION, ACTION_PATH, INSTALL_STEP, VENV, StepsRun, run_steps
from tests.suite.harness import REPO
from tests.suite.test_packaging import copy_build_inputs


@pytest.fixture(scope="session")
def plain_install(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A plain install (no extras) of a copy of this project into a fresh virtualenv, made by the
    GitHub action's own install step: (the action's folder in that copy, the virtualenv)."""
    root = tmp_path_factory.mktemp("action")
    source = copy_build_inputs(root / "source")
    shutil.copytree(REPO / ".github", source / ".github")
    shared = root / "runner-temp"
    shared.mkdir()
    contexts = {"github.action_path": str(source / ACTION_PATH), "runner.temp": str(shared), "inputs.python": "python3"}
    [install] = [step for step in ACTION["runs"]["steps"] if step.get("name") == INSTALL_STEP]
    run = run_steps([install], contexts, shared, StepsRun())
    assert run.statuses == {INSTALL_STEP: 0}, run.logs
    return source / ACTION_PATH, shared / VENV
