"""Auth building blocks: claims mapping, the owner policy, and both providers against respx."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import jwt
import pytest
import respx

from conformance.fakes.jwks import SigningKey
from reference_server.auth.config import CustomAuthConfig, OAuth2TokenConfig
from reference_server.auth.custom_provider import CustomAuthProvider, token_digest
from reference_server.auth.errors import AuthFailure, AuthUnavailable
from reference_server.auth.jwt_provider import OAuth2TokenProvider
from reference_server.auth.principal import Principal, attributes_from_claims
from reference_server.resources.access import can_see

JWKS = "http://issuer.test/jwks"


def test_claims_mapping_splits_strings_and_merges_categories() -> None:
    claims = {"sub": "alice", "groups": ["a", "b"], "team": "c d", "username": "alice", "exp": 1}
    mapping = {"sub": "roles", "username": "roles", "groups": "teams", "team": "teams"}
    assert attributes_from_claims(claims, mapping) == {"roles": ["alice"], "teams": ["a", "b", "c", "d"]}


@pytest.mark.parametrize(
    ("viewer", "owner", "visible"),
    [
        (None, {"principal": "a", "attributes": {"teams": ["x"]}}, True),
        (Principal("b", {"teams": ["y"]}), None, True),
        (Principal("a", {}), {"principal": "a", "attributes": {}}, True),
        (Principal("b", {"teams": ["x"]}), {"principal": "a", "attributes": {"teams": ["x"]}}, True),
        (Principal("b", {"roles": ["x"]}), {"principal": "a", "attributes": {"teams": ["x"]}}, False),
        (Principal("b", {"teams": ["y"]}), {"principal": "a", "attributes": {"teams": ["x"]}}, False),
        (Principal("b", {}), {"principal": "a", "attributes": {}}, False),
    ],
)
def test_owner_policy(viewer: Principal | None, owner: dict[str, Any] | None, visible: bool) -> None:
    assert can_see(viewer, owner) is visible


def provider(**overrides: Any) -> OAuth2TokenProvider:
    config = {"jwks": {"uri": JWKS, "token": "jwks-secret"}, "issuer": "https://iss", **overrides}
    return OAuth2TokenProvider(OAuth2TokenConfig.model_validate(config))


def token(key: SigningKey, **claims: Any) -> str:
    body = {"sub": "alice", "aud": "llama-stack", "iss": "https://iss", "exp": int(time.time()) + 60, **claims}
    return jwt.encode(body, key.private, algorithm="RS256", headers={"kid": key.kid})


@respx.mock
async def test_jwks_token_is_sent_and_a_valid_token_passes() -> None:
    key = SigningKey("k1")
    route = respx.get(JWKS).mock(return_value=httpx.Response(200, json={"keys": [key.public_jwk()]}))
    principal = await provider().authenticate(token(key, groups=["t"]), {})
    assert principal == Principal("alice", {"roles": ["alice"], "teams": ["t"]})
    assert route.calls.last.request.headers["authorization"] == "Bearer jwks-secret"


@respx.mock
async def test_a_token_is_verified_once_then_served_from_the_cache() -> None:
    key = SigningKey("k1")
    route = respx.get(JWKS).mock(return_value=httpx.Response(200, json={"keys": [key.public_jwk()]}))
    checker, issued = provider(), token(key)
    for _ in range(3):
        await checker.authenticate(issued, {})
    assert route.call_count == 1 and len(checker._verdicts) == 1


@respx.mock
async def test_key_algorithm_must_match_the_token() -> None:
    key = SigningKey("k1")
    jwk = {**key.public_jwk(), "alg": "RS512"}
    respx.get(JWKS).mock(return_value=httpx.Response(200, json={"keys": [jwk]}))
    with pytest.raises(AuthFailure, match="Invalid JWT token"):
        await provider().authenticate(token(key), {})


@respx.mock
async def test_missing_audience_is_refused() -> None:
    key = SigningKey("k1")
    respx.get(JWKS).mock(return_value=httpx.Response(200, json={"keys": [key.public_jwk()]}))
    unaddressed = jwt.encode(
        {"sub": "a", "iss": "https://iss", "exp": int(time.time()) + 60},
        key.private,
        algorithm="RS256",
        headers={"kid": "k1"},
    )
    with pytest.raises(AuthFailure):
        await provider().authenticate(unaddressed, {})


@respx.mock
async def test_unreachable_jwks_without_keys_is_503() -> None:
    respx.get(JWKS).mock(side_effect=httpx.ConnectError("refused"))
    with pytest.raises(AuthUnavailable, match=JWKS):
        await provider().authenticate(token(SigningKey("k1")), {})


def test_introspection_is_refused_at_load_time() -> None:
    with pytest.raises(ValueError, match="introspection is not supported"):
        OAuth2TokenConfig.model_validate({"introspection": {"url": "http://x"}})


SCOPE = {"path": "/v1/models", "query_string": b"a=1", "headers": [(b"authorization", b"Bearer t"), (b"x-k", b"v")]}


@respx.mock
async def test_custom_without_attributes_makes_the_token_its_namespace() -> None:
    route = respx.post("http://validator.test/validate").mock(
        return_value=httpx.Response(200, json={"principal": "bob"})
    )
    checker = CustomAuthProvider(CustomAuthConfig(endpoint="http://validator.test/validate"))
    principal = await checker.authenticate("secret-token", SCOPE)
    assert principal == Principal("bob", {"namespaces": [token_digest("secret-token")]})
    assert "secret-token" not in json.dumps(principal.as_owner())
    sent = json.loads(route.calls.last.request.content)
    assert sent == {
        "api_key": "secret-token",
        "request": {"path": "/v1/models", "headers": {"x-k": "v"}, "params": {"a": ["1"]}},
    }


@respx.mock
async def test_custom_timeout_is_503() -> None:
    respx.post("http://validator.test/validate").mock(side_effect=httpx.ReadTimeout("slow"))
    checker = CustomAuthProvider(CustomAuthConfig(endpoint="http://validator.test/validate"))
    with pytest.raises(AuthUnavailable, match="timed out"):
        await checker.authenticate("t", SCOPE)
