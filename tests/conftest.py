"""Shared helpers for the project's own tests: start the reference server as a real process."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from conformance.fakes.handle import FakeProcess
from conformance.launchers.process import Exited, ManagedProcess
from conformance.launchers.reference import REFERENCE_READY
from tests.suite.harness import SERVE

# The example provider package holds suite checks, run by tests/suite/test_extensions.py through
# its entry point, never as the project's own tests.
collect_ignore = ["example_provider"]

# Property tests: a bounded, repeatable profile for CI and the default run; a long one locally
# with HYPOTHESIS_PROFILE=thorough.
settings.register_profile(
    "ci", max_examples=150, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
settings.register_profile(
    "thorough", max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

MINIMAL = """\
version: 2
image_name: test
apis: [inference]
providers:
  inference:
  - provider_id: ollama
    provider_type: remote::ollama
    config: {{url: "{ollama}"}}
metadata_store: {{type: sqlite, db_path: "{state}/registry.db"}}
"""


# Every API this server implements: faiss and sqlite-vec vector IO, a Llama Guard shield over the
# fake's guard model, files on localfs, an embedding model and a vector db from the config.
FULL = """\
version: 2
image_name: test
apis: [inference, vector_io, safety, files]
providers:
  inference:
  - provider_id: ollama
    provider_type: remote::ollama
    config: {{url: "{ollama}"}}
  vector_io:
  - provider_id: faiss
    provider_type: inline::faiss
    config: {{kvstore: {{type: sqlite, db_path: "{state}/faiss_store.db"}}}}
  - provider_id: sqlite-vec
    provider_type: inline::sqlite-vec
    config: {{db_path: "{state}/sqlite_vec.db"}}
  safety:
  - provider_id: llama-guard
    provider_type: inline::llama-guard
    config: {{excluded_categories: [S7]}}
  files:
  - provider_id: localfs
    provider_type: inline::localfs
    config: {{storage_dir: "{state}/files", metadata_store: {{type: sqlite, db_path: "{state}/files.db"}}}}
metadata_store: {{type: sqlite, db_path: "{state}/registry.db"}}
models:
- {{model_id: m, provider_model_id: llama3.2:3b}}
- {{model_id: e, provider_model_id: all-minilm:l6-v2, model_type: embedding, metadata: {{embedding_dimension: 384}}}}
- {{model_id: guard, provider_model_id: llama-guard3:1b}}
shields:
- {{shield_id: guard, provider_id: llama-guard}}
vector_dbs:
- {{vector_db_id: docs, embedding_model: e, provider_id: faiss}}
"""


@dataclass
class Server:
    url: str
    process: ManagedProcess


FAKE_OLLAMA_MODELS = ["llama3.2:3b", "all-minilm:l6-v2", "nomic-embed-text:latest", "llama-guard3:1b", "a", "b"]


class ServerFactory:
    def __init__(self, tmp_path: Path, ollama_url: str) -> None:
        self.tmp_path = tmp_path
        self.state = tmp_path / "state"
        self.ollama_url = ollama_url
        self._started: list[ManagedProcess] = []

    def minimal(self) -> str:
        return MINIMAL.format(state=self.state, ollama=self.ollama_url)

    def full(self) -> str:
        return FULL.format(state=self.state, ollama=self.ollama_url)

    def config(self, text: str | None = None, name: str = "run.yaml") -> Path:
        path = self.tmp_path / name
        path.write_text(text if text is not None else self.minimal(), encoding="utf-8")
        return path

    def start(
        self, config: Path, *args: str, env: dict[str, str] | None = None, defect: str | None = None
    ) -> Server | Exited:
        """The reference server on ``config``; with ``defect``, the variant of tests/defects/serve.py."""
        program = [str(SERVE), defect] if defect else ["-m", "reference_server", "run"]
        argv = [sys.executable, *program, str(config), *args]
        if "--port" not in args:
            argv += ["--port", "0"]
        full_env = {key: value for key, value in os.environ.items() if not key.startswith("CFG_")}
        full_env.update(env or {})
        process = ManagedProcess(argv, full_env, self.tmp_path, f"server-{len(self._started)}")
        self._started.append(process)
        ready = process.wait_for_line(REFERENCE_READY, 30)
        return ready if isinstance(ready, Exited) else Server(ready, process)

    def running(
        self, config: Path | None = None, *args: str, env: dict[str, str] | None = None, defect: str | None = None
    ) -> Server:
        outcome = self.start(config or self.config(), *args, env=env, defect=defect)
        assert isinstance(outcome, Server), f"server did not start: {outcome}"
        return outcome

    def stop_all(self) -> None:
        for process in self._started:  # all signalled first: they shut down side by side
            process.terminate()
        for process in self._started:
            process.stop()


def jwt_auth(jwks_uri: str, key_recheck_period: int | str = 3600) -> str:
    """A ``server:`` section with oauth2_token auth against ``jwks_uri`` (the fake issuer's name)."""
    return (
        "server:\n  auth:\n    provider_type: oauth2_token\n"
        f"    config: {{jwks: {{uri: '{jwks_uri}', key_recheck_period: {key_recheck_period}}}, "
        "issuer: 'https://issuer.conformance.test'}\n"
    )


@contextmanager
def running_fake(kind: str, folder: Path, **options: Any) -> Iterator[FakeProcess]:
    """A fake from conformance/fakes for one test, stopped by its PID afterwards."""
    process = FakeProcess(kind, folder, **options)
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture
def issuer(tmp_path: Path) -> Iterator[FakeProcess]:
    """The fake OAuth2 issuer (JWKS, token minting) for one test."""
    with running_fake("jwks", tmp_path / "issuer") as process:
        yield process


@pytest.fixture(scope="session")
def fake_ollama(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeProcess]:
    """One fake Ollama for the session; tests must not change what it serves."""
    fake = FakeProcess("ollama", tmp_path_factory.mktemp("fake-ollama"), models=FAKE_OLLAMA_MODELS)
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def servers(tmp_path: Path, fake_ollama: FakeProcess) -> Iterator[ServerFactory]:
    factory = ServerFactory(tmp_path, fake_ollama.url)
    try:
        yield factory
    finally:
        factory.stop_all()
