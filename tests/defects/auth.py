"""Defects of the auth profile (conformance/checks/test_auth.py): JWT, custom validator, public routes, ABAC."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs

import jwt
from cryptography.hazmat.primitives import serialization

import reference_server.auth.custom_provider as custom
from conformance.forgery import b64url
from reference_server.auth import jwt_provider, middleware
from reference_server.auth.errors import AuthFailure, AuthUnavailable
from reference_server.auth.principal import Principal
from reference_server.errors import StackError
from reference_server.resources import registry
from reference_server.resources.registry import ModelRegistry, ResourceRegistry
from tests.defects.patching import Apply
from tests.defects.registry import defect

OAuth2 = jwt_provider.OAuth2TokenProvider
Custom = custom.CustomAuthProvider


def rejects_everything(provider: type[Any], message: str) -> Apply:
    """An auth provider that refuses every token, good ones too."""

    def apply() -> None:
        async def authenticate(self: Any, token: str, scope: Any) -> Any:
            raise AuthFailure(message)

        provider.authenticate = authenticate

    return apply


def jwt_skips(check: str) -> Apply:
    """pyjwt told to skip one of its checks: ``verify_exp`` (expired tokens pass) or
    ``verify_signature`` (any token with the right claims passes)."""

    def apply() -> None:
        original = jwt.decode

        def decode(*args: Any, **kwargs: Any) -> Any:
            kwargs["options"] = {**(kwargs.get("options") or {}), check: False}
            return original(*args, **kwargs)

        jwt.decode = decode

    return apply


defect("jwt-rejects-everything", "AUTH-JWT-001")(rejects_everything(OAuth2, "Invalid JWT token"))
defect("jwt-accepts-expired", "AUTH-JWT-002")(jwt_skips("verify_exp"))
defect("jwt-signature-unchecked", "AUTH-JWT-002")(jwt_skips("verify_signature"))


@defect("jwt-algorithm-confusion", "AUTH-JWT-002")
def jwt_algorithm_confusion() -> None:
    """The token chooses its algorithm: HS256 is verified with the issuer's public key as the secret."""
    jwt_provider.ALLOWED_ALGORITHMS = frozenset({*jwt_provider.ALLOWED_ALGORITHMS, "HS256"})
    original_key_for, original_decode = OAuth2._key_for, jwt.decode

    async def key_for(self: Any, kid: Any) -> Any:
        return SimpleNamespace(key=(await original_key_for(self, kid)).key, algorithm_name=None)

    def decode(token: str, key: Any, *args: Any, **kwargs: Any) -> Any:
        if jwt.get_unverified_header(token).get("alg") != "HS256":
            return original_decode(token, key, *args, **kwargs)
        pem = key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        signing_input, _, signature = token.rpartition(".")
        if b64url(hmac.new(pem, signing_input.encode(), hashlib.sha256).digest()) != signature:
            raise jwt.InvalidSignatureError("bad HMAC")
        return original_decode(token, options={"verify_signature": False})

    OAuth2._key_for = key_for  # type: ignore[method-assign]
    jwt.decode = decode


def on_refusal(provider: type[Any], caught: type[Exception], handle: Callable[[str, Exception], Any]) -> Apply:
    """What the provider does when it refuses a token, replaced by ``handle(token, refusal)``."""

    def apply() -> None:
        original = provider.authenticate

        async def authenticate(self: Any, token: str, scope: Any) -> Any:
            try:
                return await original(self, token, scope)
            except caught as refusal:
                return handle(token, refusal)

        provider.authenticate = authenticate

    return apply


def _echo_the_token(token: str, refusal: Exception) -> Any:
    raise AuthFailure(f"Invalid JWT token: {token}") from None


# 0.2.12's message: ``Invalid JWT token: <token>``.
defect("jwt-echoes-the-token", "AUTH-JWT-002")(on_refusal(OAuth2, AuthFailure, _echo_the_token))


@defect("garbage-token-is-500", "AUTH-JWT-002")
def garbage_token_is_500() -> None:
    original = OAuth2.authenticate

    async def authenticate(self: Any, token: str, scope: Any) -> Any:
        if "." not in token:
            raise StackError("Internal server error")
        return await original(self, token, scope)

    OAuth2.authenticate = authenticate  # type: ignore[method-assign]


@defect("no-www-authenticate", "AUTH-JWT-003")
def no_www_authenticate() -> None:
    async def refuse(send: Any, status: int, message: str) -> None:
        body = json.dumps({"error": {"message": message}}).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    middleware.refuse = refuse


def _config_edited(provider: type[Any], edit: dict[str, Any]) -> Apply:
    """The provider is built from its config with ``edit`` applied: a setting read and then ignored."""

    def apply() -> None:
        original_init = provider.__init__

        def init(self: Any, config: Any) -> None:
            original_init(self, config.model_copy(update=edit))

        provider.__init__ = init

    return apply


@defect("keys-fetched-once", "AUTH-JWT-004")
def keys_fetched_once() -> None:
    """Keys fetched at the first token and never again, whatever key_recheck_period says."""
    original_init = OAuth2.__init__

    def init(self: Any, config: Any) -> None:
        original_init(self, config)
        self.jwks = self.jwks.model_copy(update={"key_recheck_period": 10**9})

    OAuth2.__init__ = init  # type: ignore[method-assign]
    OAuth2._may_refetch_for_unknown_kid = lambda self: False  # type: ignore[method-assign]


@defect("issuer-outage-is-500", "AUTH-JWT-005")
def issuer_outage_is_500() -> None:
    AuthUnavailable.status = 500


@defect("forgets-keys-on-outage", "AUTH-JWT-006")
def forgets_keys_on_outage() -> None:
    """Drop the keys when the re-fetch after key_recheck_period fails (llama-stack 0.2.12's way):
    a check that does not wait out the period cannot see it."""
    original_fetch = OAuth2._fetch

    async def fetch(self: Any) -> None:
        self._keys = {}
        await original_fetch(self)

    OAuth2._fetch = fetch  # type: ignore[method-assign]
    jwt_provider.CACHE_SIZE = 0  # no verdict outlives its request, so the lost keys show at once


@defect("jwks-token-not-sent", "AUTH-JWT-007")
def jwks_token_not_sent() -> None:
    """jwks.token is read and never sent: the key fetch goes out without Authorization."""
    original_init = OAuth2.__init__

    def init(self: Any, config: Any) -> None:
        original_init(self, config)
        self.jwks = self.jwks.model_copy(update={"token": None})

    OAuth2.__init__ = init  # type: ignore[method-assign]


# The issuer is verified against the system's CAs whatever tls_cafile says.
defect("tls-cafile-ignored", "AUTH-JWT-008")(_config_edited(OAuth2, {"tls_cafile": None}))


@defect("custom-params-not-lists", "AUTH-CUSTOM-001")
def custom_params_not_lists() -> None:
    custom.parse_qs = lambda query, keep_blank_values: {k: v[-1] for k, v in parse_qs(query, keep_blank_values).items()}


defect("custom-rejects-everything", "AUTH-CUSTOM-002")(rejects_everything(Custom, "Authentication failed"))


# A refusal by the validator lets the caller in as an anonymous principal.
defect("custom-refusals-pass", "AUTH-CUSTOM-003")(
    on_refusal(Custom, StackError, lambda token, refusal: Principal("anonymous"))
)


# Wait a minute for the validator: a slow answer is taken, however late.
defect("validator-waited-out", "AUTH-CUSTOM-003")(_config_edited(Custom, {"timeout_s": 60}))


@defect("one-namespace-for-all-tokens", "AUTH-CUSTOM-004")
def one_namespace_for_all_tokens() -> None:
    """Tokens without attributes all land in one namespace instead of one each."""
    custom.token_digest = lambda token: "token-sha256:everyone"


def public_routes(extra: frozenset[tuple[str, str]], replace: bool = False) -> Apply:
    def apply() -> None:
        middleware.PUBLIC = extra if replace else middleware.PUBLIC | extra

    return apply


defect("probes-need-tokens", "AUTH-PUBLIC-001")(public_routes(frozenset(), replace=True))
defect("listing-is-public", "AUTH-PUBLIC-002")(public_routes(frozenset({("GET", "/v1/models")})))


@defect("everyone-sees-everything", "ABAC-001", "ABAC-004", "ABAC-005")
def everyone_sees_everything() -> None:
    registry.can_see = lambda viewer, owner: True


@defect("delete-ignores-owner", "ABAC-002")
def delete_ignores_owner() -> None:
    original = ModelRegistry.unregister
    ModelRegistry.unregister = lambda self, identifier, viewer=None: original(self, identifier, None)  # type: ignore[method-assign]


@defect("owner-only", "ABAC-003")
def owner_only() -> None:
    """Only the principal who registered a resource sees it; shared attributes count for nothing."""
    registry.can_see = lambda viewer, owner: owner is None or viewer is None or viewer.id == owner.get("principal")


# tests/suite/test_negative_controls_url.py: caught because the owner lists before the stranger.
@defect("listing-cached-for-everyone", "ABAC-001")
def listing_cached_for_everyone() -> None:
    """The encoded listing is cached once for whoever asks first, until the next change."""
    original = ResourceRegistry.listing_body

    def listing_body(self: Any, viewer: Any = None) -> bytes:
        body = self._bodies.get("*")
        if body is None:
            body = self._bodies["*"] = original(self, viewer)
        return body  # type: ignore[no-any-return]

    ResourceRegistry.listing_body = listing_body  # type: ignore[method-assign]
