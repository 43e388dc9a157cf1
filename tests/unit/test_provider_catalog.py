"""The provider and auth tables: every named implementation exists and is what its kind expects."""

from __future__ import annotations

import inspect

from reference_server.auth.catalog import AUTH_PROVIDERS
from reference_server.providers.base import ProviderHandle
from reference_server.providers.catalog import PROVIDER_SPECS, resolve


def test_every_provider_implementation_resolves_to_a_provider_handle() -> None:
    for (api, provider_type), spec in PROVIDER_SPECS.items():
        if spec.implementation is not None:
            kind = resolve(spec.implementation)
            assert inspect.isclass(kind) and issubclass(kind, ProviderHandle), (api, provider_type)
        if spec.shield_check is not None:
            assert api == "safety" and callable(resolve(spec.shield_check)), (api, provider_type)


def test_every_auth_implementation_resolves() -> None:
    for provider_type, entry in AUTH_PROVIDERS.items():
        module, _, name = entry.implementation.partition(":")
        assert inspect.isclass(resolve(entry.implementation)), provider_type
        assert module.startswith("reference_server.auth."), (provider_type, name)
