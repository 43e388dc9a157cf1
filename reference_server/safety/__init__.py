"""Safety providers: judge a conversation with a shield and report a violation or none.

What a shield needs before it may be registered depends on its provider's type, and the same
rule must hold for run.yaml (checked against the config's models) and for ``POST /v1/shields``
(checked against the registry): both call `check_shield`.
"""

from __future__ import annotations

from collections.abc import Callable

from reference_server.resources.models import Model
from reference_server.resources.shields import Shield
from reference_server.safety.llama_guard import require_guard_model

ShieldCheck = Callable[[Shield, Callable[[str], Model | None]], None]

# Provider type -> what its shields need; types not listed need nothing this server can check.
SHIELD_CHECKS: dict[str, ShieldCheck] = {"inline::llama-guard": require_guard_model}


def check_shield(provider_type: str, shield: Shield, find_model: Callable[[str], Model | None]) -> None:
    check = SHIELD_CHECKS.get(provider_type)
    if check is not None:
        check(shield, find_model)
