"""Profile ``quota``: the seed's per-client daily quotas.

Every launched check spends a budget, so each starts its own instance of a scenario with tiny
limits. Against a URL, with ``--stack-quota-budget``, the ``test_url_*`` checks judge the run's
one measurement of the target's quota (`conformance.quota_probe`), made last.
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from conformance.http import RecordingClient, Response, Unreachable
from conformance.outcomes import inconclusive, not_evaluated
from conformance.plugin import ScenarioAccess
from conformance.quota_probe import SECOND_CLIENT, Spent
from conformance.scenarios import Launched

requirement = pytest.mark.requirement
QUOTA_BODY = {"error": {"message": "Quota exceeded"}}
DAY_S = 86_400


def fresh(scenarios: ScenarioAccess, name: str) -> tuple[Launched, RecordingClient]:
    launched = scenarios.pool.launch(name)
    return launched, scenarios.client(launched.url)


def statuses(responses: list[Response]) -> list[int]:
    return [r.status for r in responses]


def spend(api: RecordingClient, count: int, path: str = "/v1/models", **kwargs: Any) -> list[Response]:
    return [api.get(path, as_role=None, **kwargs) for _ in range(count)]


@requirement("QUOTA-001")
def test_over_the_limit_is_the_documented_429(scenarios: ScenarioAccess) -> None:
    _launched, api = fresh(scenarios, "quota-anonymous")
    answers = spend(api, 4)
    assert statuses(answers) == [200, 200, 200, 429], f"statuses with a limit of 3: {statuses(answers)}"
    over = answers[-1]
    assert over.headers.get("content-type", "").startswith("application/json"), over.headers.get("content-type")
    assert over.json() == QUOTA_BODY, f"the 429 body is {over.text!r}"


@requirement("QUOTA-002")
def test_principals_have_their_own_budget(scenarios: ScenarioAccess) -> None:
    launched, api = fresh(scenarios, "quota-jwt")
    issuer = launched.fakes["jwks"]
    alice, bob = issuer.mint(claims={"sub": "alice"}), issuer.mint(claims={"sub": "bob"})
    got = statuses(spend(api, 5, bearer=alice))
    assert got == [200, 200, 200, 200, 429], f"alice (limit 4) got {got}; counted by IP with the anonymous 2?"
    assert api.get("/v1/models", bearer=bob).status == 200, "bob is refused after alice spent her budget"
    anonymous = statuses(spend(api, 3, path="/v1/version"))
    assert anonymous == [200, 200, 429], f"anonymous callers (limit 2) got {anonymous}"


@requirement("QUOTA-003")
def test_missing_token_is_401_even_over_quota(scenarios: ScenarioAccess) -> None:
    _launched, api = fresh(scenarios, "quota-jwt")
    spent = statuses(spend(api, 3, path="/v1/version"))
    if spent[-1] != 429:  # no quota to be over: this check could not have failed (QUOTA-001's finding)
        inconclusive(f"the anonymous budget of 2 was not enforced ({spent}), so being over it cannot be tested")
    response = api.get("/v1/models", as_role=None)
    assert response.status == 401, f"without a token: {response.describe()}"


@requirement("QUOTA-004")
def test_counts_survive_a_restart(scenarios: ScenarioAccess) -> None:
    launched, api = fresh(scenarios, "quota-anonymous")
    assert statuses(spend(api, 3)) == [200, 200, 200]
    restarted = scenarios.pool.restart(launched)
    after = scenarios.client(restarted.url).get("/v1/models", as_role=None)
    assert after.status == 429, f"after a restart the spent budget is back: {after.describe()}"


@requirement("QUOTA-005")
def test_a_concurrent_burst_admits_exactly_the_limit(scenarios: ScenarioAccess) -> None:
    _launched, api = fresh(scenarios, "quota-burst")
    with ThreadPoolExecutor(max_workers=12) as pool:
        answers = list(pool.map(lambda _i: api.get("/v1/models", as_role=None).status, range(60)))
    assert sorted(set(answers)) == [200, 429], f"unexpected statuses: {sorted(set(answers))}"
    assert answers.count(200) == 20, f"{answers.count(200)} of 60 concurrent requests succeeded, the limit is 20"


def expect_retry_after_the_day(value: str) -> None:
    """Retry-After must be the seconds left until the next UTC midnight, when the window rolls over
    (a few seconds' slack for the exchange itself)."""
    assert value.isdigit(), f"Retry-After is {value!r}, not a number of seconds"
    left = DAY_S - time.time() % DAY_S
    assert abs(int(value) - left) <= 5, f"Retry-After is {value} s; the UTC day ends in {left:.0f} s"


@requirement("QUOTA-006")
def test_429_says_when_to_retry(scenarios: ScenarioAccess) -> None:
    _launched, api = fresh(scenarios, "quota-anonymous")
    expect_retry_after_the_day(spend(api, 4)[-1].headers.get("retry-after", ""))


@requirement("QUOTA-008")
def test_anonymous_clients_are_counted_by_address(scenarios: ScenarioAccess) -> None:
    launched, api = fresh(scenarios, "quota-anonymous")
    first = statuses(spend(api, 4))
    if first[-1] != 429:
        inconclusive(f"the limit of 3 was not enforced ({first}), so separate budgets cannot be told apart")
    other = scenarios.client(launched.url, local_address=SECOND_CLIENT)
    try:
        answer = other.get("/v1/models", as_role=None)
    except Unreachable as exc:
        inconclusive(f"this machine cannot send from {SECOND_CLIENT}: {exc}")
    assert answer.status == 200, (
        f"a client at {SECOND_CLIENT} is refused after 127.0.0.1 spent its budget: {answer.describe()}"
    )


@requirement("QUOTA-009")
def test_tokens_of_one_principal_share_a_budget(scenarios: ScenarioAccess) -> None:
    launched, api = fresh(scenarios, "quota-jwt")
    issuer = launched.fakes["jwks"]
    first, second = issuer.mint(claims={"sub": "alice"}), issuer.mint(claims={"sub": "alice"})
    assert first != second, "the issuer minted the same token twice"
    spent = statuses(spend(api, 5, bearer=first))
    if 429 not in spent:
        inconclusive(f"alice's budget of 4 was not enforced ({spent}), so sharing it cannot be told")
    # Only where principals are counted apart does a shared budget say anything about alice's
    # tokens: keyed by address (quota before auth, QUOTA-002), every caller shares one.
    if api.get("/v1/models", bearer=issuer.mint(claims={"sub": "bob"})).status != 200:
        inconclusive("another principal is refused too: principals are not counted apart (QUOTA-002)")
    answer = api.get("/v1/models", bearer=second)
    assert answer.status == 429, f"alice's second token starts a fresh budget: {answer.describe()}"


@requirement("QUOTA-007")
def test_health_is_not_counted(scenarios: ScenarioAccess) -> None:
    _launched, api = fresh(scenarios, "quota-anonymous")
    spend(api, 5, path="/v1/health")
    got = statuses(spend(api, 4))
    assert got[:3] == [200, 200, 200], f"after 5 health checks, 3 requests (limit 3) got {got[:3]}"
    if got[3] != 429:  # no quota at all: health checks could not have been counted
        inconclusive(f"the limit of 3 was not enforced ({got}), so whether health is counted cannot be told")


# Against a URL (--stack-quota-budget): every check judges the run's one measurement.


def spent_over(spent: Spent) -> dict[str, Any]:
    if spent.over is None:
        inconclusive(f"no 429 to look at: {spent.account()} (QUOTA-001's finding)")
    return spent.over


@requirement("QUOTA-001")
def test_url_over_budget_is_the_documented_429(quota_spent: Spent) -> None:
    assert quota_spent.over is not None, f"no quota enforced: {quota_spent.account()}"
    if not quota_spent.auth_on:  # every caller is anonymous: the declared budget is the anonymous limit
        assert quota_spent.exact, f"the budget is not counted as declared: {quota_spent.account()}"
    over = quota_spent.over
    assert over["content_type"].startswith("application/json"), f"the 429's content type is {over['content_type']!r}"
    assert json.loads(over["body"] or "null") == QUOTA_BODY, f"the 429 body is {over['body']!r}"


@requirement("QUOTA-002")
def test_url_the_tokens_principal_has_its_own_budget(quota_spent: Spent) -> None:
    if not quota_spent.auth_on:
        not_evaluated("the target serves anonymous callers: there are no principals to count apart")
    spent_over(quota_spent)
    assert quota_spent.exact, (
        f"the token's principal is not counted on its own: {quota_spent.account()}; "
        "counted with the suite's other callers (by address?)"
    )
    if "alt" in quota_spent.after:
        assert quota_spent.after["alt"] != 429, "the second token's principal is refused once the first one's is spent"


@requirement("QUOTA-003")
def test_url_missing_token_is_401_even_over_quota(quota_spent: Spent) -> None:
    if not quota_spent.auth_on:
        not_evaluated("the target serves anonymous callers: there is no missing token to refuse")
    spent_over(quota_spent)
    anonymous = quota_spent.after["anonymous"]
    assert anonymous != 429, "without a token, after the suite's budget was spent: 429 instead of 401"
    if quota_spent.exact:  # spending an address's anonymous budget too would refuse everyone behind it
        not_evaluated("only the token's budget was spent, not this address's anonymous one; run launched to test it")
    assert anonymous == 401, f"without a token, over quota: {anonymous}"


@requirement("QUOTA-006")
def test_url_429_says_when_to_retry(quota_spent: Spent) -> None:
    over = spent_over(quota_spent)
    expect_retry_after_the_day(over.get("retry_after") or "")


@requirement("QUOTA-007")
def test_url_health_is_not_counted(quota_spent: Spent) -> None:
    spent_over(quota_spent)
    assert not quota_spent.counts("health"), (
        "GET /v1/health is refused with 429 once the budget is spent: it is counted"
    )
    assert quota_spent.after["health"] == 200, f"GET /v1/health once the budget is spent: {quota_spent.after['health']}"
    if quota_spent.auth_on:
        not_evaluated(
            "GET /v1/health carries no principal where it is public, and only the token's budget was spent, "
            "not this address's; run launched, or against an anonymous deployment, to test it"
        )


@requirement("QUOTA-008")
def test_url_a_second_address_has_its_own_budget(quota_spent: Spent) -> None:
    spent_over(quota_spent)
    second = quota_spent.after.get("second_address")
    if second is None:
        not_evaluated(f"needs an anonymous target on this machine, to send from {SECOND_CLIENT}")
    if isinstance(second, str):
        inconclusive(f"this machine cannot send from {SECOND_CLIENT}: {second}")
    assert second == 200, f"a client at {SECOND_CLIENT} is refused after 127.0.0.1 spent its budget: {second}"
