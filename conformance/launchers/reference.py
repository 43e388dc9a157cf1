"""The embedded reference server, started on port 0: it announces its URL once it serves."""

from __future__ import annotations

import sys
from pathlib import Path

from conformance.generation import REFERENCE
from conformance.launchers.base import Launcher
from loopback_serving import announcement

# What the reference server prints once it serves (reference_server/cli.py announces it).
REFERENCE_READY = announcement("reference_server")


class ReferenceLauncher(Launcher):
    name = "reference"
    dialect = "reference"
    generation = REFERENCE
    ready_line = REFERENCE_READY

    def command(self, config: Path) -> tuple[list[str], int | None]:
        # Port 0 and the readiness line: no port race, no polling.
        return [sys.executable, "-m", "reference_server", "run", str(config), "--port", "0"], None
