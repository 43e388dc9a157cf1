"""A user's own start command, a template with ``{config}`` and ``{port}``."""

from __future__ import annotations

import os
import shlex
from pathlib import Path

from conformance.generation import Generation
from conformance.launchers.base import Launcher
from conformance.launchers.process import LaunchError, free_port


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
    """Which fixture config a generation reads (files in ``fixtures/scenarios/<name>/``).

    llama-stack 0.2.13 to 0.2.x read the later placeholder grammar with 0.2.12's layout; no
    fixture is written in that dialect, so its scenarios are not evaluated, naming it."""
    if generation is None or generation.is_reference:
        return "reference"
    assert generation.version is not None
    if generation.version < (0, 2, 13):
        return "0.2.12"
    if generation.version < (0, 3, 0):
        return "0.2.13"
    return "0.7" if generation.version < (1, 0, 0) else "ogx-1"
