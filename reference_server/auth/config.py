"""The ``config`` of each ``server.auth`` provider type, validated when the run.yaml loads."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from reference_server.field_types import ExistingFile, HttpUrlText

DEFAULT_CLAIMS_MAPPING = {
    "sub": "roles",
    "username": "roles",
    "groups": "teams",
    "team": "teams",
    "project": "projects",
    "tenant": "namespaces",
    "namespace": "namespaces",
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True)


class JWKSConfig(_Strict):
    uri: HttpUrlText
    token: str | None = None
    # At most a year: beyond that no clock arithmetic is meaningful (10**400 used to be accepted
    # here and then overflow on every token).
    key_recheck_period: int = Field(default=3600, ge=1, le=365 * 24 * 3600)


class OAuth2TokenConfig(_Strict):
    jwks: JWKSConfig | None = None
    introspection: dict[str, Any] | None = None
    audience: str = "llama-stack"
    issuer: str | None = None
    claims_mapping: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_CLAIMS_MAPPING))
    verify_tls: bool = True
    tls_cafile: ExistingFile | None = None

    @model_validator(mode="after")
    def _jwks_only(self) -> OAuth2TokenConfig:
        if self.introspection is not None:
            raise ValueError("token introspection is not supported by this server; configure jwks")
        if self.jwks is None:
            raise ValueError("jwks is required (jwks.uri)")
        return self


class CustomAuthConfig(_Strict):
    endpoint: HttpUrlText
    timeout_s: float = Field(default=5.0, gt=0, le=60)
