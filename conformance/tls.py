"""A throwaway certificate authority for scenarios that speak TLS, and for the tests; and the
probe for plain HTTP on a TLS port.

A scenario with ``tls: true`` gets a CA and a server certificate for 127.0.0.1 in its own
folder; the checks then trust exactly that CA, so a server that answers with any other
certificate (or none) fails the handshake instead of passing unverified.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

LOOPBACK = "127.0.0.1"


@dataclass(frozen=True)
class Pki:
    """A CA, a server certificate for 127.0.0.1 and a client certificate, as PEM files."""

    ca: Path
    server: tuple[Path, Path]
    client: tuple[Path, Path]


def make_pki(folder: Path, lifetime: dt.timedelta = dt.timedelta(hours=6)) -> Pki:
    # Imported here: most runs launch no TLS scenario, and every pytest process imports this module.
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    folder.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC)

    def issue(cn: str, signer: tuple[Any, Any] | None, *, ca: bool = False) -> tuple[Path, Path, Any]:
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
        issuer_name, issuer_key = signer or (name, key)
        builder = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(issuer_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=1))
            .not_valid_after(now + lifetime)
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if cn == LOOPBACK:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(cn))]), critical=False
            )
        cert = builder.sign(issuer_key, hashes.SHA256())
        cert_path, key_path = folder / f"{cn}.pem", folder / f"{cn}.key"
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        pkcs8 = serialization.PrivateFormat.PKCS8
        key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, pkcs8, serialization.NoEncryption()))
        return cert_path, key_path, (name, key)

    ca_cert, _, ca_signer = issue("conformance-test-ca", None, ca=True)
    server_cert, server_key, _ = issue(LOOPBACK, ca_signer)
    client_cert, client_key, _ = issue("conformance-client", ca_signer)
    return Pki(ca_cert, (server_cert, server_key), (client_cert, client_key))


def plain_http_status(host: str, port: int, timeout: float) -> int | None:
    """The status a port answers a plain (unencrypted) HTTP request with, or None when it gives no
    HTTP answer at all (a TLS server drops the connection or answers with a TLS alert)."""
    deadline = time.monotonic() + timeout
    with socket.create_connection((host, port), timeout=timeout) as conn:
        conn.sendall(f"GET /v1/health HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        head = b""
        while b"\r\n" not in head and len(head) < 1024 and time.monotonic() < deadline:
            try:
                chunk = conn.recv(1024)
            except (TimeoutError, ConnectionError):
                break
            if not chunk:
                break
            head += chunk
    match = re.match(rb"HTTP/\d(?:\.\d)? (\d{3})", head)
    return int(match.group(1)) if match else None
