"""A throwaway certificate authority for scenarios that speak TLS, and for the tests.

A scenario with ``tls: true`` gets a CA and a server certificate for 127.0.0.1 in its own
folder; the checks then trust exactly that CA, so a server that answers with any other
certificate (or none) fails the handshake instead of passing unverified.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

LOOPBACK = "127.0.0.1"


@dataclass(frozen=True)
class Pki:
    """A CA, a server certificate for 127.0.0.1 and a client certificate, as PEM files."""

    ca: Path
    server: tuple[Path, Path]
    client: tuple[Path, Path]


def make_pki(folder: Path, lifetime: dt.timedelta = dt.timedelta(hours=6)) -> Pki:
    folder.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC)

    def issue(cn: str, signer: tuple[x509.Name, Any] | None, *, ca: bool = False) -> tuple[Path, Path, Any]:
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
