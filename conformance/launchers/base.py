"""Launchers: the embedded reference server, or any command line with ``{config}`` and ``{port}``."""

from __future__ import annotations

import os
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

from conformance.generation import REFERENCE, Generation
from conformance.launchers.process import Exited, LaunchError, ManagedProcess, free_port
from loopback_serving import announcement

# What the reference server prints once it serves (reference_server/cli.py announces it).
REFERENCE_READY = announcement("reference_server")


@dataclass
class Running:
    url: str
    process: ManagedProcess

    def stop(self) -> int | None:
        return self.process.stop()


class Launcher:
    """Starts one implementation with a scenario's config and environment."""

    name: str
    dialect: str
    generation: Generation | None
    # Dialects read when a scenario has no config in ``dialect`` (OGX 1.x reads 0.7's).
    fallback_dialects: tuple[str, ...] = ()

    @property
    def dialects(self) -> tuple[str, ...]:
        return (self.dialect, *self.fallback_dialects)

    def command(self, config: Path) -> tuple[list[str], int | None]:
        raise NotImplementedError

    def environment(self, env: dict[str, str]) -> dict[str, str]:
        """The scenario's environment as this implementation needs it (a release adds its venv)."""
        return env

    def prepare(self, install: bool) -> str | None:
        """Get ready to launch; return why this launcher cannot, or None. Only releases need this."""
        return None

    def resolved(self) -> dict[str, str]:
        """The installed packages the launched servers run on, where the launcher built them."""
        return {}

    def launch(
        self, config: Path, env: dict[str, str], workdir: Path, label: str, timeout: float, *, scheme: str = "http"
    ) -> Running | Exited:
        """Start the implementation; ``scheme`` is what the config makes it speak (https with TLS)."""
        argv, port = self.command(config)
        process = ManagedProcess(argv, self.environment(env), workdir, label)
        if port is None:
            ready = process.wait_for_line(REFERENCE_READY, timeout)
        else:
            ready = process.wait_for_http(f"{scheme}://127.0.0.1:{port}/v1/health", timeout)
            ready = f"{scheme}://127.0.0.1:{port}" if isinstance(ready, str) else ready
        if isinstance(ready, Exited):
            return ready
        return Running(ready, process)


class ReferenceLauncher(Launcher):
    name = "reference"
    dialect = "reference"
    generation = REFERENCE

    def command(self, config: Path) -> tuple[list[str], int | None]:
        # Port 0 and the readiness line: no port race, no polling.
        return [sys.executable, "-m", "reference_server", "run", str(config), "--port", "0"], None


class CommandLauncher(Launcher):
    """A user's command template, e.g. ``llama stack run {config} --port {port}``."""

    def __init__(self, template: str, generation: Generation | None, dialect: str) -> None:
        if "{config}" not in template or "{port}" not in template:
            raise LaunchError(f"--stack-launcher {template!r} must contain both {{config}} and {{port}}")
        self.name = template
        self.template = template
        self.generation = generation
        self.dialect = dialect

    def command(self, config: Path) -> tuple[list[str], int | None]:
        port = free_port()
        text = self.template.replace("{config}", shlex.quote(str(config))).replace("{port}", str(port))
        # The server runs in its scenario's own folder, so relative paths the user wrote (the
        # program, a script) are made absolute from where the suite was started.
        argv = [
            os.path.abspath(arg) if "/" in arg and not Path(arg).is_absolute() and Path(arg).exists() else arg
            for arg in shlex.split(text)
        ]
        return argv, port


def dialect_for(generation: Generation | None) -> str:
    """Which fixture config a generation reads (files in ``fixtures/scenarios/<name>/``)."""
    if generation is None or generation.is_reference:
        return "reference"
    assert generation.version is not None
    if generation.version < (0, 2, 13):
        return "0.2.12"
    if generation.version < (0, 3, 0):
        return "0.2.15"
    return "0.7" if generation.version < (1, 0, 0) else "ogx-1"


def launcher_from_option(value: str | None, generation: Generation | None, fixtures: Path) -> Launcher:
    """``reference``, the name of a release in ``fixtures/releases.yaml``, or a command template."""
    from conformance.launchers.release import ReleaseLauncher, load_releases

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
