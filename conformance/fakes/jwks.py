"""A fake OAuth2 issuer: a JWKS endpoint, a token minter and key rotation.

``GET /jwks`` publishes the current keys (optionally only to callers that present
``required_token``). ``POST /_fake/mint`` returns a token, signed as asked: by the current key,
a retired one, or a key that was never published; with any claims, expiry, audience or issuer;
or broken on purpose (``alg: none``, HS256 keyed with the public key, a tampered payload, a
bad signature). ``POST /_fake/rotate`` publishes a new current key.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from conformance import forgery
from conformance.fakes.base import CONTROL_PREFIX, FakeState, RecordingMiddleware, control_routes

ISSUER = "https://issuer.conformance.test"
AUDIENCE = "llama-stack"


@dataclass
class SigningKey:
    kid: str
    private: rsa.RSAPrivateKey = field(default_factory=lambda: rsa.generate_private_key(65537, 2048))

    def public_jwk(self) -> dict[str, Any]:
        jwk: dict[str, Any] = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.private.public_key()))
        return {**jwk, "kid": self.kid, "alg": "RS256", "use": "sig"}

    def public_pem(self) -> bytes:
        return self.private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


@dataclass
class Issuer:
    published: list[SigningKey] = field(default_factory=lambda: [SigningKey("key-1")])
    unpublished: SigningKey = field(default_factory=lambda: SigningKey("never-published"))
    required_token: str | None = None
    rotations: int = 1

    @property
    def current(self) -> SigningKey:
        return self.published[-1]

    def rotate(self, retire_previous: bool) -> SigningKey:
        self.rotations += 1
        fresh = SigningKey(f"key-{self.rotations}")
        self.published = [fresh] if retire_previous else [*self.published, fresh]
        return fresh

    def mint(self, spec: dict[str, Any]) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": "alice",
            "iat": now,
            "exp": now + 3600,
            "jti": uuid.uuid4().hex,
        }
        if "expires_in" in spec:
            claims["exp"] = now + int(spec["expires_in"])
        if "not_before_in" in spec:
            claims["nbf"] = now + int(spec["not_before_in"])
        claims.update(spec.get("claims") or {})
        for name in spec.get("omit") or []:
            claims.pop(name, None)
        key = {"current": self.current, "unpublished": self.unpublished}.get(spec.get("key", "current"), self.current)
        if spec.get("key") == "first":
            key = self.published[0]
        kid = spec.get("kid", key.kid)
        style = spec.get("style", "valid")
        if style == "alg-none":
            return forgery.unsigned({"typ": "JWT", "kid": kid}, claims)
        if style == "hs256-public-key":
            return forgery.hs256_keyed_with(key.public_pem(), {"typ": "JWT", "kid": kid}, claims)
        token = jwt.encode(claims, key.private, algorithm="RS256", headers={"kid": kid} if kid else {})
        if style == "tampered":
            return forgery.with_claims(token, {**claims, "sub": "mallory", "groups": ["admins"]})
        if style == "bad-signature":
            return forgery.signature_altered(token)
        return token


def create_app(state: FakeState | None = None, issuer: Issuer | None = None) -> Starlette:
    state = state or FakeState()
    issuer = issuer or Issuer()

    async def keys(request: Request) -> Response:
        if issuer.required_token and request.headers.get("authorization") != f"Bearer {issuer.required_token}":
            return JSONResponse({"error": "unauthorized"}, status_code=401)
        return JSONResponse({"keys": [key.public_jwk() for key in issuer.published]})

    async def discovery(request: Request) -> Response:
        """OpenID Connect Discovery 1.0 §4: where this issuer publishes its keys."""
        base = str(request.base_url).rstrip("/")
        return JSONResponse({"issuer": base, "jwks_uri": f"{base}/jwks"})

    async def mint(request: Request) -> Response:
        spec = json.loads(await request.body() or b"{}")
        return JSONResponse({"token": issuer.mint(spec)})

    async def rotate(request: Request) -> Response:
        spec = json.loads(await request.body() or b"{}")
        fresh = issuer.rotate(bool(spec.get("retire_previous")))
        return JSONResponse({"kid": fresh.kid, "published": [k.kid for k in issuer.published]})

    async def require(request: Request) -> Response:
        issuer.required_token = json.loads(await request.body() or b"{}").get("token")
        return JSONResponse({"required_token": issuer.required_token})

    app = Starlette(
        routes=[
            Route("/jwks", keys),
            Route("/.well-known/openid-configuration", discovery),
            Route(CONTROL_PREFIX + "mint", mint, methods=["POST"]),
            Route(CONTROL_PREFIX + "rotate", rotate, methods=["POST"]),
            Route(CONTROL_PREFIX + "require-token", require, methods=["POST"]),
            *control_routes(state),
        ]
    )
    app.add_middleware(RecordingMiddleware, state=state)
    return app
