"""Safety providers: judge a conversation with a shield and report a violation or none.

What a shield needs before it may be registered depends on its provider's type, and the same
rule must hold for run.yaml (checked against the config's models) and for ``POST /v1/shields``
(checked against the registry): both call `check_shield`.
"""

from __future__ import annotations

from collections.abc import Callable

from reference_server.providers.catalog import PROVIDER_SPECS, resolve
from reference_server.resources.models import Model
from reference_server.resources.shields import Shield

ShieldCheck = Callable[[Shield, Callable[[str], Model | None]], None]


def check_shield(provider_type: str, shield: Shield, find_model: Callable[[str], Model | None]) -> None:
    """What the provider type's table entry says its shields need (types without an entry in
    ``shield_check`` need nothing this server can check)."""
    spec = PROVIDER_SPECS.get(("safety", provider_type))
    if spec is not None and spec.shield_check is not None:
        check: ShieldCheck = resolve(spec.shield_check)
        check(shield, find_model)
