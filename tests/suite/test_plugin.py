"""The plugin end to end: URL mode, options and their twins, xdist, JUnit, exit codes."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest

from conformance.fakes.handle import FakeProcess
from tests.conftest import Server, ServerFactory, jwt_auth
from tests.suite.harness import CHECKS, REPO, defect_launcher, results, run_pytest, verdicts

CORE_CHECKS = sum(line.startswith("@requirement(") for line in (Path(CHECKS) / "test_core.py").read_text().splitlines())


def core_checks_passed(output: str) -> bool:
    """Every check of the core profile ran and passed (counted from its module, not hard-coded)."""
    return re.search(rf"\b{CORE_CHECKS} passed\b", output) is not None and "failed" not in output


@pytest.fixture
def hand_started(servers: ServerFactory) -> Server:
    """A reference server started by hand, as an operator would, with the core scenario's config."""
    text = (REPO / "fixtures" / "scenarios" / "core" / "reference.yaml").read_text()
    text = text.replace("${env.OLLAMA_URL}", servers.ollama_url).replace("${env.SQLITE_STORE_DIR}", str(servers.state))
    return servers.running(servers.config(text))


def test_url_mode_passes_core_and_leaves_config_not_evaluated(hand_started: Server, tmp_path: Path) -> None:
    done = run_pytest(f"--stack-url={hand_started.url}", "--conformance-report", str(tmp_path), cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-3000:]
    assert (
        "target http://127.0.0.1" in done.stdout and "generation reference (detected from /v1/version)" in done.stdout
    )
    result = verdicts(tmp_path)
    assert result.pop("CORE-TLS-001") == "not-evaluated"  # an http:// URL has no TLS port to probe
    assert {v for k, v in result.items() if k.startswith("CORE-")} == {"pass"}
    assert {v for k, v in result.items() if k.startswith("CFG-")} == {"not-evaluated"}
    black_box = ("VEC-DB-001", "VEC-IO-001", "SAFE-SHIELD-001", "SAFE-RUN-001", "SAFE-REG-001")
    assert {result[k] for k in black_box} == {"pass"}, result
    assert {result[k] for k in ("VEC-PERSIST-001", "SAFE-RUN-003", "SAFE-SEED-001")} == {"not-evaluated"}
    page = (tmp_path / "report.html").read_text()
    assert "CFG-ENV-009" in page and "<script" not in page
    # Plainly: what passed, what was not evaluated, and how to evaluate it against your own server.
    assert "summary: conformant for profiles core" in done.stdout, done.stdout[-3000:]
    assert "not evaluated: config" in done.stdout and "partially conformant" not in done.stdout
    assert "--stack-launcher='YOUR-START-COMMAND {config} --port {port}'" in done.stdout


def test_apis_a_target_does_not_serve_are_skipped_saying_so(servers: ServerFactory, tmp_path: Path) -> None:
    server = servers.running()  # inference only: no vector_io, no safety
    profiles = "--stack-profile=vector-io,safety"
    done = run_pytest(f"--stack-url={server.url}", profiles, "--conformance-report", str(tmp_path), cwd=tmp_path)
    # Nothing was graded, so the run must not be green.
    assert done.returncode == 5, done.stdout[-3000:]
    assert "conformance: no requirement was evaluated (" in done.stdout, done.stdout[-3000:]
    doc = json.loads((tmp_path / "results.json").read_text())
    entries = {entry["id"]: entry for entry in doc["requirements"]}
    for requirement, route in (("VEC-DB-001", "POST /v1/vector-dbs"), ("SAFE-SHIELD-001", "GET /v1/shields")):
        assert entries[requirement]["verdict"] == "skip", entries[requirement]
        assert f"does not serve {route}" in json.dumps(entries[requirement]), entries[requirement]


def test_url_from_the_environment_twin(hand_started: Server, tmp_path: Path) -> None:
    done = run_pytest("--stack-profile=core", cwd=tmp_path, env={"LLAMA_STACK_URL": hand_started.url})
    assert done.returncode == 0 and core_checks_passed(done.stdout), done.stdout[-2000:]


def test_flag_wins_over_environment(hand_started: Server, tmp_path: Path) -> None:
    done = run_pytest(
        f"--stack-url={hand_started.url}",
        "--stack-profile=core",
        cwd=tmp_path,
        env={"LLAMA_STACK_URL": "http://127.0.0.1:9"},
    )
    assert done.returncode == 0, done.stdout[-2000:]


@pytest.mark.parametrize("override", [[], ["--stack-generation=0.2.12"], ["-n", "2"]])
def test_dead_url_ends_with_one_line(override: list[str], tmp_path: Path) -> None:
    """Once, on stderr, exit 3, also when the generation is given (no detection to do) and
    under xdist; nothing on stdout, where a wall of failures used to be."""
    done = run_pytest("--stack-url=http://127.0.0.1:9", "--request-timeout=2", *override, cwd=tmp_path)
    assert done.returncode == 3, done.stdout[-2000:]
    assert done.stderr.splitlines() == [
        "conformance: cannot reach http://127.0.0.1:9: GET /v1/version: ConnectError: [Errno 111] Connection refused"
    ]
    assert not done.stdout


def test_credentials_never_reach_the_report(hand_started: Server, tmp_path: Path) -> None:
    done = run_pytest(
        f"--stack-url={hand_started.url}",
        "--stack-profile=core",
        "--stack-token=s3cret-token",
        "--conformance-report",
        str(tmp_path),
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout[-2000:]
    assert "s3cret-token" not in (tmp_path / "results.json").read_text() + (tmp_path / "report.html").read_text()


def test_junit_carries_requirement_ids(hand_started: Server, tmp_path: Path) -> None:
    junit = tmp_path / "junit.xml"
    run_pytest(f"--stack-url={hand_started.url}", "--stack-profile=core", f"--junitxml={junit}", cwd=tmp_path)
    properties = {p.get("value") for p in ET.parse(junit).iter("property") if p.get("name") == "requirement"}
    assert "CORE-HEALTH-001" in properties and "CORE-MODELS-004" in properties


def test_xdist_gives_the_same_verdicts(tmp_path: Path) -> None:
    serial, parallel = tmp_path / "serial", tmp_path / "parallel"
    first = run_pytest(CHECKS, "--conformance-report", str(serial), "-p", "no:xdist")
    second = run_pytest(CHECKS, "-n", "2", "--conformance-report", str(parallel))
    assert first.returncode == 0 and second.returncode == 0, second.stdout[-2000:]
    assert verdicts(serial) == verdicts(parallel)
    assert "verdict per requirement" in second.stdout


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--stack-url=ftp://x"], "expected http(s)://host"),
        (["--stack-url=http://u:pw-MARKER@127.0.0.1:abc"], "'http://***@127.0.0.1:abc': expected http(s)://host"),
        (["--stack-url=http://127.0.0.1:99999"], "Port out of range"),
        (["--stack-url=http://u:pw-MARKER@[::1"], "'http://***@[::1': expected http(s)://host"),
        (["--conformance-report=/dev/null/x"], "--conformance-report /dev/null/x: cannot create it"),
        (["--stack-profile=bogus"], "unknown ['bogus']"),
        (["--stack-requirement=NOPE-001"], "unknown ids"),
        (["--request-timeout=0"], "--request-timeout: must be a positive number"),
        (["--request-timeout=inf"], "must be a positive number"),
        (["--stack-profile="], "--stack-profile: given with an empty value"),
        (["--stack-profile=core,"], "has an empty item"),
        (["--stack-generation=9.9.9"], "the suite knows llama-stack 0.2.0 up to OGX 1.x"),
        (["--stack-generation=latest"], "stack-generation"),
        (["--stack-launcher=llama stack run"], "{config} and {port}"),
        (["--stack-fixtures=/nonexistent-fixtures"], "no scenarios/ folder there"),
        (["--stack-env=/nonexistent.env"], "--stack-env /nonexistent.env: cannot read it"),
    ],
)
def test_bad_options_are_usage_errors(args: list[str], fragment: str, tmp_path: Path) -> None:
    done = run_pytest(CHECKS, *args, cwd=tmp_path)
    assert done.returncode == 4, done.stdout + done.stderr
    assert fragment in done.stderr and "Traceback" not in done.stderr
    assert "pw-MARKER" not in done.stdout + done.stderr


def test_an_env_file_line_that_is_not_key_value_is_named(tmp_path: Path) -> None:
    (tmp_path / "server.env").write_text("# the server's environment\nexport A=1\nB='two'\nnot a pair\n")
    done = run_pytest(CHECKS, "--stack-env=server.env", cwd=tmp_path)
    assert done.returncode == 4, done.stdout + done.stderr
    assert "--stack-env server.env: line 4 is not KEY=VALUE" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("variable", "value", "fragment"),
    [
        ("LLAMA_STACK_REQUEST_TIMEOUT", "-2", "$LLAMA_STACK_REQUEST_TIMEOUT: must be a positive number"),
        ("LLAMA_STACK_GENERATION", "latest", "$LLAMA_STACK_GENERATION 'latest'"),
        ("LLAMA_STACK_QUOTA_BUDGET", "lots", "$LLAMA_STACK_QUOTA_BUDGET: expected a number"),
    ],
)
def test_a_bad_environment_twin_is_named_as_such(variable: str, value: str, fragment: str, tmp_path: Path) -> None:
    done = run_pytest(CHECKS, cwd=tmp_path, env={variable: value})
    assert done.returncode == 4, done.stdout + done.stderr
    assert fragment in done.stderr and "--request-timeout" not in done.stderr, done.stderr


def test_an_empty_environment_twin_counts_as_unset(tmp_path: Path) -> None:
    """A CI template passes empty inputs through as empty variables; they mean "not given"."""
    done = run_pytest(CHECKS, "--stack-requirement=CORE-HEALTH-001", cwd=tmp_path, env={"LLAMA_STACK_PROFILE": ""})
    assert done.returncode == 0, done.stdout[-2000:]


def test_failure_carries_a_curl_line(tmp_path: Path) -> None:
    done = run_pytest(
        CHECKS,
        *defect_launcher("health-not-ok"),
        "--stack-requirement=CORE-HEALTH-001",
        "--conformance-report",
        str(tmp_path),
    )
    assert done.returncode == 1
    [entry] = json.loads((tmp_path / "results.json").read_text())["requirements"]
    [check] = entry["checks"]
    assert check["curl"] and check["curl"][0].startswith("curl -sS -i -X GET") and "/v1/health" in check["curl"][0]


def test_refused_credentials_are_inconclusive_and_fail_the_run(tmp_path: Path) -> None:
    done = run_pytest(
        CHECKS,
        *defect_launcher("auth-wall"),
        "--stack-profile=core",
        "--conformance-report",
        str(tmp_path),
    )
    assert done.returncode == 1, done.stdout[-2000:]
    result = verdicts(tmp_path)
    assert result.pop("CORE-HEALTH-001") == "pass"  # the one route the wall leaves open
    assert result.pop("CORE-TLS-001") == "pass"  # a plain-HTTP probe of the TLS port needs no credentials
    assert set(result.values()) == {"inconclusive"}, result


def test_ini_twin(hand_started: Server, tmp_path: Path) -> None:
    (tmp_path / "pytest.ini").write_text(f"[pytest]\nstack_url = {hand_started.url}\nstack_profile = core\n")
    done = run_pytest(cwd=tmp_path)
    assert done.returncode == 0 and core_checks_passed(done.stdout), done.stdout[-2000:]


def test_console_script_runs_the_installed_checks(hand_started: Server, tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("llama-stack-conformance")
    done = subprocess.run(
        [str(script), f"--stack-url={hand_started.url}", "--stack-profile=core", "-q"],
        check=False,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert done.returncode == 0 and core_checks_passed(done.stdout), done.stdout[-2000:]


def test_quota_checks_against_a_url_need_an_opt_in(servers: ServerFactory, tmp_path: Path) -> None:
    def quota(db: str) -> Path:
        section = f"server:\n  quota:\n    kvstore: {{type: sqlite, db_path: {servers.state}/{db}}}\n"
        return servers.config(servers.minimal() + section + "    anonymous_max_requests: 3\n", f"{db}.yaml")

    server = servers.running(quota("a.db"))
    without = run_pytest(
        f"--stack-url={server.url}", "--stack-profile=quota", "--conformance-report", str(tmp_path / "a"), cwd=tmp_path
    )
    assert without.returncode == 5 and set(verdicts(tmp_path / "a").values()) == {"not-evaluated"}
    # a server of its own: the first run's requests spent part of that one's budget of 3
    fresh = servers.running(quota("b.db"))
    opted = run_pytest(
        f"--stack-url={fresh.url}",
        "--stack-profile=quota",
        "--stack-quota-budget=3",
        "--conformance-report",
        str(tmp_path / "b"),
        cwd=tmp_path,
    )
    assert opted.returncode == 0, opted.stdout[-2000:]
    result = verdicts(tmp_path / "b")
    assert result["QUOTA-001"] == "pass" and result["QUOTA-006"] == "pass", result


def test_access_checks_against_a_url_with_two_principals(
    servers: ServerFactory, issuer: FakeProcess, tmp_path: Path
) -> None:
    auth = jwt_auth(f"{issuer.url}/jwks")
    # every API the reference serves, so each access check that can run against a URL runs
    server = servers.running(servers.config(servers.full() + auth))
    alice = issuer.mint(claims={"sub": "alice", "groups": ["team-a"]})
    bob = issuer.mint(claims={"sub": "bob", "groups": ["team-b"]})
    done = run_pytest(
        f"--stack-url={server.url}",
        "--stack-profile=abac",
        f"--stack-token={alice}",
        f"--stack-token-alt={bob}",
        "--conformance-report",
        str(tmp_path / "r"),
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout[-2000:]
    # ABAC-003 (sharing attributes) needs the launched issuer's tokens, and shields are never
    # registered in a deployment (ABAC-005): not evaluated; the rest are judged with the two tokens
    not_here = dict.fromkeys(("ABAC-003", "ABAC-005"), "not-evaluated")
    judged = dict.fromkeys(("ABAC-001", "ABAC-002", "ABAC-004", "ABAC-006", "ABAC-007", "ABAC-008"), "pass")
    assert verdicts(tmp_path / "r") == {**judged, **not_here}


def test_relative_paths_in_a_launcher_command_are_the_users(tmp_path: Path) -> None:
    """The server runs in its scenario's folder; a relative script path still means the user's file."""
    launcher = f"{sys.executable} tests/defects/serve.py none {{config}} --port {{port}}"
    done = run_pytest(CHECKS, "--stack-launcher", launcher, "--stack-generation=reference", "--stack-profile=core")
    assert done.returncode == 0, done.stdout[-2000:]


@pytest.mark.parametrize(
    ("edit", "fragment"),
    [
        (lambda text: text.replace("env:\n", "env: [CFG_SET]\nold_env:\n", 1), "env, fakes and configs are mappings"),
        (lambda text: text + "configs:\n  reference: scenarios/nowhere.yaml\n", "configs.reference names"),
    ],
)
def test_a_broken_scenario_file_is_named_not_a_traceback(
    edit: Callable[[str], str], fragment: str, tmp_path: Path
) -> None:
    fixtures = tmp_path / "fixtures"
    shutil.copytree(REPO / "fixtures", fixtures)
    scenario = fixtures / "scenarios" / "env-grammar" / "scenario.yaml"
    scenario.write_text(edit(scenario.read_text()))
    report = tmp_path / "report"
    done = run_pytest(
        CHECKS, f"--stack-fixtures={fixtures}", "--stack-requirement=CFG-ENV-001", f"--conformance-report={report}"
    )
    [entry] = results(report).values()
    assert entry["verdict"] == "not-evaluated" and fragment in entry["reason"], done.stdout[-2000:]
    assert "Traceback" not in done.stdout + done.stderr, done.stdout[-2000:]
