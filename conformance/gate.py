"""Expected-failures baselines: what lets a known-bad deployment gate green in CI, and no more.

A baseline is a YAML list of ``{id, reason}``. An id is a requirement id (``QUOTA-002``) or a
check id (a pytest node id such as ``conformance/checks/test_quota.py::test_auth_before_quota``,
or its tail from the file name on, so that the id does not depend on where the checks are
installed). The gate then judges the run:

* a failure covered by the baseline is *expected* and does not fail the run; so is an
  inconclusive requirement listed by id, whose check could not have failed for a known reason
  (OGX has no quota at all, so "health is not counted" cannot be told);
* any other failure is *new* and fails it;
* a listed item that now passes is *stale* and fails the run too, so the baseline shrinks as the
  deployment is fixed instead of hiding regressions behind old entries;
* a listed item that did not run this time (deselected, not evaluated, out of window) is
  reported as *not run* and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from conformance.outcomes import FAIL, INCONCLUSIVE, PASS
from conformance.results import CheckResult, RequirementVerdict


class BaselineError(ValueError):
    """The baseline file is unreadable or malformed; the message names the file and the entry."""


@dataclass(frozen=True)
class Expected:
    id: str
    reason: str

    @property
    def is_check(self) -> bool:
        return "::" in self.id

    def covers_check(self, nodeid: str) -> bool:
        """A check id without parameters covers every parametrised case of that check."""
        names = (nodeid, nodeid.split("[", maxsplit=1)[0])
        return any(name == self.id or name.endswith("/" + self.id) for name in names)


def load_baseline(path: Path, requirement_ids: set[str]) -> list[Expected]:
    where = f"--expected-failures {path}"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise BaselineError(f"{where}: cannot read it: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise BaselineError(f"{where}: not UTF-8 text (byte {exc.start} is {exc.object[exc.start]:#04x})") from None
    try:
        entries = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise BaselineError(f"{where}: not valid YAML: {yaml_error(exc)}") from None
    if entries is None:
        return []
    if not isinstance(entries, list):
        raise BaselineError(f"{where}: expected a list of {{id, reason}} entries, got {type(entries).__name__}")
    baseline: list[Expected] = []
    seen: set[str] = set()
    for index, entry in enumerate(entries, start=1):
        at = f"{where}: entry {index}"
        if not isinstance(entry, dict):
            raise BaselineError(f"{at}: expected a mapping with id and reason")
        if extra := sorted(set(entry) - {"id", "reason"}):
            raise BaselineError(f"{at}: unknown keys {extra}; only id and reason are allowed")
        ident, reason = entry.get("id"), entry.get("reason")
        if not isinstance(ident, str) or not ident.strip():
            raise BaselineError(f"{at}: id must be a requirement id or a check id")
        if not isinstance(reason, str) or not reason.strip():
            raise BaselineError(f"{at} ({ident}): reason must say why the failure is expected")
        ident = ident.strip()
        if "::" not in ident and ident not in requirement_ids:
            raise BaselineError(f"{at}: {ident!r} is neither a known requirement id nor a check id (file.py::test)")
        if ident in seen:
            raise BaselineError(f"{at}: {ident} is listed twice")
        seen.add(ident)
        baseline.append(Expected(ident, reason.strip()))
    return baseline


def yaml_error(exc: yaml.YAMLError) -> str:
    """PyYAML's complaint in one line, with the line and column where it stopped."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
    return f"{where}{problem}"


@dataclass
class GateResult:
    expected: list[tuple[Expected, str]] = field(default_factory=list)  # (entry, what failed)
    new: list[str] = field(default_factory=list)
    stale: list[Expected] = field(default_factory=list)
    not_run: list[Expected] = field(default_factory=list)
    # Failing requirements whose every failure is covered: the table marks them "fail (expected)".
    # ... with the reason the baseline gives.
    expected_requirements: dict[str, str] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return not self.new and not self.stale

    def lines(self) -> list[str]:
        verdict = "passed" if self.passed else "FAILED"
        out = [
            f"baseline gate {verdict}: {len(self.expected)} expected failure(s), {len(self.new)} new, "
            f"{len(self.stale)} stale, {len(self.not_run)} not run"
        ]
        out += [f"  new failure: {what}" for what in self.new]
        out += [f"  stale entry (now passes, remove it): {e.id}" for e in self.stale]
        out += [f"  expected: {what} ({entry.reason})" for entry, what in self.expected]
        out += [f"  not run: {e.id}" for e in self.not_run]
        return out

    def as_dict(self) -> dict[str, object]:
        return {
            "passed": self.passed,
            "expected": [{"id": what, "listed_as": e.id, "reason": e.reason} for e, what in self.expected],
            "new": self.new,
            "stale": [e.id for e in self.stale],
            "not_run": [e.id for e in self.not_run],
        }


def judge(
    baseline: list[Expected],
    verdicts: list[RequirementVerdict],
    checks: list[CheckResult],
    untracked_failures: list[str],
) -> GateResult:
    """Match the run's failures against the baseline.

    A failing requirement is expected when it is listed itself, or when every one of its failing
    checks is listed; each unlisted failing check of an unlisted requirement is a new failure.
    Failures of tests that carry no requirement (``untracked_failures``) are always new.
    """
    gate = GateResult()
    by_requirement = {e.id: e for e in baseline if not e.is_check}
    check_entries = [e for e in baseline if e.is_check]
    used: set[str] = set()

    def check_entry(nodeid: str) -> Expected | None:
        return next((e for e in check_entries if e.covers_check(nodeid)), None)

    for verdict in verdicts:
        rid = verdict.requirement.id
        if verdict.verdict == INCONCLUSIVE and rid in by_requirement:
            gate.expected.append((by_requirement[rid], rid))
            gate.expected_requirements[rid] = by_requirement[rid].reason
            used.add(rid)
            continue
        if verdict.verdict != FAIL:
            continue
        if rid in by_requirement:
            gate.expected.append((by_requirement[rid], rid))
            gate.expected_requirements[rid] = by_requirement[rid].reason
            used.add(rid)
            continue
        covered, reasons = True, []
        for check in (c for c in verdict.checks if c.outcome == FAIL):
            entry = check_entry(check.nodeid)
            if entry is None:
                covered = False
                gate.new.append(f"{rid} ({check.nodeid})")
            else:
                reasons.append(entry.reason)
                if entry.id not in used:
                    gate.expected.append((entry, check.nodeid))
                    used.add(entry.id)
        if covered:
            gate.expected_requirements[rid] = "; ".join(dict.fromkeys(reasons))
    gate.new += [f"{nodeid} (no requirement)" for nodeid in untracked_failures]

    verdict_of = {v.requirement.id: v.verdict for v in verdicts}
    for entry in baseline:
        if entry.id in used:
            continue
        if entry.is_check:
            outcomes = [c.outcome for c in checks if entry.covers_check(c.nodeid)]
            now = PASS if outcomes and all(o == PASS for o in outcomes) else None
        else:
            now = verdict_of.get(entry.id)
        (gate.stale if now == PASS else gate.not_run).append(entry)
    return gate
