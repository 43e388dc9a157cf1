"""The provider-author kit: a package's checks join the suite through the entry-point group."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.suite.harness import CHECKS, REPO, defect_launcher, run_pytest

EXAMPLE = REPO / "tests" / "example_provider"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example package installed as a user would (pip builds it and writes its entry point)."""
    target = tmp_path_factory.mktemp("site")
    build = tmp_path_factory.mktemp("build")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(target),
            str(EXAMPLE),
        ],
        check=True,
        cwd=build,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )
    return target


def run_with(site: Path, report: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_pytest(
        CHECKS,
        "--stack-profile=acme-provider",
        "--conformance-report",
        str(report),
        *args,
        env={"PYTHONPATH": str(site)},
    )


def test_extension_checks_run_under_their_own_profile(installed: Path, tmp_path: Path) -> None:
    done = run_with(installed, tmp_path, "--provider-id=ollama")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    doc = json.loads((tmp_path / "results.json").read_text())
    assert {e["id"]: (e["profile"], e["verdict"]) for e in doc["requirements"]} == {
        "ACME-PROVIDER-001": ("acme-provider", "pass"),
        "ACME-PROVIDER-002": ("acme-provider", "pass"),
    }
    assert doc["profiles"] == {"acme-provider": "conformant"}


def test_extension_checks_fail_against_the_matching_defect(installed: Path, tmp_path: Path) -> None:
    done = run_with(installed, tmp_path, "--provider-id=ollama", *defect_launcher("provider-unhealthy"))
    assert done.returncode == 1, done.stdout[-3000:]
    doc = json.loads((tmp_path / "results.json").read_text())
    verdicts = {e["id"]: e["verdict"] for e in doc["requirements"]}
    assert verdicts["ACME-PROVIDER-001"] == "fail" and verdicts["ACME-PROVIDER-002"] == "pass", verdicts


def test_provider_id_aims_the_extension(installed: Path, tmp_path: Path) -> None:
    done = run_with(installed, tmp_path, "--provider-id=no-such-provider")
    assert done.returncode == 1
    doc = json.loads((tmp_path / "results.json").read_text())
    assert {e["verdict"] for e in doc["requirements"]} == {"fail"}


def test_an_extension_may_not_take_a_suite_profile(installed: Path, tmp_path: Path) -> None:
    broken = tmp_path / "site"
    subprocess.run(["cp", "-r", str(installed), str(broken)], check=True)
    init = broken / "acme_conformance" / "__init__.py"
    init.write_text(init.read_text().replace('PROFILE = "acme-provider"', 'PROFILE = "core"'))
    done = run_with(broken, tmp_path / "report")
    assert done.returncode == 4, done.stdout[-2000:] + done.stderr[-2000:]
    assert "PROFILE must be a new profile name" in done.stderr and "Traceback" not in done.stderr


def test_an_extension_with_a_malformed_catalog_is_a_usage_error(installed: Path, tmp_path: Path) -> None:
    broken = tmp_path / "site"
    subprocess.run(["cp", "-r", str(installed), str(broken)], check=True)
    (broken / "acme_conformance" / "catalog.yaml").write_text("id: ACME-PROVIDER-001\n")
    done = run_with(broken, tmp_path / "report")
    assert done.returncode == 4, done.stdout[-2000:] + done.stderr[-2000:]
    assert "expected a list of requirements" in done.stderr and "Traceback" not in done.stderr
