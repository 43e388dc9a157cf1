"""Launchers for real releases: install one from PyPI into a cached virtual environment, then run it.

Which releases exist, how to install them and how to start them is data
(``fixtures/releases.yaml``); this module only knows how to honour it. An environment is built
once per (release, package list, Python) and reused by every later run; a lock file keeps two
runs (or two tox environments) from building the same one at once. When a release cannot be
installed here (no suitable Python, no network), the launcher is *unavailable*: the run says so
in one line and every check that needs it is not evaluated, instead of failing.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from conformance.generation import Generation, from_version, parse_version
from conformance.launchers import tiktoken_cache
from conformance.launchers.base import Launcher
from conformance.launchers.process import LaunchError, free_port

INSTALL_TIMEOUT_S = 1200
READY = ".conformance-ready"
# What pip resolved in the environment, kept beside it: verdicts depend on these versions
# (PyJWT's key refetch, numpy's loading of a saved index), so every report names them.
FREEZE = ".conformance-freeze"


@dataclass(frozen=True)
class Release:
    name: str
    description: str
    version: str
    dialect: str
    fallback_dialects: tuple[str, ...]
    pythons: tuple[str, ...]
    packages: tuple[str, ...]
    command: tuple[str, ...]
    env: dict[str, str] = field(default_factory=dict)
    # A pip constraints file with the release's whole dependency set, so that its verdicts do not
    # drift with whatever is newest on PyPI on the day a cache is built.
    constraints: Path | None = None
    # tiktoken encodings the release downloads at start-up (tiktoken_cache.py builds them offline-safe)
    tiktoken_encodings: tuple[str, ...] = ()


def load_releases(path: Path) -> dict[str, Release]:
    """The releases a file names; ValueError, naming the file and the release, for a bad one."""
    if not path.exists():
        return {}
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: not valid YAML: {str(exc).splitlines()[0]}") from None
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: expected a mapping of release names to releases")
    return {str(name): _release(str(name), entry, path) for name, entry in raw.items()}


def _strings(entry: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = entry.get(key) or []
    if not isinstance(value, list) or not all(isinstance(item, str | int | float) for item in value):
        raise ValueError(f"{where}: {key} must be a list of strings")
    return tuple(str(item) for item in value)


def _pythons(entry: dict[str, Any], where: str) -> tuple[str, ...]:
    # Quoted on purpose: YAML reads an unquoted 3.10 as the number 3.1.
    pythons = entry.get("python")
    if not isinstance(pythons, list) or not pythons or not all(isinstance(p, str) for p in pythons):
        raise ValueError(f'{where}: python must be a list of quoted minor versions, e.g. ["3.12", "3.13"]')
    return tuple(pythons)


def _env(entry: dict[str, Any], where: str) -> dict[str, str]:
    env = entry.get("env") or {}
    if not isinstance(env, dict):
        raise ValueError(f"{where}: env must be a mapping of variable names to values")
    return {str(k): str(v) for k, v in env.items()}


def _constraints(entry: dict[str, Any], where: str, path: Path) -> Path | None:
    if "constraints" not in entry:
        return None
    constraints = (path.parent / str(entry["constraints"])).resolve()
    if not constraints.is_file():
        raise ValueError(f"{where}: constraints {constraints} does not exist")
    return constraints


def _release(name: str, entry: Any, path: Path) -> Release:
    where = f"{path}: release {name!r}"
    if not isinstance(entry, dict):
        raise ValueError(f"{where}: expected a mapping")
    missing = [key for key in ("version", "dialect", "python", "packages", "command") if key not in entry]
    if missing:
        raise ValueError(f"{where}: missing {missing}")
    command = _strings(entry, "command", where)
    if "{config}" not in command or "{port}" not in command:
        raise ValueError(f"{where}: command must hold {{config}} and {{port}} as arguments of their own")
    return Release(
        name=name,
        description=str(entry.get("description", "")),
        version=str(entry["version"]),
        dialect=str(entry["dialect"]),
        fallback_dialects=_strings(entry, "fallback_dialects", where),
        pythons=_pythons(entry, where),
        packages=_strings(entry, "packages", where),
        command=command,
        env=_env(entry, where),
        constraints=_constraints(entry, where, path),
        tiktoken_encodings=_strings(entry, "tiktoken_encodings", where),
    )


def cache_root() -> Path:
    if override := os.environ.get("LLAMA_STACK_CONFORMANCE_CACHE"):
        return Path(override)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "llama-stack-conformance"


def _minor_of(python: str) -> str | None:
    try:
        done = subprocess.run(
            [python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def find_python(minors: tuple[str, ...]) -> str | None:
    """An interpreter of one of these minor versions: on PATH, or installed by pyenv or uv.

    Each candidate is asked for its version, because a pyenv shim can exist for a version that
    is not installed, and answers with an error."""
    candidates: list[str] = []
    for minor in minors:
        if found := shutil.which(f"python{minor}"):
            candidates.append(found)
        for root in (Path.home() / ".pyenv" / "versions", Path.home() / ".local" / "share" / "uv" / "python"):
            candidates += [str(p) for p in sorted(root.glob(f"*{minor}*/bin/python{minor}"), reverse=True)]
    for candidate in candidates:
        if _minor_of(candidate) in minors:
            return candidate
    return None


class ReleaseLauncher(Launcher):
    def __init__(self, release: Release, generation: Generation | None = None) -> None:
        self.release = release
        self.name = release.name
        self.dialect = release.dialect
        self.fallback_dialects = release.fallback_dialects
        version = parse_version(release.version)
        if generation is None and version is not None:
            generation = from_version(version, f"the version of release {release.name} in releases.yaml")
        self.generation = generation
        self.unavailable: str | None = None
        self._venv: Path | None = None

    def _digest(self, python_minor: str) -> str:
        constraints = self.release.constraints.read_text() if self.release.constraints else ""
        text = "\n".join([python_minor, *self.release.packages, constraints])
        return hashlib.sha256(text.encode()).hexdigest()[:12]

    def resolved(self) -> dict[str, str]:
        """Every package of the prepared environment and its version, as pip resolved them."""
        if self._venv is None or not (self._venv / FREEZE).exists():
            return {}
        pins = {}
        for line in (self._venv / FREEZE).read_text().splitlines():
            name, sep, version = line.partition("==")
            if sep:
                pins[name.strip()] = version.strip()
        return pins

    def prepare(self, install: bool) -> str | None:
        """Find or build the environment; return why the release is unavailable, or None.

        Only one process installs (``install=True``, the pytest controller); xdist workers only
        look for the finished environment."""
        python = find_python(self.release.pythons)
        if python is None:
            self.unavailable = (
                f"{self.name} needs Python {' or '.join(self.release.pythons)}; none found on PATH, "
                "under ~/.pyenv/versions or uv's pythons"
            )
            return self.unavailable
        minor = _minor_of(python) or "?"
        venv = cache_root() / "venvs" / f"{self.name}-py{minor}-{self._digest(minor)}"
        if (venv / READY).exists():
            self._venv = venv
            return self._prepare_tiktoken(install)
        if not install:
            failed = _beside(venv, ".failed")
            why = failed.read_text().strip() if failed.exists() else f"{venv} is not installed"
            self.unavailable = f"{self.name} could not be installed: {why}"
            return self.unavailable
        problem = self._install(python, venv)
        if problem is None:
            self._venv = venv
            return self._prepare_tiktoken(install)
        self.unavailable = f"{self.name} could not be installed: {problem}"
        return self.unavailable

    def _prepare_tiktoken(self, install: bool) -> str | None:
        encodings = self.release.tiktoken_encodings
        folder = tiktoken_folder()
        try:
            if install:
                tiktoken_cache.ensure(folder, encodings)
            elif not all(tiktoken_cache.cache_file(folder, name).exists() for name in encodings):
                raise tiktoken_cache.TiktokenCacheError(f"{folder} lacks {', '.join(encodings)}")
        except tiktoken_cache.TiktokenCacheError as exc:
            self.unavailable = f"{self.name} needs tiktoken's {', '.join(encodings)} at start-up: {exc}"
        return self.unavailable

    def _install(self, python: str, venv: Path) -> str | None:
        venv.parent.mkdir(parents=True, exist_ok=True)
        failed, log = _beside(venv, ".failed"), _beside(venv, ".log")
        with (venv.parent / f"{venv.name}.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # another run may be building it; wait, then reuse
            if (venv / READY).exists():
                return None
            shutil.rmtree(venv, ignore_errors=True)
            failed.unlink(missing_ok=True)
            pip = [str(venv / "bin" / "python"), "-m", "pip"]
            constrained = ["--constraint", str(self.release.constraints)] if self.release.constraints else []
            steps = [
                [python, "-m", "venv", str(venv)],
                [*pip, "install", "--quiet", *constrained, *self.release.packages],
            ]
            with log.open("w") as out:
                for argv in steps:
                    try:
                        done = subprocess.run(
                            argv, stdout=out, stderr=subprocess.STDOUT, timeout=INSTALL_TIMEOUT_S, check=False
                        )
                    except subprocess.TimeoutExpired:
                        return self._fail(failed, f"{' '.join(argv[:4])} took over {INSTALL_TIMEOUT_S} s")
                    if done.returncode != 0:
                        return self._fail(failed, f"{' '.join(argv[1:4])} exited {done.returncode}: {_last_line(log)}")
            frozen = subprocess.run(
                [*pip, "freeze"], capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S, check=False
            )
            (venv / FREEZE).write_text(frozen.stdout)
            (venv / READY).write_text(" ".join(self.release.packages) + "\n")
        return None

    @staticmethod
    def _fail(failed: Path, reason: str) -> str:
        failed.write_text(reason + "\n")
        return reason

    def command(self, config: Path) -> tuple[list[str], int | None]:
        if self._venv is None:
            raise LaunchError(self.unavailable or f"{self.name} was not prepared")
        port = free_port()
        argv = [part.replace("{config}", str(config)).replace("{port}", str(port)) for part in self.release.command]
        argv[0] = str(self._venv / "bin" / argv[0])
        return argv, port

    def environment(self, env: dict[str, str]) -> dict[str, str]:
        assert self._venv is not None
        merged = {**env, **self.release.env}
        merged["PATH"] = f"{self._venv / 'bin'}{os.pathsep}{env.get('PATH', os.defpath)}"
        merged["VIRTUAL_ENV"] = str(self._venv)
        if self.release.tiktoken_encodings:
            merged["TIKTOKEN_CACHE_DIR"] = str(tiktoken_folder())
        return merged


def tiktoken_folder() -> Path:
    return cache_root() / "tiktoken"


def _beside(venv: Path, suffix: str) -> Path:
    """``<venv>.failed``, ``<venv>.log`` (not Path.with_suffix: the name holds dots, py3.12)."""
    return venv.parent / f"{venv.name}{suffix}"


def _last_line(log: Path) -> str:
    lines = [line for line in log.read_text(errors="replace").splitlines() if line.strip()]
    meaningful = [line for line in lines if "ERROR" in line or "error" in line] or lines
    return meaningful[-1].strip()[:300] if meaningful else "no output"
