"""Authentication as the outermost layer: nothing runs, and nothing is counted, for a caller
who has not proven who they are (quota comes after it, unlike upstream).

``GET /v1/health`` and ``GET /v1/version`` stay public so probes work. Every refusal is
``{"error": {"message": ...}}`` with ``WWW-Authenticate: Bearer`` on 401, and never repeats
the token.
"""

# Requirements (conformance/catalog.yaml): AUTH-PUBLIC-002

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any, Protocol

from starlette.types import ASGIApp, Receive, Scope, Send

from reference_server.asgi_errors import send_error
from reference_server.auth.catalog import AUTH_PROVIDERS
from reference_server.auth.errors import AuthFailure
from reference_server.auth.principal import Principal
from reference_server.errors import StackError

PUBLIC = frozenset({("GET", "/v1/health"), ("GET", "/v1/version")})
MAX_TOKEN_LENGTH = 8192


class Authenticator(Protocol):
    def missing_credentials_message(self) -> str: ...

    async def authenticate(self, token: str, scope: MutableMapping[str, Any]) -> Principal: ...


async def refuse(send: Send, status: int, message: str) -> None:
    await send_error(
        send, status, message, [(b"www-authenticate", b'Bearer realm="llama-stack"')] if status == 401 else []
    )


class AuthMiddleware:
    def __init__(self, app: ASGIApp, authenticator: Authenticator) -> None:
        self.app = app
        self.authenticator = authenticator

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or (scope["method"], scope["path"]) in PUBLIC:
            await self.app(scope, receive, send)
            return
        header = next((v for k, v in scope["headers"] if k == b"authorization"), None)
        if header is None:
            await refuse(send, 401, self.authenticator.missing_credentials_message())
            return
        text = header.decode("latin-1")
        token = text[len("Bearer ") :].strip() if text.startswith("Bearer ") else ""
        if not token:
            await refuse(send, 401, "Invalid Authorization header: expected 'Bearer <token>'")
            return
        if len(token) > MAX_TOKEN_LENGTH:
            await refuse(send, 401, f"Invalid token: longer than {MAX_TOKEN_LENGTH} characters")
            return
        try:
            principal = await self.authenticator.authenticate(token, scope)
        except AuthFailure as exc:
            await refuse(send, 401, exc.message)
            return
        except StackError as exc:
            await refuse(send, exc.status, exc.message)
            return
        scope["principal"] = principal
        await self.app(scope, receive, send)


def build_authenticator(provider_type: str, config: Any) -> Authenticator:
    authenticator: Authenticator = AUTH_PROVIDERS[provider_type].build(config)
    return authenticator
