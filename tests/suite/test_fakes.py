"""The fakes' own contract where the suite's clean-up depends on it."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from conformance.fakes.handle import FakeProcess


@pytest.mark.parametrize(
    ("kind", "steering", "request_args"),
    [
        ("ollama", {"latency_s": 60}, ("GET", "/api/tags")),
        ("validator", {"responses": {"slow": {"status": 200, "delay_s": 60}}}, ("POST", "/validate")),
    ],
)
def test_a_slow_answer_nobody_waits_for_does_not_hold_up_the_stop(
    kind: str, steering: dict[str, object], request_args: tuple[str, str], tmp_path: Path
) -> None:
    """A caller that gave up on a deliberately slow answer hangs up; the fake must then stop
    gracefully (exit 0), not sleep on until the suite's grace runs out and it is killed."""
    fake = FakeProcess(kind, tmp_path)
    try:
        fake.steer(**steering)
        method, path = request_args
        with pytest.raises(httpx.ReadTimeout):
            httpx.request(method, fake.url + path, json={"api_key": "slow"}, timeout=httpx.Timeout(5, read=0.5))
        assert fake.process is not None
        assert fake.process.stop(grace=5.0) == 0, fake.process.stderr_text()[-400:]
        assert "Traceback" not in fake.process.stderr_text()
    finally:
        fake.stop()
