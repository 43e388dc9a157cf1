"""A release's environment is pinned by data, and what pip resolved is read back for the report."""

from __future__ import annotations

from pathlib import Path

from conformance.launchers.release import FREEZE, READY, ReleaseLauncher, load_releases

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
RELEASE = """\
pinned:
  version: "0.7.3"
  dialect: "0.7"
  python: ["3.12"]
  packages: [llama-stack==0.7.3]
  constraints: pins.txt
  command: [llama, stack, run, "{config}", --port, "{port}"]
"""


def test_every_shipped_release_is_pinned_to_a_full_dependency_set() -> None:
    for name, release in load_releases(FIXTURES / "releases.yaml").items():
        assert release.constraints is not None, f"{name} has no constraints file"
        pins = [line for line in release.constraints.read_text().splitlines() if line and not line.startswith("#")]
        assert pins and all("==" in line for line in pins), f"{release.constraints} holds unpinned lines"
        assert any(line.lower().startswith(("llama_stack==", "ogx==")) for line in pins), release.constraints


def test_the_constraints_are_part_of_the_environments_identity(tmp_path: Path) -> None:
    (tmp_path / "releases.yaml").write_text(RELEASE)
    (tmp_path / "pins.txt").write_text("numpy==2.4.6\n")
    before = ReleaseLauncher(load_releases(tmp_path / "releases.yaml")["pinned"])._digest("3.12")
    (tmp_path / "pins.txt").write_text("numpy==2.5.5\n")
    after = ReleaseLauncher(load_releases(tmp_path / "releases.yaml")["pinned"])._digest("3.12")
    assert before != after, "a changed pin must build a new environment, not reuse the old one"


def test_resolved_versions_are_read_from_the_kept_freeze(tmp_path: Path) -> None:
    (tmp_path / "releases.yaml").write_text(RELEASE)
    (tmp_path / "pins.txt").write_text("numpy==2.4.6\n")
    launcher = ReleaseLauncher(load_releases(tmp_path / "releases.yaml")["pinned"])
    venv = tmp_path / "venv"
    venv.mkdir()
    (venv / READY).write_text("llama-stack==0.7.3\n")
    (venv / FREEZE).write_text("PyJWT==2.15.1\nnumpy==2.4.6\n-e git+https://example.invalid/x#egg=x\n")
    launcher._venv = venv
    assert launcher.resolved() == {"PyJWT": "2.15.1", "numpy": "2.4.6"}
    assert launcher.generation is not None and "releases.yaml" in launcher.generation.describe()
