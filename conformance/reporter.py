"""The controller's reporter: turns check reports into verdicts, decides the exit status, prints
the verdict table and writes the report files.

It runs in the controller only (under xdist, on the reports the workers send back), so the
verdicts and the exit status are the same as in a serial run.
"""

from __future__ import annotations

import datetime as dt
import shlex
import sys
from pathlib import Path
from typing import Any

import pytest

from conformance import __version__
from conformance.gate import GateResult, judge
from conformance.http import TOKEN_ENV, URL_ENV
from conformance.outcomes import FAIL, INCONCLUSIVE, PASS
from conformance.report import results_document, terminal_lines, write_reports
from conformance.results import REQUIREMENT, ResultCollector
from conformance.secrets import SECRETS
from conformance.settings import Settings
from conformance.target import redact_url

# The exit status of a run in which no requirement got a pass or a fail (README, "Exit codes").
EXIT_NOTHING_EVALUATED = 5


def generation_label(settings: Settings) -> str:
    if settings.generation_override:
        return settings.generation_override.describe()
    if settings.detected:
        return settings.detected.describe()
    if settings.launcher is not None and settings.launcher.generation is not None:
        return settings.launcher.generation.describe()
    return "detected when the first scenario starts"


def _meta(settings: Settings) -> dict[str, Any]:
    return {
        "suite_version": __version__,
        "started": settings.started,
        "finished": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "target": {
            "url": redact_url(settings.url) if settings.url else None,
            "launcher": settings.launcher_label,
            "generation": generation_label(settings),
            "packages": settings.launcher.resolved() if settings.launcher is not None else {},
            "credentials": {role: ("given" if token else "none") for role, token in settings.tokens.items()},
        },
        "python": sys.version.split()[0],
        "rerun_options": rerun_options(settings),
    }


def rerun_options(settings: Settings) -> str:
    """The options that aim a rerun of one check at the same target, credentials by variable."""
    options = []
    if settings.url:
        options.append(f'--stack-url="${URL_ENV}"')
    for role, token in settings.tokens.items():
        if token:
            options.append(f'--{"stack-token" if role == "primary" else "stack-token-alt"}="${TOKEN_ENV[role]}"')
    if settings.launcher is not None and settings.launcher.name != "reference":
        options.append(f"--stack-launcher={shlex.quote(settings.launcher.name)}")
    return " ".join(options)


class Reporter:
    def __init__(self, settings: Settings, collector: ResultCollector) -> None:
        self.settings = settings
        self.collector = collector
        self.written: list[Path] = []
        self.gate: GateResult | None = None
        self.nothing_evaluated: str | None = None
        # Failed tests that name no requirement: a baseline can never excuse them.
        self.untracked_failures: list[str] = []

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.collector.add(report)
        tracked = any(name == REQUIREMENT for name, _ in report.user_properties)
        if report.failed and not tracked and report.nodeid not in self.untracked_failures:
            self.untracked_failures.append(report.nodeid)

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        judged = session.exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED)
        verdicts = self.collector.verdicts()
        collecting_only = session.config.option.collectonly
        if not collecting_only and not any(v.verdict in (PASS, FAIL, INCONCLUSIVE) for v in verdicts):
            # Never green on nothing: a run that graded no requirement certifies nothing.
            tally = ", ".join(f"{n} {v}" for v, n in _tally(verdicts).items()) or "no conformance check collected"
            self.nothing_evaluated = f"conformance: no requirement was evaluated ({tally})"
            if session.exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED):
                session.exitstatus = EXIT_NOTHING_EVALUATED
        if not self.collector.checks():
            return
        if self.settings.baseline is not None and judged:
            self.gate = judge(self.settings.baseline, verdicts, self.collector.checks(), self.untracked_failures)
            session.exitstatus = pytest.ExitCode.OK if self.gate.passed else pytest.ExitCode.TESTS_FAILED
        expected = self.gate.expected_requirements if self.gate is not None else {}
        inconclusive = [
            v.requirement.id for v in verdicts if v.verdict == INCONCLUSIVE and v.requirement.id not in expected
        ]
        if inconclusive and session.exitstatus == pytest.ExitCode.OK:
            # A run that could not have failed must not gate green in CI, unless the baseline
            # says why it could not (and the gate then holds it to that: once it passes, it is stale).
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
        doc = results_document(_meta(self.settings), verdicts, self.collector.catalog, self.gate)
        self.written = write_reports(self.settings.report_dir, doc, SECRETS.scrub)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.collector.checks():
            terminalreporter.section("llama-stack conformance: verdict per requirement")
            lines = terminal_lines(self.collector.verdicts(), self.collector.catalog, self.gate, self.settings.url)
            for line in lines:
                terminalreporter.write_line(SECRETS.scrub(line))
            for path in self.written:
                terminalreporter.write_line(f"report: {path}")
        if self.nothing_evaluated:
            terminalreporter.write_line(self.nothing_evaluated)


def _tally(verdicts: list[Any]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for verdict in verdicts:
        counts[verdict.verdict] = counts.get(verdict.verdict, 0) + 1
    return counts
