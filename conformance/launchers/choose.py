"""The launcher an option names: ``reference``, a release of ``fixtures/releases.yaml``, or a
command template."""

from __future__ import annotations

from pathlib import Path

from conformance.generation import Generation
from conformance.launchers.base import Launcher
from conformance.launchers.command import CommandLauncher, dialect_for
from conformance.launchers.process import LaunchError
from conformance.launchers.reference import ReferenceLauncher
from conformance.launchers.release import ReleaseLauncher, load_releases


def launcher_from_option(value: str | None, generation: Generation | None, fixtures: Path) -> Launcher:
    """``reference``, the name of a release in ``fixtures/releases.yaml``, or a command template."""
    if value in (None, "", "reference"):
        return ReferenceLauncher()
    assert value is not None
    try:
        releases = load_releases(fixtures / "releases.yaml")
    except ValueError as exc:
        raise LaunchError(str(exc)) from None
    if value in releases:
        return ReleaseLauncher(releases[value], generation)
    if "{" not in value and " " not in value:
        raise LaunchError(
            f"--stack-launcher {value!r}: not 'reference', not a release of {fixtures / 'releases.yaml'} "
            f"({', '.join(releases) or 'none there'}), "
            "and not a command template with {config} and {port}"
        )
    return CommandLauncher(value, generation, dialect_for(generation))
