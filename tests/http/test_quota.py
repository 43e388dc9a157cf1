"""Quota durability, exactness across processes, store failures, and Redis replicas."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from conformance.launchers.process import Exited, ManagedProcess, free_port
from tests.conftest import ServerFactory

QUOTA = """server:
  quota:
    kvstore: {kvstore}
    anonymous_max_requests: {limit}
    period: day
"""


def quota_config(servers: ServerFactory, limit: int, kvstore: str | None = None) -> Path:
    store = kvstore or f"{{type: sqlite, db_path: {servers.state}/quota.db}}"
    return servers.config(servers.minimal() + QUOTA.format(kvstore=store, limit=limit))


def statuses(url: str, count: int) -> list[int]:
    return [httpx.get(url + "/v1/models").status_code for _ in range(count)]


def test_counts_survive_kill_9(servers: ServerFactory) -> None:
    config = quota_config(servers, 3)
    first = servers.running(config)
    assert statuses(first.url, 3) == [200, 200, 200]
    os.kill(first.process.pid, signal.SIGKILL)
    first.process.popen.wait(timeout=10)
    assert statuses(servers.running(config).url, 1) == [429]


def test_two_processes_sharing_a_file_admit_exactly_the_limit(servers: ServerFactory) -> None:
    config = quota_config(servers, 25)
    urls = [servers.running(config).url, servers.running(config).url]
    with ThreadPoolExecutor(max_workers=10) as pool:
        answers = list(pool.map(lambda i: httpx.get(urls[i % 2] + "/v1/models", timeout=20).status_code, range(80)))
    assert answers.count(200) == 25 and answers.count(429) == 55, sorted(set(answers))


def test_a_locked_store_is_503_and_recovers(servers: ServerFactory) -> None:
    server = servers.running(quota_config(servers, 10))
    holder = sqlite3.connect(servers.state / "quota.db", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        answer = httpx.get(server.url + "/v1/models", timeout=20)
        assert answer.status_code == 503 and "quota.db" in answer.json()["error"]["message"]
    finally:
        holder.execute("COMMIT")
        holder.close()
    assert statuses(server.url, 1) == [200]


def test_unopenable_store_stops_start_up(servers: ServerFactory) -> None:
    (servers.tmp_path / "blocker").write_text("a file where a folder should be")
    config = quota_config(servers, 3, f"{{type: sqlite, db_path: {servers.tmp_path}/blocker/quota.db}}")
    outcome = servers.start(config)
    assert isinstance(outcome, Exited) and outcome.returncode == 1
    assert outcome.stderr.startswith("error: cannot open store") and "Traceback" not in outcome.stderr


def test_health_is_free_and_429_says_when(servers: ServerFactory) -> None:
    server = servers.running(quota_config(servers, 1))
    assert [httpx.get(server.url + "/v1/health").status_code for _ in range(3)] == [200, 200, 200]
    assert statuses(server.url, 2) == [200, 429]
    over = httpx.get(server.url + "/v1/models")
    assert over.json() == {"error": {"message": "Quota exceeded"}} and 0 < int(over.headers["retry-after"]) <= 86400


REDIS = shutil.which("redis-server")


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[tuple[str, int]]:
    if REDIS is None:
        pytest.skip("redis-server is not installed here (.ci/run installs it from Debian)")
    port = free_port()
    argv = [REDIS, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    process = ManagedProcess(argv, dict(os.environ), tmp_path, "redis")
    ready = process.wait_for_line("Ready to accept connections", 20, anywhere=True)
    assert not isinstance(ready, Exited), f"redis-server exited: {ready}"
    try:
        yield "127.0.0.1", port
    finally:
        process.stop()


def test_two_replicas_on_one_redis_enforce_one_limit(servers: ServerFactory, redis_url: tuple[str, int]) -> None:
    host, port = redis_url
    config = quota_config(servers, 7, f"{{type: redis, host: {host}, port: {port}, namespace: t}}")
    urls = [servers.running(config).url, servers.running(config).url]
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda i: httpx.get(urls[i % 2] + "/v1/models", timeout=20).status_code, range(30)))
    assert answers.count(200) == 7 and answers.count(429) == 23


def test_redis_down_is_503(servers: ServerFactory) -> None:
    pytest.importorskip("redis", reason="the redis client package is not installed")
    config = quota_config(servers, 7, f"{{type: redis, host: 127.0.0.1, port: {free_port()}}}")
    answer = httpx.get(servers.running(config).url + "/v1/models", timeout=20)
    assert answer.status_code == 503 and "Quota service unavailable" in answer.json()["error"]["message"]
