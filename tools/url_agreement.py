"""Does the suite judge a deployment the same from the outside as when it starts it itself?

    python tools/url_agreement.py llama-stack-0.2 [--managed reports/llama-stack-0.2/results.json]

Starts the ``certify-by-url`` scenario (JWT auth and a quota, on the fake issuer and fake Ollama)
with a launcher (the reference server, or a real release from fixtures/releases.yaml), then runs
the whole suite against its URL as an operator would: one token and a second one, the issuer's
JWKS, the run.yaml it was started on with its environment as an env file, and the quota budget.
Each requirement of the auth and quota profiles judged pass or fail in both that run and the
managed run (the release's results.json) must agree: the managed run judged them on the same
kind of config. The table lists every requirement judged both ways; the exit code is 1 when one
of those disagrees. The URL run's results.json is kept beside the managed one's, in
reports/<folder>-by-url/, where docs/matrix.md finds it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from conformance.catalog import load_catalog  # noqa: E402
from conformance.launchers.base import Running  # noqa: E402
from conformance.launchers.choose import launcher_from_option  # noqa: E402
from conformance.launchers.process import LaunchError  # noqa: E402
from conformance.scenarios import DEFAULT_FIXTURES, ScenarioPool, load_scenario  # noqa: E402

SCENARIO = "certify-by-url"
JUDGED = {"pass", "fail"}
# The profiles whose managed scenarios (auth-jwt, quota-jwt) this scenario mirrors; the other
# black-box profiles were judged on the core scenario, a different config, and are only listed.
SAME_CONFIG = {"auth-jwt", "abac", "quota"}
# Where each launcher's managed run keeps its results (the main job's, for the reference server).
MANAGED = {"reference": "conformance"}


def verdicts(results: Path) -> dict[str, str]:
    return {r["id"]: r["verdict"] for r in json.loads(results.read_text(encoding="utf-8"))["requirements"]}


def run_by_url(launcher_name: str, report: Path, workers: str) -> int:
    launcher = launcher_from_option(launcher_name, None, DEFAULT_FIXTURES)
    if why := launcher.prepare(install=True):
        sys.exit(f"url_agreement: {launcher_name} is unavailable: {why}")
    scenario = load_scenario(DEFAULT_FIXTURES, SCENARIO)
    budget = scenario.env["CONFORMANCE_QUOTA_AUTHENTICATED"]
    with tempfile.TemporaryDirectory(prefix="url-agreement-") as scratch:
        pool = ScenarioPool(launcher, DEFAULT_FIXTURES, 120, log_dir=report / "servers")
        try:
            launched = pool.launch(SCENARIO)
            if not isinstance(launched.outcome, Running):
                sys.exit(f"url_agreement: {launcher_name} did not start on {SCENARIO}: {launched.outcome}")
            issuer = launched.fakes["jwks"]
            env_file = Path(scratch) / "server.env"
            env_file.write_text("".join(f"{k}={v}\n" for k, v in sorted(launched.env.items())), encoding="utf-8")
            argv = [
                sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-n", workers,
                str(REPO / "conformance" / "checks"),
                f"--stack-url={launched.url}",
                f"--stack-config={scenario.config_for(launcher.dialects)}",
                f"--stack-env={env_file}",
                f"--stack-jwks-url={issuer.url}/jwks",
                f"--stack-quota-budget={budget}",
                "--request-timeout=30",
                f"--conformance-report={report}",
            ]  # fmt: skip
            env = {
                "LLAMA_STACK_TOKEN": issuer.mint(claims={"sub": "alice", "groups": ["team-a"]}),
                "LLAMA_STACK_TOKEN_ALT": issuer.mint(claims={"sub": "bob", "groups": ["team-b"]}),
            }
            return subprocess.run(argv, cwd=REPO, env={**os.environ, **env}, check=False).returncode
        except LaunchError as exc:
            sys.exit(f"url_agreement: {exc}")
        finally:
            pool.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("launcher", help="reference, or a release name from fixtures/releases.yaml")
    parser.add_argument("--managed", type=Path, help="the managed run's results.json (default reports/<launcher>/)")
    parser.add_argument("-n", dest="workers", default="2", help="xdist workers for the URL run (default 2)")
    args = parser.parse_args()
    managed_file = args.managed or REPO / "reports" / MANAGED.get(args.launcher, args.launcher) / "results.json"
    if not managed_file.is_file():
        sys.exit(f"url_agreement: no managed results at {managed_file}: run the suite with that launcher first")
    report = REPO / "reports" / f"{MANAGED.get(args.launcher, args.launcher)}-by-url"
    code = run_by_url(args.launcher, report, args.workers)
    print(f"url_agreement: the URL run exited {code}")
    managed, by_url = verdicts(managed_file), verdicts(report / "results.json")
    profile = {rid: requirement.profile for rid, requirement in load_catalog().items()}
    both = sorted(r for r in by_url if by_url[r] in JUDGED and managed.get(r) in JUDGED)
    disagree = [r for r in both if by_url[r] != managed[r] and profile[r] in SAME_CONFIG]
    print(f"{'requirement':<22} {'managed':<8} by URL")
    for rid in both:
        note = "" if by_url[rid] == managed[rid] else "   <- disagrees"
        if note and profile[rid] not in SAME_CONFIG:
            note = "   (differs: the managed run judged the core scenario, another config)"
        print(f"{rid:<22} {managed[rid]:<8} {by_url[rid]}{note}")
    only_url = sorted(r for r in by_url if by_url[r] in JUDGED and managed.get(r) not in JUDGED)
    compared = [r for r in both if profile[r] in SAME_CONFIG]
    print(
        f"{len(compared)} requirements of {', '.join(sorted(SAME_CONFIG))} judged both ways, {len(disagree)} disagree"
    )
    if only_url:
        print(f"judged by URL only: {', '.join(f'{r}={by_url[r]}' for r in only_url)}")
    return 1 if disagree else 0


if __name__ == "__main__":
    sys.exit(main())
