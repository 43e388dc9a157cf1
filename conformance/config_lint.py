"""Lint an operator's own run.yaml for the generation it runs on (``--stack-config``).

The failures this finds are the silent ones: a placeholder form the generation does not have
(0.2.12 reads ``${env.X:=d}`` as the default ``=d``), a required variable that is unset, a
malformed placeholder left as literal text, and a section the generation ignores without a word
(OGX 1.x has no ``server.quota``: an operator who upgrades loses rate limiting). Every finding
names the config path; none quotes a value, so secrets in the config never reach a report.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from conformance.generation import Generation
from conformance.placeholders import PLACEHOLDER, resolve, switched_off

# The forms each line of releases reads (replace_env_vars at v0.2.12, and from v0.2.13 on).
SEED_FORMS = frozenset({"", ":", "+"})
LATER_FORMS = frozenset({"", ":=", ":+"})
# The keys of `server` that OGX 1.x reads (ServerConfig in ogx/core/datatypes.py at 1.5.0); pydantic
# drops any other key without a word.
OGX_SERVER_KEYS = frozenset(
    {
        "port", "tls_certfile", "tls_keyfile", "tls_cafile", "auth", "tenancy", "host", "workers",
        "registry_refresh_interval_seconds", "insecure", "tls_config", "hsts_max_age",
    }
)  # fmt: skip
# APIs a generation does not serve at all (OGX 1.x has no safety API).
OGX_MISSING_APIS = frozenset({"safety"})


@dataclass(frozen=True)
class Finding:
    kind: str  # "malformed", "grammar", "required", "ignored"
    path: str
    problem: str

    def __str__(self) -> str:
        return f"{self.path}: {self.problem}"


def _strings(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, f"{path}[{index}]")
    elif isinstance(value, str):
        yield path, value


def _forms(generation: Generation) -> frozenset[str]:
    if generation.is_reference:
        return SEED_FORMS | LATER_FORMS
    return SEED_FORMS if not generation.in_window("0.2.13", None) else LATER_FORMS


def _placeholders(text: str, path: str, env: Mapping[str, str], generation: Generation) -> Iterator[Finding]:
    forms = _forms(generation)
    well_formed = {match.start(): match for match in PLACEHOLDER.finditer(text)}
    for start in (m.start() for m in re.finditer(r"\$\{env\.", text)):
        match = well_formed.get(start)
        if match is None:
            yield Finding("malformed", path, "malformed placeholder (it needs an upper-case name and a closing brace)")
            continue
        name, form = match.group(1), match.group(2) or ""
        if form not in forms:
            yield Finding("grammar", path, f"${{env.{name}{form}...}} is not a form {generation.name} reads")
        elif form == "" and not env.get(name):
            yield Finding("required", path, f"${{env.{name}}} is required, and {name} is unset or empty")


def _ignored(config: Mapping[str, Any], generation: Generation) -> Iterator[Finding]:
    if generation.is_reference or not generation.in_window("1.0.0", None):
        return
    server = config.get("server")
    if isinstance(server, dict):
        for key in sorted(set(server) - OGX_SERVER_KEYS):
            yield Finding("ignored", f"server.{key}", f"{generation.name} has no such setting and ignores it")
    apis = config.get("apis")
    for api in sorted(set(apis if isinstance(apis, list) else []) & OGX_MISSING_APIS):
        yield Finding("ignored", "apis", f"{generation.name} has no {api} API")
    providers = config.get("providers")
    for api in sorted(set(providers if isinstance(providers, dict) else {}) & OGX_MISSING_APIS):
        yield Finding("ignored", f"providers.{api}", f"{generation.name} has no {api} API")


def _unexpanded(config: Mapping[str, Any], env: Mapping[str, str], generation: Generation) -> set[str]:
    """Config paths of the providers that are switched off, whose values are never read."""
    off, paths = switched_off(generation), set()
    providers = config.get("providers")
    for api, entries in providers.items() if isinstance(providers, dict) else []:
        for index, entry in enumerate(entries if isinstance(entries, list) else []):
            provider_id = entry.get("provider_id") if isinstance(entry, dict) else None
            if isinstance(provider_id, str) and resolve(provider_id, env) in off:
                paths.add(f"providers.{api}[{index}].config")
    return paths


def lint(config: Mapping[str, Any], env: Mapping[str, str], generation: Generation) -> list[Finding]:
    unexpanded = _unexpanded(config, env, generation)
    findings = [
        finding
        for path, text in _strings(dict(config))
        for finding in _placeholders(text, path, env, generation)
        if not (finding.kind == "required" and any(path.startswith(p) for p in unexpanded))
    ]
    return findings + list(_ignored(config, generation))
