"""What an operator's run.yaml (``--stack-config``) promises about the live server.

The lint (`conformance.config_lint`) reads the config alone; this reads it the way the target's
generation will, in the server's environment, to say what the live server must then show: the
providers it enables and no others, the models, shields and vector dbs it registers, auth when it
configures auth, HTTPS when it configures a certificate. Only what is certain is promised: where
a generation's handling of a form is not known for sure (what 0.2.12 does with an empty provider
id), nothing is promised about it, so drift is never reported on a guess.

Every promise carries its config path; no value of the config is ever put in a message, except
the ids the server itself lists publicly.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from conformance.generation import Generation
from conformance.placeholders import DISABLED, resolve, switched_off


def _drops_switched_off_from_listing(generation: Generation) -> bool:
    """0.2.13-0.2.15 still list a ``__disabled__`` provider (research notes, 2.5); later ones do not."""
    return generation.is_reference or generation.in_window("0.3.0", None)


@dataclass(frozen=True)
class Promise:
    path: str  # where in the config
    ident: str  # the id the config gives it
    provider_id: str = ""
    api: str = ""  # a provider's API
    # The names the live server may list it under: the config's id, or (from 0.3 on, where every
    # model is named so) ``provider_id/provider_model_id``.
    names: tuple[str, ...] = ()


def _entries(config: Mapping[str, Any], key: str) -> Iterator[tuple[str, dict[str, Any]]]:
    items = config.get(key)
    for index, entry in enumerate(items if isinstance(items, list) else []):
        if isinstance(entry, dict):
            yield f"{key}[{index}]", entry


def _text(value: Any, env: Mapping[str, str]) -> str:
    return resolve(value, env) if isinstance(value, str) else ("" if value is None else str(value))


def providers(
    config: Mapping[str, Any], env: Mapping[str, str], generation: Generation
) -> tuple[list[Promise], list[Promise]]:
    """(enabled, switched off): the providers the live server must list, and those it must not
    (only where the generation drops them from its listing)."""
    off = switched_off(generation)
    enabled: list[Promise] = []
    disabled: list[Promise] = []
    by_api = config.get("providers")
    for api, entries in by_api.items() if isinstance(by_api, dict) else []:
        for path, entry in _entries({str(api): entries}, str(api)):
            provider_id = _text(entry.get("provider_id"), env)
            promise = Promise(f"providers.{path}", provider_id, provider_id, str(api))
            if provider_id in off:
                if provider_id and _drops_switched_off_from_listing(generation):
                    disabled.append(promise)
            elif provider_id and provider_id != DISABLED:
                enabled.append(promise)
    return enabled, disabled


def registered(config: Mapping[str, Any], env: Mapping[str, str], generation: Generation, kind: str) -> list[Promise]:
    """The ``models``, ``shields`` or ``vector_dbs`` the config registers on an enabled provider."""
    id_field = {"models": "model_id", "shields": "shield_id", "vector_dbs": "vector_db_id"}[kind]
    enabled_ids = {p.provider_id for p in providers(config, env, generation)[0]}
    promises = []
    for path, entry in _entries(config, kind):
        ident = _text(entry.get(id_field), env)
        provider_id = _text(entry.get("provider_id"), env)
        provider_model_id = _text(entry.get("provider_model_id"), env)
        if not ident or DISABLED in ident or DISABLED in provider_model_id:
            continue  # skipped or dropped by every generation that knows the sentinel; unsure before
        if provider_id and provider_id not in enabled_ids:
            continue
        prefixed = f"{provider_id}/{provider_model_id or ident}" if kind == "models" and provider_id else ident
        promises.append(Promise(f"{path}.{id_field}", ident, provider_id, names=(ident, prefixed)))
    return promises


def uses_sentinel(value: Any, env: Mapping[str, str]) -> bool:
    """Whether any value of the config resolves to something holding ``__disabled__``: only then
    could a listing of the live server show the sentinel."""
    if isinstance(value, Mapping):
        return any(uses_sentinel(v, env) for v in value.values())
    if isinstance(value, list):
        return any(uses_sentinel(v, env) for v in value)
    return DISABLED in _text(value, env)


def auth_configured(config: Mapping[str, Any], env: Mapping[str, str]) -> str | None:
    """The config path of an auth provider the server runs with, if any (``provider_type`` up to
    0.2.x, ``provider_config.type`` from 0.2.14 on; an empty type disables it)."""
    server = config.get("server")
    auth = server.get("auth") if isinstance(server, dict) else None
    if not isinstance(auth, dict):
        return None
    if _text(auth.get("provider_type"), env):
        return "server.auth.provider_type"
    provider_config = auth.get("provider_config")
    if isinstance(provider_config, dict) and _text(provider_config.get("type"), env):
        return "server.auth.provider_config.type"
    return None


def tls_configured(config: Mapping[str, Any], env: Mapping[str, str]) -> str | None:
    server = config.get("server")
    if isinstance(server, dict) and _text(server.get("tls_certfile"), env):
        return "server.tls_certfile"
    return None


__all__ = ["Promise", "auth_configured", "providers", "registered", "tls_configured"]
