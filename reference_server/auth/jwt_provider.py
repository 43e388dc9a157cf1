"""``oauth2_token``: JWTs verified against the issuer's JWKS with pyjwt.

* Only asymmetric algorithms are accepted, and only the one the key allows: ``alg: none`` and
  HS256 signed with the public key as a secret are refused by construction.
* Keys are fetched lazily, re-fetched after ``key_recheck_period`` and when a token names an
  unknown ``kid`` (at most every few seconds), so rotation needs no restart; if a re-fetch fails
  the keys already known keep working, and with no keys at all the answer is a 503.
* One fetch runs at a time, bounded in total time and size (`bounded_request`), and tokens whose
  key is already known never wait for it: a slow or hostile issuer can delay only the tokens
  that need a key it has not yet delivered. An answer that is not a key set is a failed fetch.
* A verified token's principal is cached until the token expires (or the key recheck period
  ends, whichever is first), so the signature is checked once per token, not per request.
"""

# Requirements (conformance/catalog.yaml): AUTH-JWT-001, AUTH-JWT-002, AUTH-JWT-004, AUTH-JWT-005,
#   AUTH-JWT-007, AUTH-JWT-008

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import MutableMapping
from typing import Any

import httpx
import jwt

from reference_server import strict_json
from reference_server.auth.bounded_http import AnswerTooLarge, bounded_request
from reference_server.auth.config import OAuth2TokenConfig
from reference_server.auth.errors import INVALID_TOKEN, AuthFailure, AuthUnavailable
from reference_server.auth.principal import Principal, attributes_from_claims
from reference_server.http_clients import tls_for

log = logging.getLogger("reference_server.auth")

ALLOWED_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
# Unknown ``kid``s may trigger a re-fetch in a burst of 3, then one per 5 s: a rotated key is
# picked up on first use, and a stream of made-up kids cannot hammer the issuer.
REFETCH_BURST = 3.0
REFETCH_REFILL_S = 5.0
CACHE_SIZE = 10_000
FETCH_DEADLINE_S = 5.0


class OAuth2TokenProvider:
    def __init__(self, config: OAuth2TokenConfig) -> None:
        assert config.jwks is not None
        self.config = config
        self.jwks = config.jwks
        self._keys: dict[str | None, jwt.PyJWK] = {}
        self._fetched_at = float("-inf")
        self._refresh: asyncio.Task[None] | None = None
        self._refetch_budget = REFETCH_BURST
        self._budget_at = time.monotonic()
        self._verdicts: OrderedDict[str, tuple[Principal, float]] = OrderedDict()

    def missing_credentials_message(self) -> str:
        where = f" from {self.config.issuer}" if self.config.issuer else ""
        return f"Authentication required: send a valid OAuth2 Bearer token{where} in the Authorization header"

    # Seam (tests/defects/seams.py): a negative control replaces this (keys forgotten when a re-fetch fails).
    async def _fetch(self) -> None:
        headers = {"Authorization": f"Bearer {self.jwks.token}"} if self.jwks.token else {}
        verify = tls_for(self.jwks.uri, self.config.tls_cafile or self.config.verify_tls)
        try:
            async with httpx.AsyncClient(timeout=FETCH_DEADLINE_S, verify=verify) as client:
                status, content = await bounded_request(client, "GET", self.jwks.uri, FETCH_DEADLINE_S, headers=headers)
            if status != 200:
                raise ValueError(f"the issuer answered {status}")
            document = strict_json.loads(content)
            if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
                raise ValueError("the answer is not a JWKS document ({'keys': [...]})")
            keyset = jwt.PyJWKSet.from_dict(document)
        except (TimeoutError, httpx.HTTPError, AnswerTooLarge, ValueError, TypeError, jwt.PyJWTError) as exc:
            if self._keys:
                log.warning("re-fetching %s failed (%s); keeping the keys already known", self.jwks.uri, exc)
                self._fetched_at = time.monotonic()  # do not hammer a failing issuer
                return
            log.warning("fetching keys from %s failed: %s", self.jwks.uri, exc or type(exc).__name__)
            raise AuthUnavailable(
                f"Authentication service unavailable: cannot fetch keys from {self.jwks.uri}"
            ) from None
        self._keys = {key.key_id: key for key in keyset.keys if isinstance(key.key_id, str | None)}
        self._fetched_at = time.monotonic()

    # Seam (tests/defects/seams.py): a negative control replaces this (keys never re-fetched).
    def _may_refetch_for_unknown_kid(self) -> bool:
        now = time.monotonic()
        self._refetch_budget = min(REFETCH_BURST, self._refetch_budget + (now - self._budget_at) / REFETCH_REFILL_S)
        self._budget_at = now
        if self._refetch_budget >= 1.0:
            self._refetch_budget -= 1.0
            return True
        return False

    # Seam (tests/defects/seams.py): a negative control replaces this (a key handed to pyjwt without its algorithm).
    async def _key_for(self, kid: str | None) -> jwt.PyJWK:
        stale = time.monotonic() - self._fetched_at > self.jwks.key_recheck_period
        known = kid in self._keys or (kid is None and len(self._keys) == 1)
        if stale or (not known and self._may_refetch_for_unknown_kid()):
            if self._refresh is None or self._refresh.done():
                self._refresh = asyncio.ensure_future(self._fetch())
            if not known or not self._keys:
                # Only a token that needs what the fetch brings waits for it (shielded: one
                # caller giving up must not cancel the fetch the others wait on).
                await asyncio.shield(self._refresh)
            else:
                self._refresh.add_done_callback(_log_failure)
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
        algorithm, kid = header.get("alg"), header.get("kid")
        if not isinstance(algorithm, str) or algorithm not in ALLOWED_ALGORITHMS or not isinstance(kid, str | None):
            raise AuthFailure(INVALID_TOKEN)
        key = await self._key_for(kid)
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
        subject = claims["sub"]
        if not isinstance(subject, str) or not subject.strip():
            raise AuthFailure(INVALID_TOKEN)  # an empty subject would be everyone's principal
        principal = Principal(subject, attributes_from_claims(claims, self.config.claims_mapping))
        # exp is an integer of any size (pyjwt checked it is in the future); compared, never
        # converted to a float, so 10**400 is simply "later than the recheck period".
        expires = min(claims["exp"], time.time() + self.jwks.key_recheck_period)
        self._verdicts[token] = (principal, expires)
        if len(self._verdicts) > CACHE_SIZE:
            self._verdicts.popitem(last=False)
        return principal


def _log_failure(task: asyncio.Task[None]) -> None:
    """A background refresh that failed with no keys to fall back on has already said why; the
    exception is retrieved here so asyncio does not report it as never retrieved."""
    if not task.cancelled():
        task.exception()
