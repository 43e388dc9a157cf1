"""An https deployment: its certificate is verified, against the system's CAs or --stack-ca-file,
and never ignored; and its port serves no plain HTTP beside TLS."""

from __future__ import annotations

from pathlib import Path

from conformance.tls import make_pki
from tests.conftest import ServerFactory
from tests.dual_protocol import DualProtocolFront
from tests.suite.harness import run_pytest, verdicts

HEALTH = "--stack-requirement=CORE-HEALTH-001"


def https_server(servers: ServerFactory) -> tuple[str, Path]:
    pki = make_pki(servers.tmp_path / "pki")
    cert, key = pki.server
    text = servers.minimal() + f"server: {{tls_certfile: {cert}, tls_keyfile: {key}}}\n"
    return servers.running(servers.config(text)).url, pki.ca


def test_a_certificate_no_trusted_ca_signed_is_refused(servers: ServerFactory, tmp_path: Path) -> None:
    url, _ca = https_server(servers)
    done = run_pytest(f"--stack-url={url}", HEALTH, "--conformance-report", str(tmp_path / "r"))
    assert done.returncode == 3, done.stdout[-2000:] + done.stderr[-2000:]
    assert "CERTIFICATE_VERIFY_FAILED" in done.stderr and "--stack-ca-file" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


def test_the_private_ca_of_the_deployment_is_trusted_when_given(servers: ServerFactory, tmp_path: Path) -> None:
    url, ca = https_server(servers)
    done = run_pytest(
        f"--stack-url={url}", f"--stack-ca-file={ca}", HEALTH, "--conformance-report", str(tmp_path / "r")
    )
    assert done.returncode == 0, done.stdout[-3000:]
    assert verdicts(tmp_path / "r") == {"CORE-HEALTH-001": "pass"}


def test_a_ca_file_that_is_not_one_is_a_usage_error(servers: ServerFactory, tmp_path: Path) -> None:
    url, _ca = https_server(servers)
    for value, fragment in ((tmp_path / "nope.pem", "no such file"), (servers.config("not pem"), "not a PEM file")):
        done = run_pytest(f"--stack-url={url}", f"--stack-ca-file={value}", HEALTH)
        assert done.returncode == 4 and fragment in done.stderr, done.stderr
        assert "Traceback" not in done.stderr


def test_an_https_port_that_also_serves_plain_http_is_reported(servers: ServerFactory, tmp_path: Path) -> None:
    """CORE-TLS-001 in URL mode: passes on the reference server's TLS port, fails behind a front
    that answers both TLS and plain HTTP on one port."""
    url, ca = https_server(servers)
    front = DualProtocolFront(int(url.rsplit(":", 1)[1]))
    try:
        found = {}
        for name, target in (("direct", url), ("dual", f"https://127.0.0.1:{front.port}")):
            report = tmp_path / name
            done = run_pytest(
                f"--stack-url={target}", f"--stack-ca-file={ca}", "--stack-requirement=CORE-TLS-001,CORE-HEALTH-001",
                "--conformance-report", str(report),
            )  # fmt: skip
            found[name] = verdicts(report)
            assert "Traceback" not in done.stdout + done.stderr
    finally:
        front.stop()
    # the dual front passes TLS through untouched: only the plain-HTTP check tells them apart
    assert found == {
        "direct": {"CORE-TLS-001": "pass", "CORE-HEALTH-001": "pass"},
        "dual": {"CORE-TLS-001": "fail", "CORE-HEALTH-001": "pass"},
    }
