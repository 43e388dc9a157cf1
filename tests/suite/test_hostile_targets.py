"""The suite against targets built to hurt it: every run ends within its bounds, with verdicts
and reports, in bounded memory, and nothing a target sends is taken for a pass.

Each target answers ``GET /v1/version`` like a stack, so the checks run, and misbehaves
everywhere else.
"""

from __future__ import annotations

import resource
import subprocess
import time
from pathlib import Path

from tests.hostile_server import (
    CHUNKED_JSON,
    SSE,
    Behaviour,
    answer,
    answer_json,
    by_path,
    chunk,
    drip,
    endless,
    hostile,
    huge,
    nested,
)
from tests.suite.harness import run_pytest, verdicts

VERSION = {"/v1/version": answer_json({"version": "0.2.12"})}


def passes(report: Path) -> list[str]:
    """What passed besides the version check, the one route these targets answer properly."""
    return [rid for rid, verdict in verdicts(report).items() if verdict == "pass" and rid != "CORE-VERSION-001"]


# What a run of the suite may use at most, however large the target's answers (README).
MEMORY_CEILING_KB = 400_000


def run_against(behaviour: Behaviour, tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], float]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    with hostile(by_path(VERSION, behaviour)) as target:
        started = time.monotonic()
        done = run_pytest(
            f"--stack-url={target.url}", "--stack-profile=core", "--request-timeout=2",
            "--conformance-report", str(tmp_path / "report"), *args, cwd=tmp_path,
        )  # fmt: skip
        return done, time.monotonic() - started


def test_gigabyte_answers_fail_in_bounded_memory(tmp_path: Path) -> None:
    done, _ = run_against(huge(1 << 30), tmp_path, "-p", "no:xdist")
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    assert done.returncode == 1, done.stdout[-2000:] + done.stderr[-2000:]
    assert verdicts(tmp_path / "report") and not passes(tmp_path / "report")
    assert "is larger than 16777216 bytes" in (tmp_path / "report" / "results.json").read_text()
    assert peak_kb < MEMORY_CEILING_KB, f"the suite peaked at {peak_kb} kB"


def test_headers_that_never_end_are_bounded_by_the_request_timeout(tmp_path: Path) -> None:
    done, took = run_against(drip(b"HTTP/1.1 200 OK\r\nx-slow: ", every_s=0.2), tmp_path)
    assert done.returncode == 1 and "INTERNALERROR" not in done.stdout, done.stdout[-2000:]
    assert "no complete answer within 2 s" in (tmp_path / "report" / "results.json").read_text()
    assert took < 240, took


def test_endless_bodies_and_event_streams_are_bounded(tmp_path: Path) -> None:
    for name, behaviour in (
        ("body", endless(CHUNKED_JSON, chunk(b" " * 1024), pace_s=0.01)),
        ("events", endless(SSE, chunk(b'data: {"x": 1}\n\n'), pace_s=0.01)),
    ):
        done, took = run_against(behaviour, tmp_path / name)
        assert done.returncode == 1 and "INTERNALERROR" not in done.stdout, done.stdout[-2000:]
        assert not passes(tmp_path / name / "report"), name
        assert took < 240, (name, took)


def test_json_the_suite_cannot_hold_is_a_failure_never_a_crash_or_a_pass(tmp_path: Path) -> None:
    for name, body in (("deep", nested(100_000)), ("infinity", b'{"data": [{"identifier": "m", "x": Infinity}]}')):
        done, _ = run_against(answer(200, body), tmp_path / name)
        assert done.returncode == 1 and "INTERNALERROR" not in done.stdout + done.stderr, done.stdout[-2000:]
        result = verdicts(tmp_path / name / "report")
        assert result["CORE-MODELS-001"] == "fail", result
