"""Collects check outcomes from pytest reports and turns them into per-requirement verdicts.

It consumes only `TestReport` objects, so under pytest-xdist it runs in the controller on
the reports the workers send back, and the verdicts are the same as in a serial run.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from conformance.catalog import Requirement
from conformance.outcomes import FAIL, PASS, combine, split_skip_reason

# The user properties a check's report carries (the plugin writes them, this module reads them):
# the requirement ids it verifies, the folders of the server logs behind it, the curl lines of its
# last requests, and what a passing check wants said (its message).
REQUIREMENT = "requirement"
SERVER_LOG = "server-log"
CURL = "curl"
NOTE = "note"


@dataclass
class CheckResult:
    nodeid: str
    requirements: list[str]
    outcome: str = PASS
    message: str = ""
    curl: list[str] = field(default_factory=list)
    duration: float = 0.0
    # Where the report keeps the output of the servers this check launched or used.
    server_logs: list[str] = field(default_factory=list)


@dataclass
class RequirementVerdict:
    requirement: Requirement
    verdict: str
    checks: list[CheckResult]

    @property
    def reason(self) -> str:
        for check in self.checks:
            if check.outcome == self.verdict and check.message:
                return check.message
        return ""


def _failure_message(report: pytest.TestReport) -> str:
    crash = getattr(report.longrepr, "reprcrash", None)
    text = getattr(crash, "message", None) or str(report.longrepr)
    lines = [line for line in text.strip().splitlines() if line.strip()]
    message = lines[0] if lines else "failed"
    if report.when != "call":
        message = f"error in {report.when}: {message}"
    return message.removeprefix("AssertionError: ")


class ResultCollector:
    def __init__(self, catalog: dict[str, Requirement]) -> None:
        self.catalog = catalog
        self._checks: dict[str, CheckResult] = {}

    def add(self, report: pytest.TestReport) -> None:
        ids = [str(value) for name, value in report.user_properties if name == REQUIREMENT]
        if not ids:
            return
        check = self._checks.setdefault(report.nodeid, CheckResult(report.nodeid, ids))
        check.duration += report.duration
        check.server_logs += [str(v) for name, v in report.user_properties if name == SERVER_LOG]
        if report.failed:
            if check.outcome != FAIL:
                check.outcome, check.message = FAIL, _failure_message(report)
            check.curl = [str(v) for name, v in report.user_properties if name == CURL] or check.curl
        elif report.skipped and check.outcome != FAIL:
            reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
            check.outcome, check.message = split_skip_reason(str(reason))
        elif report.when == "call" and check.outcome == PASS:
            # what a passing check wants said (e.g. how much of a quota it spent)
            check.message = next((str(v) for name, v in reversed(report.user_properties) if name == NOTE), "")

    def checks(self) -> list[CheckResult]:
        return list(self._checks.values())

    def verdicts(self) -> list[RequirementVerdict]:
        by_requirement: dict[str, list[CheckResult]] = {}
        for check in self._checks.values():
            for requirement_id in check.requirements:
                by_requirement.setdefault(requirement_id, []).append(check)
        return [
            RequirementVerdict(requirement, combine([c.outcome for c in checks]), checks)
            for requirement_id, requirement in self.catalog.items()
            if (checks := by_requirement.get(requirement_id))
        ]
