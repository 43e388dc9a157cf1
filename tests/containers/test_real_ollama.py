"""The registration behaviour against a real Ollama in a container (testcontainers).

Runs where a Docker engine answers (the GitHub workflow's containers job); elsewhere every test
here is skipped with one line saying why. The container pulls a small embedding model, so the
lane also needs the network Docker Hub and ollama.com are on.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import ServerFactory

PULLED = "all-minilm:l6-v2"


def _docker_problem() -> str | None:
    try:
        import docker

        docker.from_env().ping()
    except Exception as exc:
        return f"no Docker engine here ({type(exc).__name__}); the containers lane runs where one exists"
    return None


problem = _docker_problem()
pytestmark = pytest.mark.skipif(problem is not None, reason=problem or "")


@pytest.fixture(scope="module")
def real_ollama() -> Iterator[str]:
    from testcontainers.core.container import DockerContainer
    from testcontainers.core.waiting_utils import wait_for_logs

    with DockerContainer("ollama/ollama:latest").with_exposed_ports(11434) as container:
        wait_for_logs(container, "Listening on", timeout=120)
        url = f"http://{container.get_container_host_ip()}:{container.get_exposed_port(11434)}"
        pulled = httpx.post(f"{url}/api/pull", json={"model": PULLED, "stream": False}, timeout=600)
        pulled.raise_for_status()
        yield url


@pytest.fixture
def server_url(servers: ServerFactory, real_ollama: str) -> str:
    text = servers.minimal().replace(servers.ollama_url, real_ollama)
    return servers.running(servers.config(text)).url


def test_registering_a_pulled_model(server_url: str) -> None:
    body = {
        "model_id": "minilm",
        "provider_model_id": PULLED,
        "model_type": "embedding",
        "metadata": {"embedding_dimension": 384},
    }
    assert httpx.post(server_url + "/v1/models", json=body, timeout=30).status_code == 200
    answer = httpx.post(
        server_url + "/v1/inference/embeddings", json={"model_id": "minilm", "contents": ["hi"]}, timeout=120
    )
    assert answer.status_code == 200 and len(answer.json()["embeddings"][0]) == 384


def test_registering_a_model_ollama_lacks_names_what_it_has(server_url: str) -> None:
    answer = httpx.post(
        server_url + "/v1/models", json={"model_id": "ghost", "provider_model_id": "ghost:1b"}, timeout=30
    )
    assert answer.status_code == 400 and PULLED in answer.json()["error"]["message"]


def test_provider_health_is_ok(server_url: str) -> None:
    [provider] = httpx.get(server_url + "/v1/providers", timeout=30).json()["data"]
    assert provider["health"] == {"status": "OK"}
