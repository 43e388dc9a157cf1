"""Forged JWTs: the ways a token can be made to look valid without the issuer's private key.

One module for both users of forgeries: the fake issuer mints them on request for the launched
checks, and the URL-mode checks derive them from the deployment's own token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64url_json(part: str) -> dict[str, Any]:
    try:
        value = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _segment(value: dict[str, Any]) -> str:
    return b64url(json.dumps(value).encode())


def jwt_parts(token: str) -> tuple[dict[str, Any], dict[str, Any], str] | None:
    """(header, claims, signature) of a JWS compact token, or None for an opaque token."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    header, claims = _b64url_json(parts[0]), _b64url_json(parts[1])
    return (header, claims, parts[2]) if header.get("alg") else None


def unsigned(header: dict[str, Any], claims: dict[str, Any]) -> str:
    """``alg: none`` and no signature."""
    return f"{_segment({**header, 'alg': 'none'})}.{_segment(claims)}."


def hs256_keyed_with(public_pem: bytes, header: dict[str, Any], claims: dict[str, Any]) -> str:
    """HS256 with the issuer's *public* key as the secret: algorithm confusion, which a verifier
    that lets the token choose its algorithm accepts."""
    body = f"{_segment({**header, 'alg': 'HS256'})}.{_segment(claims)}"
    return f"{body}.{b64url(hmac.new(public_pem, body.encode(), hashlib.sha256).digest())}"


def with_claims(token: str, claims: dict[str, Any]) -> str:
    """Other claims under the token's original header and signature."""
    head, _body, signature = token.split(".")
    return f"{head}.{_segment(claims)}.{signature}"


def with_header(token: str, header: dict[str, Any]) -> str:
    """Another header (another ``kid``, say) over the token's original claims and signature."""
    _head, body, signature = token.split(".")
    return f"{_segment(header)}.{body}.{signature}"


def signature_altered(token: str) -> str:
    """One byte in the middle of the signature flipped."""
    head, body, signature = token.split(".")
    raw = bytearray(base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)))
    raw[len(raw) // 2] ^= 0xFF
    return f"{head}.{body}.{b64url(bytes(raw))}"
