"""The ``server.auth`` provider types: one table, each entry its config model and its implementation.

The loader validates ``server.auth.config`` against the entry's model; the app builds the entry's
implementation. Implementations are named, not imported: a server without auth (or with the
custom endpoint) never pays for importing pyjwt and cryptography at start-up.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from typing import Any

from pydantic import BaseModel

from reference_server.auth.config import CustomAuthConfig, OAuth2TokenConfig


@dataclass(frozen=True)
class AuthProviderType:
    config_model: type[BaseModel]
    implementation: str  # "module:Class", built with the validated config

    def build(self, config: BaseModel) -> Any:
        module, _, name = self.implementation.partition(":")
        return getattr(import_module(module), name)(config)


AUTH_PROVIDERS: dict[str, AuthProviderType] = {
    "oauth2_token": AuthProviderType(OAuth2TokenConfig, "reference_server.auth.jwt_provider:OAuth2TokenProvider"),
    "custom": AuthProviderType(CustomAuthConfig, "reference_server.auth.custom_provider:CustomAuthProvider"),
}
