"""What a launcher is: it starts one implementation on a scenario's config and says where it serves.

The implementations are in `reference`, `command` and `release`; `choose` picks one from the option."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from conformance.generation import Generation
from conformance.launchers.process import Exited, ManagedProcess


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
    # What an implementation that picks its own port prints once it serves (see `command`).
    ready_line: str = ""

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
            ready = process.wait_for_line(self.ready_line, timeout)
        else:
            ready = process.wait_for_http(f"{scheme}://127.0.0.1:{port}/v1/health", timeout)
            ready = f"{scheme}://127.0.0.1:{port}" if isinstance(ready, str) else ready
        if isinstance(ready, Exited):
            return ready
        return Running(ready, process)
