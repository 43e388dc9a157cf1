"""Negative controls for the checks that run only against a URL (``--stack-url``).

The launcher-mode controls (test_negative_controls.py) never reach these checks: without
``--stack-quota-budget`` or a second token they skip. Here the defective reference server is
started by hand on a scenario's config, the suite is pointed at its URL with what those checks
need, and each URL check must fail on its defect and pass on the defect-free server.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from conformance.fakes.handle import FakeProcess
from tests.conftest import ServerFactory
from tests.suite.harness import CHECKS, REPO, results, run_pytest

SCENARIOS = REPO / "fixtures" / "scenarios"


@pytest.fixture
def jwks(tmp_path: Path) -> Iterator[FakeProcess]:
    fake = FakeProcess("jwks", tmp_path)
    try:
        yield fake
    finally:
        fake.stop()


def url_checks(url: str, options: list[str], requirements: str, report: Path) -> dict[str, str]:
    """Outcome of each URL-mode check (``test_url_*``) of these requirements."""
    done = run_pytest(
        "-q", "-p", "no:xdist", CHECKS, "--stack-url", url, "--stack-requirement", requirements,
        "--conformance-report", str(report), "-k", "test_url_", *options,
    )  # fmt: skip
    outcomes = {c["id"].split("::")[-1]: c["outcome"] for r in results(report).values() for c in r["checks"]}
    assert outcomes, f"no URL check ran (exit {done.returncode}): {done.stdout[-2000:]}{done.stderr[-1000:]}"
    return outcomes


def judged(outcomes: dict[str, str], failing: set[str], defect: str | None) -> None:
    """The defect's checks fail; without a defect every check passes (a defect may break others too)."""
    if defect is None:
        assert set(outcomes.values()) == {"pass"}, f"without a defect: {outcomes}"
    else:
        assert {check: outcomes[check] for check in failing} == dict.fromkeys(failing, "fail"), f"{defect}: {outcomes}"


QUOTA_CHECKS = ("test_url_over_budget_is_the_documented_429", "test_url_429_says_when_to_retry")  # QUOTA-001, -006
ABAC_CHECKS = ("test_url_model_is_invisible_to_the_other_principal", "test_url_other_principal_cannot_delete")


@pytest.mark.parametrize(
    ("defect", "failing"),
    [
        (None, set()),
        ("quota-body-wrong", {"test_url_over_budget_is_the_documented_429"}),
        ("quota-without-retry-after", {"test_url_429_says_when_to_retry"}),
    ],
)
def test_quota_url_checks(defect: str | None, failing: set[str], servers: ServerFactory, tmp_path: Path) -> None:
    env = {"OLLAMA_URL": servers.ollama_url, "SQLITE_STORE_DIR": str(servers.state)}
    server = servers.running(SCENARIOS / "quota-anonymous" / "reference.yaml", env=env, defect=defect)
    # the scenario's anonymous limit is 3 a day
    outcomes = url_checks(server.url, ["--stack-quota-budget", "3"], "QUOTA-001,QUOTA-006", tmp_path / "report")
    assert set(outcomes) == set(QUOTA_CHECKS), outcomes
    judged(outcomes, failing, defect)


@pytest.mark.parametrize(
    ("defect", "failing"),
    [
        (None, set()),
        ("everyone-sees-everything", {"test_url_model_is_invisible_to_the_other_principal"}),
        ("delete-ignores-owner", {"test_url_other_principal_cannot_delete"}),
    ],
)
def test_abac_url_checks(
    defect: str | None, failing: set[str], servers: ServerFactory, jwks: FakeProcess, tmp_path: Path
) -> None:
    env = {
        "OLLAMA_URL": servers.ollama_url,
        "SQLITE_STORE_DIR": str(servers.state),
        "CONFORMANCE_JWKS_URI": f"{jwks.url}/jwks",
    }
    server = servers.running(SCENARIOS / "auth-jwt" / "reference.yaml", env=env, defect=defect)
    alice, bob = jwks.mint(claims={"sub": "alice"}), jwks.mint(claims={"sub": "bob"})
    tokens = ["--stack-token", alice, "--stack-token-alt", bob]
    outcomes = url_checks(server.url, tokens, "ABAC-001,ABAC-002", tmp_path / "report")
    assert set(outcomes) == set(ABAC_CHECKS), outcomes
    judged(outcomes, failing, defect)
