"""Conditional providers and resources: the ``__disabled__`` sentinel and empty ids.

A starter config enables a provider with ``provider_id: ${env.ENABLE_X:=__disabled__}`` or
``${env.X_URL:+ollama}``. A disabled provider's ``config`` may name variables that are unset
(``url: ${env.VLLM_URL}``), so the gate must be resolved *before* the body is expanded, and a
disabled entry must vanish entirely: upstream 0.2.x still listed it in ``/v1/providers`` with
its raw config, which leaked both the sentinel and unexpanded placeholders.

This module therefore walks the known top-level sections itself and hands everything else to
plain substitution.
"""

# Requirements (conformance/catalog.yaml): CORE-DISABLED-001, CFG-GATE-001, CFG-GATE-002,
#   CFG-GATE-003, CFG-GATE-004, CFG-GATE-005, REG-ENV-001, REG-ENV-002, VEC-STARTER-001,
#   VEC-STARTER-002, SAFE-GATE-001

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from reference_server.config.errors import join_path
from reference_server.config.substitution import substitute

DISABLED = "__disabled__"

log = logging.getLogger("reference_server.config")

# resource list -> (its own id field, the provider-side id field)
RESOURCE_ID_FIELDS: dict[str, tuple[str, str]] = {
    "models": ("model_id", "provider_model_id"),
    "shields": ("shield_id", "provider_shield_id"),
    "vector_dbs": ("vector_db_id", "provider_vector_db_id"),
}


def is_switched_off(value: Any) -> bool:
    """An id switches its entry off when it is empty or carries the sentinel anywhere."""
    if value is None or value == "":
        return True
    return isinstance(value, str) and DISABLED in value


def _gates_off(field: str, raw: Any, value: Any) -> bool:
    """Whether a resolved gate field switches its entry off.

    A literal YAML ``null`` is simply "not given" (``provider_id: null`` picks the only
    provider, ``provider_model_id: null`` defaults to the model id); only a value that was
    written and resolved to empty, or that carries the sentinel, switches the entry off.
    Provider-side ids (``provider_model_id``...) switch off only on the sentinel, because
    empty means "same as the resource id" there.
    """
    if field.startswith("provider_") and field != "provider_id":
        return isinstance(value, str) and DISABLED in value
    return raw is not None and is_switched_off(value)


# Seam (tests/defects/seams.py): a negative control replaces this (entries expanded before or without their gate).
def _expand_gated_entry(
    entry: dict[str, Any], gate_fields: tuple[str, ...], env: Mapping[str, str], path: str
) -> dict[str, Any] | None:
    """Resolve the gate fields in order; return the expanded entry, or None when gated off."""
    resolved: dict[str, Any] = {}
    for field in gate_fields:
        if field not in entry:
            continue
        value = substitute(entry[field], env, join_path(path, field))
        if _gates_off(field, entry[field], value):
            log.debug("%s is switched off by %s=%r", path, field, value)
            return None
        resolved[field] = value
    rest = {key: value for key, value in entry.items() if key not in resolved}
    expanded: dict[str, Any] = substitute(rest, env, path)
    expanded.update(resolved)
    return expanded


def _gate_list(entries: list[Any], gate_fields: tuple[str, ...], env: Mapping[str, str], path: str) -> list[Any]:
    kept: list[Any] = []
    for index, entry in enumerate(entries):
        entry_path = join_path(path, index)
        if not isinstance(entry, dict):
            kept.append(substitute(entry, env, entry_path))
            continue
        expanded = _expand_gated_entry(entry, gate_fields, env, entry_path)
        if expanded is not None:
            kept.append(expanded)
    return kept


# Seam (tests/defects/seams.py): a negative control replaces this (switched-off providers listed under their sentinel).
def _gate_providers(providers: dict[str, Any], env: Mapping[str, str]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for api, entries in providers.items():
        path = join_path("providers", str(api))
        if isinstance(entries, list):
            result[api] = _gate_list(entries, ("provider_id",), env, path)
        else:
            result[api] = substitute(entries, env, path)
    return result


def _gate_auth(auth: dict[str, Any], env: Mapping[str, str]) -> dict[str, Any] | None:
    """Auth fails closed: it is off only when its type is written as a switch (``__disabled__``,
    or a placeholder that resolves to empty or to the sentinel), and then a warning says so.

    A type that is missing, misspelt or not a string leaves the section as it is, so that
    validation stops start-up naming it: a present auth section never means "no auth"."""
    later = isinstance(auth.get("provider_config"), dict)
    raw = auth["provider_config"].get("type") if later else auth.get("provider_type")
    path = "server.auth.provider_config.type" if later else "server.auth.provider_type"
    if isinstance(raw, str) and (DISABLED in raw or "${" in raw):
        type_value = substitute(raw, env, path)
        if is_switched_off(type_value):
            log.warning("authentication is OFF: %s %r resolves to %r", path, raw, type_value)
            return None
    expanded: dict[str, Any] = substitute(auth, env, "server.auth")
    return expanded


def resolve(raw: dict[str, Any], env: Mapping[str, str]) -> dict[str, Any]:
    """Substitute and gate a whole parsed run.yaml."""
    resolved: dict[str, Any] = {}
    for key, value in raw.items():
        if key == "providers" and isinstance(value, dict):
            resolved[key] = _gate_providers(value, env)
        elif key in RESOURCE_ID_FIELDS and isinstance(value, list):
            own_id, provider_side_id = RESOURCE_ID_FIELDS[key]
            resolved[key] = _gate_list(value, ("provider_id", own_id, provider_side_id), env, key)
        elif key == "server" and isinstance(value, dict):
            server = {k: v for k, v in value.items() if k != "auth"}
            resolved[key] = substitute(server, env, "server")
            if isinstance(value.get("auth"), dict):
                resolved[key]["auth"] = _gate_auth(value["auth"], env)
            elif "auth" in value:
                resolved[key]["auth"] = substitute(value["auth"], env, "server.auth")
        else:
            resolved[key] = substitute(value, env, key)
    return resolved
