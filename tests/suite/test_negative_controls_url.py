"""Negative controls for the checks that run only against a URL (``--stack-url``).

The launcher-mode controls (test_negative_controls.py) never reach these checks: without
``--stack-quota-budget`` or a second token they skip. Here the defective reference server is
started by hand on a scenario's config, the suite is pointed at its URL with what those checks
need, and each URL check must fail on its defect and pass on the defect-free server.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from conformance.fakes.handle import FakeProcess
from conformance.launchers.process import free_port
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


def url_checks(
    url: str, options: list[str], requirements: str, report: Path, selection: str = "test_url_"
) -> dict[str, str]:
    """Outcome of each URL-mode check (``test_url_*`` unless ``selection`` says) of these requirements."""
    done = run_pytest(
        "-q", "-p", "no:xdist", CHECKS, "--stack-url", url, "--stack-requirement", requirements,
        "--conformance-report", str(report), "-k", selection, *options,
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


def jwt_env(servers: ServerFactory, jwks: FakeProcess) -> dict[str, str]:
    return {
        "OLLAMA_URL": servers.ollama_url,
        "SQLITE_STORE_DIR": str(servers.state),
        "CONFORMANCE_JWKS_URI": f"{jwks.url}/jwks",
        "CONFORMANCE_JWKS_RECHECK_S": "3600",
    }


OPAQUE_CHECKS = {f"test_url_opaque_garbage_is_refused[{case}]" for case in ("garbage", "oversized")}
ABAC_CHECKS = ("test_url_model_is_invisible_to_the_other_principal", "test_url_other_principal_cannot_delete")


# The quota measured from the outside (--stack-quota-budget): a config with limits of its own,
# larger than what the suite's other checks spend, and the budget declared as its limit.
QUOTA_LIMIT = 12
# With the whole suite run before the quota checks, the token's limit must outlast what it spends.
FULL_RUN_LIMIT = 400
QUOTA_SECTION = """\
server:
  quota:
    kvstore: {{type: sqlite, db_path: "{state}/quota.db"}}
    anonymous_max_requests: {limit}
    authenticated_max_requests: {limit}
    period: day
"""
QUOTA = {
    "QUOTA-001": "test_url_over_budget_is_the_documented_429",
    "QUOTA-002": "test_url_the_tokens_principal_has_its_own_budget",
    "QUOTA-003": "test_url_missing_token_is_401_even_over_quota",
    "QUOTA-006": "test_url_429_says_when_to_retry",
    "QUOTA-007": "test_url_health_is_not_counted",
    "QUOTA-008": "test_url_a_second_address_has_its_own_budget",
}


def quota_config(servers: ServerFactory, limit: int, auth: str = "") -> Path:
    section = QUOTA_SECTION.format(state=servers.state, limit=limit)
    return servers.config(servers.minimal() + section + auth, "quota.yaml")


def quota_verdicts(url: str, limit: int, options: list[str], report: Path, *workers: str) -> dict[str, str]:
    done = run_pytest(
        "-q", *(workers or ("-p", "no:xdist")), CHECKS, "--stack-url", url, "--stack-quota-budget", str(limit),
        "--conformance-report", str(report), *options,
    )  # fmt: skip
    verdicts = {rid: entry["verdict"] for rid, entry in results(report).items() if rid in QUOTA}
    assert verdicts, f"no quota verdicts (exit {done.returncode}): {done.stdout[-2000:]}{done.stderr[-1000:]}"
    return verdicts


@pytest.mark.parametrize(
    ("defect", "failing"),
    [
        (None, set()),
        ("quota-dropped", {"QUOTA-001"}),
        ("quota-one-early", {"QUOTA-001"}),
        ("quota-body-wrong", {"QUOTA-001"}),
        ("quota-without-retry-after", {"QUOTA-006"}),
        ("health-counted", {"QUOTA-007"}),
        ("one-anonymous-budget", {"QUOTA-008"}),
    ],
)
def test_quota_url_checks_anonymous(
    defect: str | None, failing: set[str], servers: ServerFactory, tmp_path: Path
) -> None:
    """No auth: every caller is anonymous, and the declared budget is this address's."""
    server = servers.running(quota_config(servers, QUOTA_LIMIT), defect=defect)
    options = ["--stack-requirement", ",".join(QUOTA)]
    verdicts = quota_verdicts(server.url, QUOTA_LIMIT, options, tmp_path / "report")
    assert {rid for rid, v in verdicts.items() if v == "fail"} == failing, verdicts
    if defect is None:
        # no principals to count apart, no missing token to refuse
        assert verdicts == {**dict.fromkeys(QUOTA, "pass"), "QUOTA-002": "not-evaluated", "QUOTA-003": "not-evaluated"}


JWT_AUTH = """\
  auth:
    provider_type: oauth2_token
    config:
      jwks: {{uri: "{jwks}/jwks", key_recheck_period: 3600}}
      issuer: {issuer}
      audience: llama-stack
"""
FAKE_ISSUER = "https://issuer.conformance.test"  # what the fake puts in iss unless told otherwise


@pytest.mark.parametrize(
    ("defect", "failing"),
    [
        (None, set()),
        ("quota-one-early", {"QUOTA-002"}),
        ("quota-before-auth", {"QUOTA-002", "QUOTA-003"}),
    ],
)
def test_quota_url_checks_with_a_token(
    defect: str | None, failing: set[str], servers: ServerFactory, jwks: FakeProcess, tmp_path: Path
) -> None:
    """Auth on: the token's principal has the declared budget, spent after the whole suite ran
    (every profile the URL serves, in two xdist workers, so the budget is shared across them)."""
    limit = FULL_RUN_LIMIT if defect is None else QUOTA_LIMIT
    server = servers.running(
        quota_config(servers, limit, JWT_AUTH.format(jwks=jwks.url, issuer=FAKE_ISSUER)), defect=defect
    )
    alice, bob = jwks.mint(claims={"sub": "alice"}), jwks.mint(claims={"sub": "bob"})
    # the issuer's keys are named, so the whole run's forgeries never look the fake issuer up
    options = ["--stack-token", alice, "--stack-token-alt", bob, "--stack-jwks-url", f"{jwks.url}/jwks"]
    workers = ("-n", "2") if defect is None else ("-p", "no:xdist")
    if defect is not None:
        options += ["--stack-requirement", ",".join(QUOTA)]
    verdicts = quota_verdicts(server.url, limit, options, tmp_path / "report", *workers)
    assert {rid for rid, v in verdicts.items() if v == "fail"} == failing, verdicts
    if defect is None:
        # only the token's budget was spent: 401-over-quota and health against an address's
        # budget are untested; no anonymous callers to count by address
        expected = {
            **dict.fromkeys(QUOTA, "pass"),
            **dict.fromkeys(("QUOTA-003", "QUOTA-007", "QUOTA-008"), "not-evaluated"),
        }
        assert verdicts == expected


@pytest.mark.parametrize(
    ("defect", "failing"),
    [
        (None, set()),
        ("everyone-sees-everything", {"test_url_model_is_invisible_to_the_other_principal"}),
        ("listing-cached-for-everyone", {"test_url_model_is_invisible_to_the_other_principal"}),
        ("delete-ignores-owner", {"test_url_other_principal_cannot_delete"}),
    ],
)
def test_abac_url_checks(
    defect: str | None, failing: set[str], servers: ServerFactory, jwks: FakeProcess, tmp_path: Path
) -> None:
    server = servers.running(SCENARIOS / "auth-jwt" / "reference.yaml", env=jwt_env(servers, jwks), defect=defect)
    alice, bob = jwks.mint(claims={"sub": "alice"}), jwks.mint(claims={"sub": "bob"})
    tokens = ["--stack-token", alice, "--stack-token-alt", bob]
    outcomes = url_checks(server.url, tokens, "ABAC-001,ABAC-002", tmp_path / "report")
    assert set(outcomes) == set(ABAC_CHECKS), outcomes
    judged(outcomes, failing, defect)


@pytest.mark.parametrize("defect", [None, "everyone-sees-everything", "listing-cached-for-everyone"])
def test_abac_url_checks_on_vector_dbs(
    defect: str | None, servers: ServerFactory, jwks: FakeProcess, tmp_path: Path
) -> None:
    config = SCENARIOS / "abac-resources" / "reference.yaml"
    server = servers.running(config, env=jwt_env(servers, jwks), defect=defect)
    alice, bob = jwks.mint(claims={"sub": "alice"}), jwks.mint(claims={"sub": "bob"})
    tokens = ["--stack-token", alice, "--stack-token-alt", bob]
    outcomes = url_checks(server.url, tokens, "ABAC-004", tmp_path / "report")
    check = "test_url_vector_db_is_out_of_the_other_principals_reach"
    assert outcomes == {check: "pass" if defect is None else "fail"}


URL_PRIVACY_CHECKS = {
    "ABAC-007": "test_url_file_is_out_of_the_other_principals_reach",
    "ABAC-008": "test_url_vector_store_is_out_of_the_other_principals_reach",
}


@pytest.mark.parametrize(
    ("requirement", "defect"),
    [
        ("ABAC-007", None),
        ("ABAC-007", "files-for-everyone"),
        ("ABAC-008", None),
        ("ABAC-008", "vector-stores-for-everyone"),
    ],
)
def test_abac_url_checks_on_files_and_vector_stores(
    requirement: str, defect: str | None, servers: ServerFactory, jwks: FakeProcess, tmp_path: Path
) -> None:
    config = SCENARIOS / "abac-resources" / "reference.yaml"
    server = servers.running(config, env=jwt_env(servers, jwks), defect=defect)
    alice, bob = jwks.mint(claims={"sub": "alice"}), jwks.mint(claims={"sub": "bob"})
    tokens = ["--stack-token", alice, "--stack-token-alt", bob]
    outcomes = url_checks(server.url, tokens, requirement, tmp_path / "report")
    assert outcomes == {URL_PRIVACY_CHECKS[requirement]: "pass" if defect is None else "fail"}


def derived(case: str) -> str:
    return f"test_url_derived_tokens_are_refused[{case}]"


DERIVED = [
    derived(case)
    for case in ("signature-removed", "signature-altered", "claim-changed", "alg-none", "kid-changed", "truncated",
                 "oversized", "other-scheme", "hs256-public-key")
]  # fmt: skip
AUTH_CHECKS = {
    *DERIVED,
    "test_url_everything_else_needs_a_token",
    "test_url_probes_need_no_token",
    "test_url_401_carries_www_authenticate",
}


@pytest.mark.parametrize(
    ("defect", "failing"),
    [
        (None, set()),
        # the reference caps a token's length before verifying it, so the oversized one is never echoed
        ("jwt-echoes-the-token", set(DERIVED) - {derived("other-scheme"), derived("oversized")}),
        ("jwt-signature-unchecked", {derived("signature-altered"), derived("claim-changed")}),
        ("jwt-algorithm-confusion", {derived("hs256-public-key")}),
        ("no-www-authenticate", {"test_url_401_carries_www_authenticate"}),
        ("probes-need-tokens", {"test_url_probes_need_no_token"}),
        ("listing-is-public", {"test_url_everything_else_needs_a_token"}),
    ],
)  # fmt: skip
def test_auth_url_checks_with_the_deployments_token(
    defect: str | None, failing: set[str], servers: ServerFactory, jwks: FakeProcess, tmp_path: Path
) -> None:
    """A JWT deployment judged from the outside with nothing but its URL and one valid token."""
    server = servers.running(SCENARIOS / "auth-jwt" / "reference.yaml", env=jwt_env(servers, jwks), defect=defect)
    token = jwks.mint(claims={"sub": "operator"})
    requirements = "AUTH-JWT-002,AUTH-JWT-003,AUTH-PUBLIC-001,AUTH-PUBLIC-002"
    options = ["--stack-token", token, "--stack-jwks-url", f"{jwks.url}/jwks"]
    outcomes = url_checks(server.url, options, requirements, tmp_path / "report")
    assert set(outcomes) == AUTH_CHECKS, outcomes
    judged(outcomes, failing, defect)


# the reference caps a token's length before asking the validator, so only garbage reaches the defect
@pytest.mark.parametrize(
    ("defect", "failing"), [(None, set()), ("custom-refusals-pass", {"test_url_opaque_garbage_is_refused[garbage]"})]
)
def test_opaque_token_url_checks(defect: str | None, failing: set[str], servers: ServerFactory, tmp_path: Path) -> None:
    validator = FakeProcess("validator", tmp_path)
    try:
        token = "operator-opaque-token-3f9a1c"
        validator.steer(responses={token: {"status": 200, "body": {"principal": "operator"}}})
        env = {
            "OLLAMA_URL": servers.ollama_url,
            "SQLITE_STORE_DIR": str(servers.state),
            "CONFORMANCE_AUTH_ENDPOINT": f"{validator.url}/validate",
        }
        server = servers.running(SCENARIOS / "auth-custom" / "reference.yaml", env=env, defect=defect)
        outcomes = url_checks(server.url, ["--stack-token", token], "AUTH-CUSTOM-003", tmp_path / "report")
    finally:
        validator.stop()
    assert set(outcomes) == OPAQUE_CHECKS, outcomes
    judged(outcomes, failing, defect)


# The deployment's own run.yaml (--stack-config): a config with each kind of finding against the
# reference server (which reads both grammars, so only well-formedness, required variables and
# nothing else can be found there; the generation is overridden to OGX 1.5 for the ignored settings).
CONFIG_CONTROLS = {
    "CFG-RUN-001": ("reference", "image_name: x-${env.lower}\n"),
    "CFG-RUN-002": ("reference", "image_name: x-${env.CONFORMANCE_NEVER_SET}\n"),
    "CFG-RUN-003": ("ogx-1.5", "server:\n  quota:\n    period: day\n"),
}
SECRET_IN_CONFIG = "op-secret-7f3a9c2e"
RUN_CONFIG_CHECKS = {
    "CFG-RUN-001": "test_run_config_speaks_its_generations_grammar",
    "CFG-RUN-002": "test_run_config_required_variables_are_set",
    "CFG-RUN-003": "test_run_config_has_no_ignored_settings",
}


@pytest.mark.parametrize("requirement", [None, *CONFIG_CONTROLS])
def test_run_config_checks(requirement: str | None, servers: ServerFactory, tmp_path: Path) -> None:
    """The lint of --stack-config fails on a config with its finding and passes on a clean one."""
    server = servers.running()
    generation, extra = CONFIG_CONTROLS.get(requirement or "", ("reference", ""))
    secret = f"  api_key: {SECRET_IN_CONFIG}\n  note: ${{env.CONFORMANCE_OPTIONAL:+{SECRET_IN_CONFIG}}}\n"
    config = servers.config(servers.minimal() + extra + ("vector_io_note:\n" + secret if requirement else ""), "o.yaml")
    done = run_pytest(
        "-q", "-p", "no:xdist", CHECKS, "--stack-url", server.url, f"--stack-config={config}",
        f"--stack-generation={generation}", "--stack-requirement", ",".join(RUN_CONFIG_CHECKS),
        "--conformance-report", str(tmp_path / "report"),
    )  # fmt: skip
    verdicts = {rid: entry["verdict"] for rid, entry in results(tmp_path / "report").items()}
    expected = {rid: "fail" if rid == requirement else "pass" for rid in RUN_CONFIG_CHECKS}
    assert verdicts == expected, done.stdout[-3000:]
    # the config's values stay in the suite's process: none reaches the output or the reports
    written = done.stdout + done.stderr + "".join(p.read_text() for p in (tmp_path / "report").glob("*.*"))
    assert SECRET_IN_CONFIG not in written


def test_an_unreadable_jwks_url_leaves_that_forgery_not_evaluated(
    servers: ServerFactory, jwks: FakeProcess, tmp_path: Path
) -> None:
    server = servers.running(SCENARIOS / "auth-jwt" / "reference.yaml", env=jwt_env(servers, jwks))
    options = ["--stack-token", jwks.mint(), "--stack-jwks-url", f"http://127.0.0.1:{free_port()}/jwks"]
    outcomes = url_checks(server.url, options, "AUTH-JWT-002", tmp_path / "report")
    assert outcomes.pop(derived("hs256-public-key")) == "not-evaluated", outcomes
    assert set(outcomes.values()) == {"pass"}, outcomes


@pytest.mark.parametrize(("defect", "outcome"), [(None, "pass"), ("jwt-algorithm-confusion", "fail")])
def test_the_issuers_keys_are_found_by_discovery(
    defect: str | None, outcome: str, servers: ServerFactory, jwks: FakeProcess, tmp_path: Path
) -> None:
    """Without --stack-jwks-url the token's iss leads to the issuer's keys (its OpenID discovery
    document): the HS256 forgery is made, and caught where the stack accepts it."""
    auth = "server:\n" + JWT_AUTH.format(jwks=jwks.url, issuer=jwks.url)
    server = servers.running(servers.config(servers.minimal() + auth), defect=defect)
    token = jwks.mint(claims={"iss": jwks.url})
    outcomes = url_checks(server.url, ["--stack-token", token], "AUTH-JWT-002", tmp_path / "report")
    assert outcomes[derived("hs256-public-key")] == outcome, outcomes
    read = [r for r in jwks.requests() if r.get("path") == "/.well-known/openid-configuration"]
    assert read, "the discovery document was never read"


# The live server held to its config (--stack-config): each control passes a config that differs
# from the one the server was started on in exactly one promise.
def drifted(config: dict[str, Any], control: str) -> dict[str, Any]:
    changed = copy.deepcopy(config)
    if control == "extra-provider":
        vllm = {"provider_id": "vllm", "provider_type": "remote::vllm", "config": {"url": "http://127.0.0.1:9/v1"}}
        changed["providers"]["inference"].append(vllm)
    elif control == "extra-model":
        changed["models"].append({"model_id": "not-served", "provider_id": "ollama"})
    elif control == "auth":
        changed.setdefault("server", {})["auth"] = {"provider_type": "custom", "config": {"endpoint": "http://x/v"}}
    elif control == "tls":
        changed.setdefault("server", {}).update(tls_certfile="/etc/stack/cert.pem", tls_keyfile="/etc/stack/key.pem")
    return changed


DRIFT_CONTROLS = {
    "CFG-RUN-004": ("extra-provider",),
    "CFG-RUN-005": ("extra-model",),
    "CFG-RUN-006": ("auth", "tls"),
}
LIVE = ("CFG-RUN-004", "CFG-RUN-005", "CFG-RUN-006")


def live_verdicts(url: str, config: Path, report: Path, *options: str) -> dict[str, str]:
    done = run_pytest(
        "-q", "-p", "no:xdist", CHECKS, "--stack-url", url, f"--stack-config={config}",
        "--stack-requirement", ",".join(LIVE), "--conformance-report", str(report), *options,
    )  # fmt: skip
    verdicts = {rid: entry["verdict"] for rid, entry in results(report).items()}
    assert set(verdicts) == set(LIVE), done.stdout[-3000:]
    return verdicts


@pytest.mark.parametrize(
    ("requirement", "control"), [(None, None), *((r, c) for r, cs in DRIFT_CONTROLS.items() for c in cs)]
)
def test_the_live_server_is_held_to_its_config(
    requirement: str | None, control: str | None, servers: ServerFactory, tmp_path: Path
) -> None:
    config = yaml.safe_load(servers.full())
    server = servers.running(servers.config(yaml.safe_dump(config), "started.yaml"))
    given = servers.config(yaml.safe_dump(drifted(config, control or "")), "given.yaml")
    verdicts = live_verdicts(server.url, given, tmp_path / "report")
    # without auth or TLS in the config, there is no security promise to hold the server to
    expected = {"CFG-RUN-004": "pass", "CFG-RUN-005": "pass", "CFG-RUN-006": "not-evaluated"}
    if requirement:
        expected[requirement] = "fail"
    assert verdicts == expected


def test_a_deployment_with_auth_passes_against_its_config_and_environment(
    servers: ServerFactory, jwks: FakeProcess, tmp_path: Path
) -> None:
    """The config's placeholders read in the server's environment, given as an env file."""
    config = SCENARIOS / "auth-jwt" / "reference.yaml"
    env = jwt_env(servers, jwks)
    server = servers.running(config, env=env)
    env_file = tmp_path / "server.env"
    env_file.write_text("".join(f"{name}={value}\n" for name, value in env.items()), encoding="utf-8")
    token = jwks.mint(claims={"sub": "operator"})
    options = ("--stack-token", token, f"--stack-env={env_file}")
    assert live_verdicts(server.url, config, tmp_path / "report", *options) == dict.fromkeys(LIVE, "pass")


@pytest.mark.parametrize(("defect", "outcome"), [(None, "pass"), ("openai-model-not-renamed", "fail")])
def test_the_requested_model_is_named_under_an_alias(
    defect: str | None, outcome: str, servers: ServerFactory, tmp_path: Path
) -> None:
    """INF-OPENAI-004 against a deployment whose model is named as the backend names it: an echo
    of the backend's name would pass, so the check asks under an alias it registers."""
    server = servers.running(servers.config(servers.minimal() + "models:\n- {model_id: llama3.2:3b}\n"), defect=defect)
    outcomes = url_checks(server.url, [], "INF-OPENAI-004", tmp_path / "report", selection="openai")
    assert outcomes == {"test_openai_chat_names_the_requested_model": outcome}


# CORE-DISABLED-001 by URL: the sentinel can only show where the deployment switches something off.
SWITCHED_OFF = (
    "  - provider_id: __disabled__\n    provider_type: remote::vllm\n    config: {url: http://127.0.0.1:9/v1}\n"
)


@pytest.mark.parametrize(
    ("switches_off", "defect", "verdict"),
    [(False, None, "not-evaluated"), (True, None, "pass"), (True, "sentinel-in-providers", "fail")],
)
def test_the_sentinel_check_by_url_needs_something_switched_off(
    switches_off: bool, defect: str | None, verdict: str, servers: ServerFactory, tmp_path: Path
) -> None:
    config = yaml.safe_load(servers.minimal())
    if switches_off:
        config["providers"]["inference"] += yaml.safe_load(SWITCHED_OFF)
    path = servers.config(yaml.safe_dump(config), "started.yaml")
    server = servers.running(path, defect=defect)
    done = run_pytest(
        "-q", "-p", "no:xdist", CHECKS, "--stack-url", server.url, f"--stack-config={path}",
        "--stack-requirement", "CORE-DISABLED-001", "--conformance-report", str(tmp_path / "report"),
    )  # fmt: skip
    assert results(tmp_path / "report")["CORE-DISABLED-001"]["verdict"] == verdict, done.stdout[-3000:]


def test_the_sentinel_check_by_url_without_a_config_says_what_it_judged(servers: ServerFactory, tmp_path: Path) -> None:
    server = servers.running()
    run_pytest(
        "-q", "-p", "no:xdist", CHECKS, "--stack-url", server.url, "--stack-requirement", "CORE-DISABLED-001",
        "--conformance-report", str(tmp_path / "report"),
    )  # fmt: skip
    entry = results(tmp_path / "report")["CORE-DISABLED-001"]
    assert entry["verdict"] == "pass"
    assert "--stack-config" in entry["checks"][0]["message"]
