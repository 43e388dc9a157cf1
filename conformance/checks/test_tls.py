"""Profile ``core``, where a deployment speaks TLS: its port serves no plain HTTP beside it.

Against a URL only an ``https://`` one is judged; launched, the TLS scenario's port.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from conformance.outcomes import inconclusive, not_evaluated
from conformance.plugin import ScenarioAccess
from conformance.settings import Settings
from conformance.tls import plain_http_status

requirement = pytest.mark.requirement


def expect_no_plain_http(url: str, timeout: float) -> None:
    parts = urlsplit(url)
    host, port = parts.hostname or "", parts.port or 443
    try:
        status = plain_http_status(host, port, timeout)
    except OSError as exc:
        inconclusive(f"cannot connect to {host}:{port} to send it plain HTTP: {exc}")
    assert status is None or not 200 <= status < 300, (
        f"{host}:{port} serves plain HTTP beside TLS: an unencrypted GET /v1/health answered {status}"
    )


@requirement("CORE-TLS-001")
def test_url_https_port_serves_no_plain_http(stack_settings: Settings) -> None:
    if not (stack_settings.url or "").startswith("https://"):
        not_evaluated("needs an https:// --stack-url")
    expect_no_plain_http(stack_settings.url or "", stack_settings.request_timeout)


@requirement("CORE-TLS-001")
def test_https_scenario_serves_no_plain_http(scenarios: ScenarioAccess) -> None:
    expect_no_plain_http(scenarios.pool.shared("tls").url, scenarios.settings.request_timeout)
