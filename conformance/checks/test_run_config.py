"""Profile ``run-config``, the deployment's own run.yaml (``--stack-config``): linted for the
generation the target runs, so a config that the release reads differently from what its
operator meant is caught before promotion, not when the quota never fires.

Only paths and variable names are reported, never a value from the config.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

from conformance.config_lint import Finding, lint
from conformance.generation import Generation
from conformance.outcomes import not_evaluated
from conformance.settings import Settings

requirement = pytest.mark.requirement


@pytest.fixture
def run_config_findings(stack_settings: Settings, stack_generation: Generation) -> list[Finding]:
    """The operator's config, with this environment standing for the server's. Without one there
    is nothing of the target's to lint (the suite's own scenario configs are held to their
    grammar by the project's tests), so the checks are not evaluated rather than passed."""
    config: dict[str, Any] | None = stack_settings.run_config
    if config is None:
        not_evaluated("needs the deployment's run.yaml: pass --stack-config PATH (it is read here, never sent)")
    return lint(config, os.environ, stack_generation)


def expect_none(findings: list[Finding], kinds: tuple[str, ...], what: str) -> None:
    found = [str(f) for f in findings if f.kind in kinds]
    assert not found, f"{what}: " + "; ".join(found)


@requirement("CFG-RUN-001")
def test_run_config_speaks_its_generations_grammar(run_config_findings: list[Finding]) -> None:
    expect_none(run_config_findings, ("malformed", "grammar"), "placeholders the target reads otherwise")


@requirement("CFG-RUN-002")
def test_run_config_required_variables_are_set(run_config_findings: list[Finding]) -> None:
    expect_none(run_config_findings, ("required",), "required variables unset in this environment")


@requirement("CFG-RUN-003")
def test_run_config_has_no_ignored_settings(run_config_findings: list[Finding]) -> None:
    expect_none(run_config_findings, ("ignored",), "settings the target ignores")
