"""What the summary may claim about a profile, and about the run, from the verdicts of one run."""

from __future__ import annotations

from conformance.catalog import Requirement
from conformance.outcomes import FAIL, INCONCLUSIVE, NOT_EVALUATED, OUT_OF_WINDOW, PASS, SKIP
from conformance.report import hardening_failures, overall_claim, profile_claims
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
    assert claim(P_001=PASS, P_002=INCONCLUSIVE, P_003=PASS) == "partially conformant"


def test_checks_that_could_not_run_are_not_a_failure_and_not_a_certificate() -> None:
    assert claim(P_001=PASS, P_002=NOT_EVALUATED, P_003=PASS) == "passed where evaluated"
    assert claim(P_001=PASS, P_002=NOT_EVALUATED, P_003=FAIL) == "partially conformant"


def test_a_failed_must_is_not_conformant() -> None:
    assert claim(P_001=PASS, P_002=FAIL, P_003=PASS) == "not conformant"
    assert claim(P_001=FAIL, P_002=FAIL, P_003=PASS) == "not conformant"


def test_musts_not_evaluated_and_out_of_window() -> None:
    assert claim(P_001=NOT_EVALUATED, P_002=NOT_EVALUATED, P_003=NOT_EVALUATED) == "not evaluated"
    assert claim(P_001=NOT_EVALUATED, P_002=NOT_EVALUATED, P_003=PASS) == "passed where evaluated"
    assert claim(P_001=OUT_OF_WINDOW, P_002=OUT_OF_WINDOW, P_003=OUT_OF_WINDOW) == "out of window"
    assert claim(P_001=OUT_OF_WINDOW, P_002=PASS, P_003=PASS) == "conformant"


def test_a_run_of_some_requirements_claims_nothing_about_the_profile() -> None:
    assert claim(P_003=PASS) == "no claim (1 of its 3 requirements run)"
    assert claim(P_001=PASS, P_002=PASS) == "no claim (2 of its 3 requirements run)"


def test_the_run_as_a_whole() -> None:
    assert overall_claim({"a": "conformant", "b": "conformant"}) == "conformant for profiles a, b"
    assert overall_claim({"a": "conformant", "b": "not conformant", "c": "not evaluated"}) == (
        "not conformant: a MUST failed in b; conformant for profiles a; not evaluated: c"
    )
    assert overall_claim({"a": "not conformant", "b": "not conformant"}).startswith("not conformant: ")
    assert overall_claim({"a": "partially conformant"}) == (
        "partially conformant: a SHOULD failed, or checks skipped, in a"
    )
    assert overall_claim({"a": "no claim (1 of its 3 requirements run)"}).startswith("no claim")


def test_a_url_run_without_a_launcher_reads_plainly() -> None:
    """A healthy deployment checked by URL is not "partially conformant": it passed what could be
    checked, and the rest needs a launcher."""
    claims = {"core": "conformant", "vector-io": "passed where evaluated", "config": "not evaluated"}
    assert overall_claim(claims) == (
        "conformant for profiles core; passed where evaluated in vector-io; not evaluated: config"
    )


def test_failed_hardening_is_reported_beside_the_claim_not_in_it() -> None:
    catalog = {**CATALOG, "P-004": Requirement("P-004", "MUST", "p", "hardening", "test", basis="hardening")}
    run = [
        RequirementVerdict(catalog[rid], verdict, [])
        for rid, verdict in (("P-001", PASS), ("P-002", PASS), ("P-003", PASS), ("P-004", FAIL))
    ]
    assert profile_claims(run, catalog)["p"] == "conformant"
    assert hardening_failures(run) == ["P-004"]
    promised = [RequirementVerdict(catalog["P-001"], FAIL, []), *run[1:]]
    assert profile_claims(promised, catalog)["p"] == "not conformant"
