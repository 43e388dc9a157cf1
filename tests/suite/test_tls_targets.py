"""An https deployment: its certificate is verified, against the system's CAs or --stack-ca-file,
and never ignored."""

from __future__ import annotations

from pathlib import Path

from conformance.tls import make_pki
from tests.conftest import ServerFactory
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
