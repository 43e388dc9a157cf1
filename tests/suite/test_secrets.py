"""No secret leaves the process: a failing run with marker secrets, every byte it wrote grepped.

The target echoes whatever credentials reach it and logs its secret environment, the run asks
pytest for everything it can print (locals, long tracebacks, captured output in the summary and
in JUnit), and afterwards no token of either principal, no URL password (nor the Basic
credential built from it) and no scenario secret may appear in stdout, stderr, junit.xml,
results.json, report.html or the kept server logs.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path

from conformance.fakes.handle import FakeProcess
from tests.conftest import ServerFactory, jwt_auth
from tests.suite.harness import CHECKS, defect_launcher, run_pytest, verdicts

PASSWORD = "url-pass-MARKER-8c1f"
SCENARIO_SECRET = "conformance-vllm-token"  # VLLM_API_TOKEN of the starter-with-models scenario
NOISY = ["-l", "--tb=long", "-rA", "-vv", "-o", "junit_logging=all", "-p", "no:xdist"]


def artifacts(report: Path, done: subprocess.CompletedProcess[str]) -> dict[str, str]:
    files = [path for path in report.rglob("*") if path.is_file()]
    written = {str(path.relative_to(report)): path.read_text(errors="replace") for path in files}
    return {"stdout": done.stdout, "stderr": done.stderr, **written}


def leaks(found: dict[str, str], secrets: list[str]) -> list[str]:
    return [f"{secret[:12]}... in {name}" for name, text in found.items() for secret in secrets if secret in text]


def test_tokens_and_url_password_stay_out_of_every_artifact(
    servers: ServerFactory, issuer: FakeProcess, tmp_path: Path
) -> None:
    config = servers.config(servers.minimal() + jwt_auth(f"{issuer.url}/jwks") + "models:\n- {model_id: llama3.2:3b}\n")
    server = servers.running(config, defect="echoes-credentials")
    alice = issuer.mint(claims={"sub": "alice", "groups": ["team-a"]})
    bob = issuer.mint(claims={"sub": "bob", "groups": ["team-b"]})
    host = server.url.removeprefix("http://")
    basic = base64.b64encode(f"operator:{PASSWORD}".encode()).decode()
    for name, url in (("bearer", server.url), ("password", f"http://operator:{PASSWORD}@{host}")):
        report = tmp_path / name
        done = run_pytest(
            f"--stack-url={url}",
            f"--stack-token={alice}",
            "--stack-profile=core,abac",
            "--conformance-report",
            str(report),
            f"--junitxml={report / 'junit.xml'}",
            *NOISY,
            cwd=tmp_path,
            env={"LLAMA_STACK_TOKEN_ALT": bob},
        )
        assert done.returncode == 1, done.stdout[-3000:]
        assert verdicts(report)["CORE-HEALTH-001"] == "fail", done.stdout[-3000:]
        found = artifacts(report, done)
        assert {"junit.xml", "results.json", "report.html"} <= set(found)
        assert not leaks(found, [alice, bob, PASSWORD, basic]), leaks(found, [alice, bob, PASSWORD, basic])
        assert "***" in found["results.json"], "the echoed credential should show as masked"
    # The curl lines name variables, never values.
    assert "$LLAMA_STACK_URL" in (tmp_path / "password" / "results.json").read_text()
    assert "$LLAMA_STACK_TOKEN" in (tmp_path / "bearer" / "results.json").read_text()


def test_scenario_secrets_stay_out_of_reports_and_kept_logs(tmp_path: Path) -> None:
    report = tmp_path / "report"
    done = run_pytest(
        CHECKS,
        *defect_launcher("echoes-credentials"),
        "--stack-requirement=CORE-HEALTH-001,REG-TOKEN-001",
        "--conformance-report",
        str(report),
        f"--junitxml={report / 'junit.xml'}",
        *NOISY,
    )
    assert done.returncode == 1, done.stdout[-3000:]
    found = artifacts(report, done)
    logs = [name for name in found if name.startswith("servers/")]
    assert any(name.endswith(".stderr") for name in logs), f"no server log kept: {sorted(found)}"
    assert not leaks(found, [SCENARIO_SECRET]), leaks(found, [SCENARIO_SECRET])
    assert "VLLM_API_TOKEN=***" in "".join(found[name] for name in logs)


def test_reprs_of_the_suites_objects_hold_no_secret() -> None:
    """The second line of defence: what pytest prints of a fixture never holds a credential."""
    code = (
        "from conformance.http import StackClient\n"
        f"c = StackClient('http://u:{PASSWORD}@127.0.0.1:9', {{'primary': 'tok-MARKER-123'}})\n"
        "print(repr(c), repr(c.recorder([])))\n"
    )
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "tok-MARKER-123" not in shown and PASSWORD not in shown, shown


def test_each_check_links_the_logs_of_the_servers_it_used(tmp_path: Path) -> None:
    """The evidence behind a launched verdict is one link away, and only this run's is kept."""
    report = tmp_path / "report"
    stale = report / "servers" / "from-an-earlier-run"
    stale.mkdir(parents=True)
    done = run_pytest(
        CHECKS, *defect_launcher("none"), "--stack-requirement=CFG-ENV-001", "--conformance-report", str(report)
    )
    assert done.returncode == 0, done.stdout[-3000:]
    [check] = [c for r in json.loads((report / "results.json").read_text())["requirements"] for c in r["checks"]]
    [link] = check["server_logs"]
    assert link.startswith("servers/env-grammar-"), check
    assert any((report / link).glob("server-env-grammar.std*")), sorted((report / link).iterdir())
    assert not stale.exists(), "an earlier run's server logs were left beside this run's"
