"""The plugin in someone else's repository: inert until asked, and when asked it always runs the
checks, whatever that repository's pytest configuration says."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from conformance.cli import split_repeat
from tests.conftest import Server, ServerFactory
from tests.suite.harness import CHECKS, REPO, results, run_pytest, run_suite_command

SCRIPT = Path(sys.executable).with_name("llama-stack-conformance")
USER_TEST = "def test_users_own():\n    assert True\n"


@pytest.fixture
def user_repo(tmp_path: Path) -> Path:
    """A project with its own tests and a pytest configuration that the suite must not depend on."""
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_app.py").write_text(USER_TEST)
    (tmp_path / "pytest.ini").write_text("[pytest]\ntestpaths = tests\naddopts = --cov=app\n")
    return tmp_path


@pytest.fixture
def core_server(servers: ServerFactory) -> Server:
    text = (REPO / "fixtures" / "scenarios" / "core" / "reference.yaml").read_text()
    text = text.replace("${env.OLLAMA_URL}", servers.ollama_url).replace("${env.SQLITE_STORE_DIR}", str(servers.state))
    return servers.running(servers.config(text))


def test_an_unrelated_run_does_not_see_the_plugin(tmp_path: Path) -> None:
    """Installed, the plugin adds no header, no verdicts, no exit code to other projects' runs,
    even with a client application's LLAMA_STACK_URL in the environment."""
    (tmp_path / "test_app.py").write_text(USER_TEST)
    done = run_pytest(cwd=tmp_path, env={"LLAMA_STACK_URL": "http://127.0.0.1:9"})
    assert done.returncode == 0, done.stdout[-2000:]
    assert "llama-stack conformance" not in done.stdout and "1 passed" in done.stdout
    assert not (tmp_path / "conformance-report").exists()


def test_a_url_beside_testpaths_still_runs_the_checks(user_repo: Path, core_server: Server) -> None:
    (user_repo / "pytest.ini").write_text("[pytest]\ntestpaths = tests\n")
    done = run_pytest(f"--stack-url={core_server.url}", "--stack-requirement=CORE-HEALTH-001", cwd=user_repo)
    assert done.returncode == 0, done.stdout[-2000:]
    assert "verdict per requirement" in done.stdout and "CORE-HEALTH-001" in done.stdout


def test_explicit_paths_without_checks_are_never_green(user_repo: Path, core_server: Server) -> None:
    (user_repo / "pytest.ini").write_text("[pytest]\n")
    done = run_pytest(f"--stack-url={core_server.url}", "tests", cwd=user_repo)
    assert done.returncode == 5, done.stdout[-2000:]
    assert "conformance: no requirement was evaluated (no conformance check collected)" in done.stdout


def test_the_console_script_ignores_the_folders_pytest_config(user_repo: Path, core_server: Server) -> None:
    done = run_suite_command(
        [str(SCRIPT), f"--stack-url={core_server.url}", "--stack-requirement=CORE-HEALTH-001"],
        cwd=user_repo,
        env={"LLAMA_STACK_CONFORMANCE_REPORT": ""},  # empty counts as unset: the default folder
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "test_users_own" not in done.stdout and "CORE-HEALTH-001" in done.stdout
    assert "PytestAssertRewriteWarning" not in done.stdout + done.stderr
    # reports land in the documented default folder, under where the run started
    assert (user_repo / "conformance-report" / "results.json").exists()


@pytest.mark.parametrize(
    ("args", "repeat", "rest"),
    [
        (["--repeat", "2", "-q"], "2", ["-q"]),
        (["-q", "--repeat=3"], "3", ["-q"]),
        (["--stack-url=u"], None, ["--stack-url=u"]),
        (["--repeat"], "", []),
    ],
)
def test_repeat_in_both_spellings(args: list[str], repeat: str | None, rest: list[str]) -> None:
    assert split_repeat(args) == (repeat, rest)


@pytest.mark.parametrize("value", ["--repeat=0", "--repeat=x", "--repeat"])
def test_a_bad_repeat_is_a_usage_error(value: str, tmp_path: Path) -> None:
    done = run_suite_command([str(SCRIPT), value], cwd=tmp_path, timeout=60)
    assert done.returncode == 4 and "--repeat takes a positive number" in done.stderr, done.stderr


def test_checks_run_by_path_keep_the_projects_configuration(tmp_path: Path) -> None:
    """The console script's own configuration must not be picked up by ``pytest conformance/checks``."""
    done = run_pytest(CHECKS, "--stack-requirement=CORE-HEALTH-001", "--conformance-report", str(tmp_path))
    assert done.returncode == 0, done.stdout[-2000:]
    assert "configfile: pyproject.toml" in done.stdout, done.stdout[:1000]
    [entry] = results(tmp_path).values()
    assert entry["checks"][0]["id"].startswith("conformance/checks/test_core.py::"), entry
