"""``custom``: the token is judged by an external endpoint, as the documentation page describes.

The endpoint gets ``{"api_key": token, "request": {"path", "headers", "params"}}`` (headers
without ``authorization``, ``cookie`` and ``proxy-authorization``) and answers 200 with
``access_attributes`` and/or ``principal``. Anything else is a 401; an endpoint that cannot be
reached, or whose whole answer takes longer than ``timeout_s``, is a 503. A 200 with no
attributes makes the token its own namespace (the documented rule); we store a digest of the
token instead of the token, so no secret lands in the registry.
"""

# Requirements (conformance/catalog.yaml): AUTH-CUSTOM-001, AUTH-CUSTOM-002, AUTH-CUSTOM-003

from __future__ import annotations

import hashlib
from collections.abc import MutableMapping
from typing import Any
from urllib.parse import parse_qs

import httpx

from reference_server import strict_json
from reference_server.auth.bounded_http import AnswerTooLarge, bounded_request
from reference_server.auth.config import CustomAuthConfig
from reference_server.auth.errors import AuthFailure, AuthUnavailable
from reference_server.auth.principal import Principal
from reference_server.http_clients import tls_for

CATEGORIES = ("roles", "teams", "projects", "namespaces")
# Credentials of the client's that are not the token: the validator judges the token and has no
# business with the caller's session cookie or its proxy password.
WITHHELD_HEADERS = frozenset({b"authorization", b"cookie", b"proxy-authorization"})


def token_digest(token: str) -> str:
    return "token-sha256:" + hashlib.sha256(token.encode()).hexdigest()[:32]


class CustomAuthProvider:
    def __init__(self, config: CustomAuthConfig) -> None:
        self.config = config

    def missing_credentials_message(self) -> str:
        return f"Authentication required: send your API key as a Bearer token (validated by {self.config.endpoint})"

    async def authenticate(self, token: str, scope: MutableMapping[str, Any]) -> Principal:
        headers = {
            key.decode("latin-1").lower(): value.decode("latin-1")
            for key, value in scope.get("headers", [])
            if key.lower() not in WITHHELD_HEADERS
        }
        params = parse_qs(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        payload = {"api_key": token, "request": {"path": scope.get("path", ""), "headers": headers, "params": params}}
        try:
            verify = tls_for(self.config.endpoint, True)
            async with httpx.AsyncClient(timeout=self.config.timeout_s, verify=verify) as client:
                status, content = await bounded_request(
                    client, "POST", self.config.endpoint, self.config.timeout_s, json=payload
                )
        except (TimeoutError, httpx.TimeoutException):
            raise AuthUnavailable("Authentication service timed out") from None
        except httpx.HTTPError:
            raise AuthUnavailable("Authentication service unavailable") from None
        except AnswerTooLarge:
            raise AuthFailure("Invalid authentication response format") from None
        if status != 200:
            raise AuthFailure(f"Authentication failed: the validator answered {status}")
        try:
            body = strict_json.loads(content)
        except ValueError:
            raise AuthFailure("Invalid authentication response format") from None
        if not isinstance(body, dict):
            raise AuthFailure("Invalid authentication response format")
        raw = body.get("access_attributes")
        principal = body.get("principal")
        if raw is None and not principal:
            raise AuthFailure("Invalid authentication response format")
        if (raw is not None and not isinstance(raw, dict)) or (
            principal is not None and not isinstance(principal, str)
        ):
            raise AuthFailure("Invalid authentication response format")
        attributes = {
            category: [str(v) for v in values]
            for category, values in (raw or {}).items()
            if category in CATEGORIES and isinstance(values, list) and values
        }
        if not attributes:
            attributes = {"namespaces": [token_digest(token)]}
        return Principal(str(principal) if principal else token_digest(token), attributes)
