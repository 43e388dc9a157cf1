"""The server's own HTTP clients: TLS settings built only where TLS is spoken."""

from __future__ import annotations

import ssl

import pytest

from reference_server.api.limits import frames_body
from reference_server.http_clients import tls_for


def test_plain_http_gets_no_tls_settings_whatever_was_configured() -> None:
    assert tls_for("http://127.0.0.1:11434", True) is False
    assert tls_for("HTTP://backend:8000/v1", "/etc/ca.pem") is False


def test_https_with_default_verification_shares_one_verifying_context() -> None:
    first, second = tls_for("https://issuer.example/jwks", True), tls_for("https://other.example", True)
    assert isinstance(first, ssl.SSLContext) and first is second
    assert first.verify_mode == ssl.CERT_REQUIRED and first.check_hostname


@pytest.mark.parametrize("verify", [False, "/etc/ca.pem"])
def test_https_keeps_an_explicit_setting(verify: bool | str) -> None:
    assert tls_for("https://issuer.example/jwks", verify) == verify


@pytest.mark.parametrize(
    ("headers", "framed"),
    [
        ([], False),
        ([(b"content-length", b"0")], False),
        ([(b"content-length", b"12")], True),
        ([(b"transfer-encoding", b"chunked")], True),
        ([(b"host", b"x"), (b"content-length", b" 0 ")], False),
    ],
)
def test_a_body_is_read_only_when_the_request_frames_one(headers: list[tuple[bytes, bytes]], framed: bool) -> None:
    assert frames_body({"headers": headers}) is framed
