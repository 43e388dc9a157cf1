"""``oauth2_token``: JWTs verified against the issuer's JWKS with pyjwt.

* Only asymmetric algorithms are accepted, and only the one the key allows: ``alg: none`` and
  HS256 signed with the public key as a secret are refused by construction.
* Keys are fetched lazily, re-fetched after ``key_recheck_period`` and when a token names an
  unknown ``kid`` (at most every few seconds), so rotation needs no restart; if a re-fetch fails
  the keys already known keep working, and with no keys at all the answer is a 503.
* A verified token's principal is cached until the token expires (or the key recheck period
  ends, whichever is first), so the signature is checked once per token, not per request.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import MutableMapping
from typing import Any

import httpx
import jwt

from reference_server.auth.config import OAuth2TokenConfig
from reference_server.auth.errors import INVALID_TOKEN, AuthFailure, AuthUnavailable
from reference_server.auth.principal import Principal, attributes_from_claims

log = logging.getLogger("reference_server.auth")

ALLOWED_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
# Unknown ``kid``s may trigger a re-fetch in a burst of 3, then one per 5 s: a rotated key is
# picked up on first use, and a stream of made-up kids cannot hammer the issuer.
REFETCH_BURST = 3.0
REFETCH_REFILL_S = 5.0
CACHE_SIZE = 10_000


class OAuth2TokenProvider:
    def __init__(self, config: OAuth2TokenConfig) -> None:
        assert config.jwks is not None
        self.config = config
        self.jwks = config.jwks
        self._keys: dict[str | None, jwt.PyJWK] = {}
        self._fetched_at = float("-inf")
        self._lock = asyncio.Lock()
        self._refetch_budget = REFETCH_BURST
        self._budget_at = time.monotonic()
        self._verdicts: OrderedDict[str, tuple[Principal, float]] = OrderedDict()

    def missing_credentials_message(self) -> str:
        where = f" from {self.config.issuer}" if self.config.issuer else ""
        return f"Authentication required: send a valid OAuth2 Bearer token{where} in the Authorization header"

    async def _fetch(self) -> None:
        headers = {"Authorization": f"Bearer {self.jwks.token}"} if self.jwks.token else {}
        verify: bool | str = self.config.tls_cafile or self.config.verify_tls
        try:
            async with httpx.AsyncClient(timeout=5.0, verify=verify) as client:
                answer = await client.get(self.jwks.uri, headers=headers)
            answer.raise_for_status()
            keyset = jwt.PyJWKSet.from_dict(answer.json())
        except (httpx.HTTPError, ValueError, jwt.PyJWTError) as exc:
            if self._keys:
                log.warning("re-fetching %s failed (%s); keeping the keys already known", self.jwks.uri, exc)
                self._fetched_at = time.monotonic()  # do not hammer a failing issuer
                return
            raise AuthUnavailable(
                f"Authentication service unavailable: cannot fetch keys from {self.jwks.uri}"
            ) from None
        self._keys = {key.key_id: key for key in keyset.keys}
        self._fetched_at = time.monotonic()

    def _may_refetch_for_unknown_kid(self) -> bool:
        now = time.monotonic()
        self._refetch_budget = min(REFETCH_BURST, self._refetch_budget + (now - self._budget_at) / REFETCH_REFILL_S)
        self._budget_at = now
        if self._refetch_budget >= 1.0:
            self._refetch_budget -= 1.0
            return True
        return False

    async def _key_for(self, kid: str | None) -> jwt.PyJWK:
        async with self._lock:
            stale = time.monotonic() - self._fetched_at > self.jwks.key_recheck_period
            if stale or (
                kid not in self._keys and (kid is not None or not self._keys) and self._may_refetch_for_unknown_kid()
            ):
                await self._fetch()
        if kid is None and len(self._keys) == 1:
            return next(iter(self._keys.values()))
        key = self._keys.get(kid)
        if key is None:
            raise AuthFailure(INVALID_TOKEN)
        return key

    async def authenticate(self, token: str, _scope: MutableMapping[str, Any]) -> Principal:
        cached = self._verdicts.get(token)
        if cached is not None and cached[1] > time.time():
            return cached[0]
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise AuthFailure(INVALID_TOKEN) from None
        algorithm = header.get("alg")
        if algorithm not in ALLOWED_ALGORITHMS:
            raise AuthFailure(INVALID_TOKEN)
        key = await self._key_for(header.get("kid"))
        if key.algorithm_name and key.algorithm_name != algorithm:
            raise AuthFailure(INVALID_TOKEN)
        try:
            claims = jwt.decode(
                token,
                key.key,
                algorithms=[algorithm],
                audience=self.config.audience,
                issuer=self.config.issuer,
                options={"require": ["exp", "aud", "sub"]},
            )
        except (jwt.PyJWTError, ValueError, TypeError):
            raise AuthFailure(INVALID_TOKEN) from None
        principal = Principal(str(claims["sub"]), attributes_from_claims(claims, self.config.claims_mapping))
        expires = min(float(claims["exp"]), time.time() + self.jwks.key_recheck_period)
        self._verdicts[token] = (principal, expires)
        if len(self._verdicts) > CACHE_SIZE:
            self._verdicts.popitem(last=False)
        return principal
