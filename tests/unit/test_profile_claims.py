"""What the summary may claim about a profile, and about the run, from the verdicts of one run."""

from __future__ import annotations

from conformance.catalog import Requirement
from conformance.outcomes import FAIL, INCONCLUSIVE, NOT_EVALUATED, OUT_OF_WINDOW, PASS, SKIP
from conformance.report import overall_claim, profile_claims
from conformance.results import RequirementVerdict

CATALOG = {
    "P-001": Requirement("P-001", "MUST", "p", "must one", "test"),
    "P-002": Requirement("P-002", "MUST", "p", "must two", "test"),
    "P-003": Requirement("P-003", "SHOULD", "p", "should", "test"),
}


def claim(**verdicts: str) -> str:
    run = [RequirementVerdict(CATALOG[rid.replace("_", "-")], v, []) for rid, v in verdicts.items()]
    return profile_claims(run, CATALOG)["p"]


def test_conformant_only_with_zero_fail_and_zero_skip() -> None:
    assert claim(P_001=PASS, P_002=PASS, P_003=PASS) == "conformant"
    assert claim(P_001=PASS, P_002=PASS, P_003=FAIL) == "partially conformant"
    assert claim(P_001=PASS, P_002=PASS, P_003=SKIP) == "partially conformant"
    assert claim(P_001=PASS, P_002=NOT_EVALUATED, P_003=PASS) == "partially conformant"
    assert claim(P_001=PASS, P_002=INCONCLUSIVE, P_003=PASS) == "partially conformant"


def test_a_failed_must_is_not_conformant() -> None:
    assert claim(P_001=PASS, P_002=FAIL, P_003=PASS) == "not conformant"
    assert claim(P_001=FAIL, P_002=FAIL, P_003=PASS) == "not conformant"


def test_musts_not_evaluated_and_out_of_window() -> None:
    assert claim(P_001=NOT_EVALUATED, P_002=NOT_EVALUATED, P_003=PASS) == "not evaluated"
    assert claim(P_001=OUT_OF_WINDOW, P_002=OUT_OF_WINDOW, P_003=OUT_OF_WINDOW) == "out of window"
    assert claim(P_001=OUT_OF_WINDOW, P_002=PASS, P_003=PASS) == "conformant"


def test_a_run_of_some_requirements_claims_nothing_about_the_profile() -> None:
    assert claim(P_003=PASS) == "no claim (1 of its 3 requirements run)"
    assert claim(P_001=PASS, P_002=PASS) == "no claim (2 of its 3 requirements run)"


def test_the_run_as_a_whole() -> None:
    assert overall_claim({"a": "conformant", "b": "conformant"}) == "conformant for profiles a, b"
    assert overall_claim({"a": "conformant", "b": "not conformant", "c": "not evaluated"}) == (
        "partially conformant: conformant for profiles a; not for b (not conformant)"
    )
    assert overall_claim({"a": "not conformant", "b": "not conformant"}).startswith("not conformant: ")
    assert overall_claim({"a": "partially conformant"}).startswith("partially conformant: conformant for no profile")
    assert overall_claim({"a": "no claim (1 of its 3 requirements run)"}).startswith("no claim")
