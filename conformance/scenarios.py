"""Scenarios: named deployments that checks need, as data in ``fixtures/scenarios/``.

A scenario is a folder: ``scenario.yaml`` (description, environment, fakes to start) and one
run.yaml per config dialect (``reference.yaml``, ``0.2.12.yaml``, ...), or, under ``configs:``, a
path to a config shared with other scenarios (``reference: configs/starter.yaml``). The pool launches each
scenario once per session on first use, shares it between checks, and stops everything at the
end of the session.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from conformance.fakes.handle import FakeProcess
from conformance.gate import yaml_error
from conformance.launchers.base import Launcher, Running
from conformance.launchers.process import Exited, LaunchError
from conformance.outcomes import not_evaluated
from conformance.secrets import SECRETS
from conformance.tls import Pki, make_pki

# A wheel carries the fixtures inside the package (setup.py); a source tree has them beside it.
_PACKAGED = Path(__file__).resolve().parent / "fixtures"
DEFAULT_FIXTURES = _PACKAGED if _PACKAGED.is_dir() else Path(__file__).resolve().parent.parent / "fixtures"
# What a launched server inherits from the suite's environment; everything else is explicit.
INHERITED_ENV = ("PATH", "LANG", "LC_ALL", "TMPDIR", "PYTHONPATH", "VIRTUAL_ENV", "SYSTEMROOT")
# The tail of each launched process's output that the report keeps.
KEPT_LOG_BYTES = 1 << 20


@dataclass
class Scenario:
    name: str
    folder: Path
    description: str
    env: dict[str, str]
    fakes: dict[str, dict[str, Any]]
    # Dialect -> a config shared with other scenarios, relative to the fixtures folder.
    configs: dict[str, str] = field(default_factory=dict)
    # ``tls: true``: a throwaway CA and a certificate for 127.0.0.1 are made for each launch, named
    # by CONFORMANCE_TLS_CERTFILE / _KEYFILE / _CAFILE (for the server, or for a fake with tls).
    tls: bool = False
    # ``https: true``: the server itself speaks HTTPS with that certificate (implies tls).
    https: bool = False
    # The requirements whose checks launch it (data for a reader; tests/suite holds it true).
    requirements: tuple[str, ...] = ()

    def config_for(self, dialects: tuple[str, ...]) -> Path:
        """The config of the first of ``dialects`` (a release's own, then older ones it reads)."""
        for dialect in dialects:
            path = self.folder / f"{dialect}.yaml"
            if dialect in self.configs:
                path = self.folder.parent.parent / self.configs[dialect]
                if not path.exists():  # a mapping to nowhere is a fixture bug, not a missing dialect
                    not_evaluated(f"scenario {self.name!r}: configs.{dialect} names {path}, which does not exist")
            if path.exists():
                return path
        not_evaluated(f"scenario {self.name!r} has no config for dialect {' or '.join(dialects)} (in {self.folder})")


def load_scenario(fixtures: Path, name: str) -> Scenario:
    folder = fixtures / "scenarios" / name
    meta_path = folder / "scenario.yaml"
    if not meta_path.exists():
        not_evaluated(f"scenario {name!r} not found under {fixtures} (set --stack-fixtures)")
    try:
        meta = yaml.safe_load(meta_path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        not_evaluated(f"{meta_path}: not valid YAML: {yaml_error(exc)}")
    sections = {key: meta.get(key) or {} for key in ("env", "fakes", "configs")} if isinstance(meta, dict) else {}
    if not sections or not all(isinstance(value, dict) for value in sections.values()):
        not_evaluated(f"{meta_path}: expected a mapping whose env, fakes and configs are mappings")
    env = {str(k): "" if v is None else str(v) for k, v in sections["env"].items()}
    configs = {str(k): str(v) for k, v in sections["configs"].items()}
    tls, https = meta.get("tls", False), meta.get("https", False)
    if not isinstance(tls, bool) or not isinstance(https, bool):
        not_evaluated(f"{meta_path}: tls and https must be true or false")
    description = str(meta.get("description", ""))
    requirements = meta.get("requirements") or []
    if not isinstance(requirements, list) or not all(isinstance(r, str) for r in requirements):
        not_evaluated(f"{meta_path}: requirements must be a list of requirement ids")
    return Scenario(
        name, folder, description, env, dict(sections["fakes"]), configs, tls or https, https, tuple(requirements)
    )


@dataclass
class Launched:
    """A scenario that was started: either serving, or exited during start-up."""

    scenario: Scenario
    outcome: Running | Exited
    workdir: Path
    fakes: dict[str, FakeProcess] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    restarts: int = 0
    pki: Pki | None = None

    @property
    def url(self) -> str:
        if not isinstance(self.outcome, Running):
            raise AssertionError(
                f"scenario {self.scenario.name!r} did not start: exit {self.outcome.returncode}: "
                f"{self.outcome.stderr.strip()[-500:]}"
            )
        return self.outcome.url

    def terminate(self) -> None:
        """Signal the server and its fakes to stop, without waiting (`stop` waits)."""
        if isinstance(self.outcome, Running):
            self.outcome.process.terminate()
        for fake in self.fakes.values():
            fake.terminate()

    def stop(self) -> None:
        self.terminate()
        if isinstance(self.outcome, Running):
            self.outcome.stop()
        for fake in self.fakes.values():
            fake.stop()


def _scheme(scenario: Scenario) -> str:
    return "https" if scenario.https else "http"


class ScenarioPool:
    def __init__(self, launcher: Launcher, fixtures: Path, timeout: float, log_dir: Path | None = None) -> None:
        self.launcher = launcher
        self.fixtures = fixtures
        self.timeout = timeout
        self.log_dir = log_dir
        self._root = Path(tempfile.mkdtemp(prefix="conformance-"))
        self._shared: dict[str, Launched] = {}
        self._owned: list[Launched] = []
        # The kept-log folders of the servers the current check used (see `keep_logs`); the
        # `scenarios` fixture gives each check its own list, so a verdict links its evidence.
        self.used: list[str] = []

    def _use(self, launched: Launched) -> Launched:
        if launched.workdir.name not in self.used:
            self.used.append(launched.workdir.name)
        return launched

    def shared(self, name: str, extra_env: dict[str, str] | None = None) -> Launched:
        """The session's one instance of a scenario (with that environment), started on first use.

        Checks must not change a shared instance's state; those that do use `launch`."""
        key = name + "".join(f" {k}={v}" for k, v in sorted((extra_env or {}).items()))
        if key not in self._shared:
            self._shared[key] = self.launch(name, extra_env)
        return self._use(self._shared[key])

    def launch(self, name: str, extra_env: dict[str, str] | None = None) -> Launched:
        """A fresh instance, with its own state folder; stopped at the end of the session."""
        scenario = load_scenario(self.fixtures, name)
        config = scenario.config_for(self.launcher.dialects)
        workdir = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=self._root))
        env = {key: os.environ[key] for key in INHERITED_ENV if key in os.environ}
        home = workdir / "home"
        home.mkdir()
        env.update({"HOME": str(home), "SQLITE_STORE_DIR": str(workdir / "state")})
        pki = make_pki(workdir / "pki") if scenario.tls else None
        if pki is not None:
            env.update(
                {
                    "CONFORMANCE_TLS_CERTFILE": str(pki.server[0]),
                    "CONFORMANCE_TLS_KEYFILE": str(pki.server[1]),
                    "CONFORMANCE_TLS_CAFILE": str(pki.ca),
                }
            )
        fakes: dict[str, FakeProcess] = {}
        try:
            for fake_name, options in scenario.fakes.items():
                fake = FakeProcess(
                    str(options.get("kind", fake_name)),
                    workdir,
                    models=options.get("models"),
                    start=options.get("start", True),
                    label=fake_name,
                    tls=pki if options.get("tls") else None,
                )
                fakes[fake_name] = fake
                url_env = str(options.get("url_env", f"{fake_name.upper()}_URL"))
                env[url_env] = fake.url + str(options.get("url_suffix", ""))
            env.update(scenario.env)
            env.update(extra_env or {})
            SECRETS.add_environment(env)
            outcome = self.launcher.launch(
                config, env, workdir, f"server-{name}", self.timeout, scheme=_scheme(scenario)
            )
        except LaunchError:
            for fake in fakes.values():
                fake.stop()
            self.used.append(workdir.name)  # what the server printed before it failed is the evidence
            raise
        launched = Launched(scenario, outcome, workdir, fakes, env, pki=pki)
        self._owned.append(launched)
        return self._use(launched)

    def trusted_ca(self, url: str) -> Path | None:
        """The CA of the TLS scenario serving at ``url``: its clients verify against exactly that."""
        for launched in self._owned:
            if isinstance(launched.outcome, Running) and launched.outcome.url == url and launched.pki is not None:
                return launched.pki.ca
        return None

    def restart(self, launched: Launched) -> Launched:
        """Stop the server and start it again on the same state folder (its fakes keep running)."""
        if isinstance(launched.outcome, Running):
            launched.outcome.stop()
        launched.restarts += 1
        config = launched.scenario.config_for(self.launcher.dialects)
        label = f"server-{launched.scenario.name}-restart-{launched.restarts}"
        launched.outcome = self.launcher.launch(
            config, launched.env, launched.workdir, label, self.timeout, scheme=_scheme(launched.scenario)
        )
        return self._use(launched)

    def close(self) -> None:
        # Everything is signalled first and then waited for: stopped one by one, the forty-odd
        # servers and fakes of a full run took a second each, after the last check.
        for launched in self._owned:
            launched.terminate()
        for launched in self._owned:
            launched.stop()
        self._owned.clear()
        self._shared.clear()
        if self.log_dir is not None:
            self.keep_logs(self.log_dir)
        shutil.rmtree(self._root, ignore_errors=True)

    def keep_logs(self, log_dir: Path) -> None:
        """Copy what every launched server and fake printed into the report, secrets masked: the
        evidence behind a start-up verdict outlives the scenario's temporary folder."""
        for log in sorted(self._root.glob("*/*.std*")):
            if log.suffix not in (".stdout", ".stderr"):
                continue  # an empty log is kept too: a check links it, and "printed nothing" is evidence
            with log.open("rb") as handle:
                handle.seek(max(log.stat().st_size - KEPT_LOG_BYTES, 0))
                text = handle.read().decode("utf-8", "replace")
            target = log_dir / log.parent.name / log.name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(SECRETS.scrub(text), encoding="utf-8")
