"""run.yaml -> raw dict -> substituted and gated dict -> validated `StackConfig`.

Every failure on the way is a `ConfigError` with a config path, so the caller prints one line.
"""

from __future__ import annotations

import logging
import stat
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from reference_server.auth.catalog import AUTH_PROVIDERS
from reference_server.config import bounded_yaml
from reference_server.config.errors import ConfigError, join_path
from reference_server.config.gating import resolve
from reference_server.config.schema import IGNORED_TOP_LEVEL, ModelInput, RunConfig, ShieldInput, VectorDBInput
from reference_server.errors import StackError
from reference_server.providers.catalog import PROVIDER_SPECS, known_types
from reference_server.resources.models import Model, Resource, build_model
from reference_server.resources.shields import Shield, build_shield
from reference_server.resources.vector_dbs import VectorDB, build_vector_db
from reference_server.safety import check_shield

log = logging.getLogger("reference_server.config")
R = TypeVar("R", bound=Resource)


@dataclass
class ProviderInstanceConfig:
    api: str
    provider_id: str
    provider_type: str
    config: BaseModel
    raw_config: dict[str, Any]


@dataclass
class StackConfig:
    """A config ready to build a stack from: typed, gated, cross-checked."""

    run: RunConfig
    providers: list[ProviderInstanceConfig]
    models: list[Model]
    shields: list[Shield] = field(default_factory=list)
    vector_dbs: list[VectorDB] = field(default_factory=list)
    auth: tuple[str, BaseModel] | None = None
    source: Path | None = None
    warnings: list[str] = field(default_factory=list)

    def provider_ids(self, api: str) -> list[str]:
        return [p.provider_id for p in self.providers if p.api == api]


def _path_of(location: tuple[int | str, ...], prefix: str = "") -> str:
    path = prefix
    for key in location:
        path = join_path(path, key)
    return path


def _first_error(error: ValidationError, prefix: str = "") -> ConfigError:
    first = error.errors()[0]
    location = tuple(part for part in first["loc"] if not (isinstance(part, str) and "[" in part))
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        message = "unknown field"
    elif first["type"] == "missing":
        message = "required field is missing"
    more = len(error.errors()) - 1
    if more:
        message += f" (and {more} more problem{'s' if more > 1 else ''})"
    return ConfigError(_path_of(location, prefix), message)


def parse_yaml(text: str, source: str) -> dict[str, Any]:
    try:
        data = bounded_yaml.load(text)
    except bounded_yaml.BoundedYAMLError as exc:
        raise ConfigError("", f"invalid YAML ({source}): {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        where = f"{source}, line {mark.line + 1}, column {mark.column + 1}" if mark else source
        raise ConfigError("", f"invalid YAML ({where}): {problem}") from None
    if data is None:
        raise ConfigError("", f"{source} is empty")
    if not isinstance(data, dict):
        raise ConfigError("", f"{source} must be a mapping at the top level, not a {type(data).__name__}")
    return data


# Seam (tests/defects/seams.py): a negative control replaces this (the starter's vector-io providers added or dropped).
def _check_providers(run: RunConfig) -> list[ProviderInstanceConfig]:
    instances: list[ProviderInstanceConfig] = []
    for api, entries in run.providers.items():
        seen: set[str] = set()
        for index, entry in enumerate(entries):
            path = join_path(join_path("providers", api), index)
            spec = PROVIDER_SPECS.get((api, entry.provider_type))
            if spec is None:
                choices = ", ".join(known_types(api)) or "none"
                raise ConfigError(
                    join_path(path, "provider_type"),
                    f"unknown provider type {entry.provider_type!r} for API {api!r}; known: {choices}",
                )
            if entry.provider_id in seen:
                raise ConfigError(join_path(path, "provider_id"), f"duplicate provider id {entry.provider_id!r}")
            seen.add(entry.provider_id)
            try:
                typed = spec.config_model.model_validate(entry.config)
            except ValidationError as exc:
                raise _first_error(exc, join_path(path, "config")) from None
            instances.append(ProviderInstanceConfig(api, entry.provider_id, entry.provider_type, typed, entry.config))
    return instances


def _build_section(section: str, entries: list[Any], build: Callable[[Any], R], id_field: str) -> list[R]:
    """Build each entry of a resource section; one entry repeated identically is kept once, a
    conflicting repeat is a config error naming both places."""
    built: list[R] = []
    seen: dict[str, int] = {}
    for index, entry in enumerate(entries):
        path = join_path(section, index)
        try:
            item = build(entry)
        except StackError as exc:
            raise ConfigError(path, exc.message) from None
        identifier = item.identifier
        if identifier in seen:
            if built[seen[identifier]] != item:
                raise ConfigError(
                    join_path(path, id_field),
                    f"{identifier!r} is already defined differently at {join_path(section, seen[identifier])}",
                )
            continue
        seen[identifier] = len(built)
        built.append(item)
    return built


def _check_models(run: RunConfig, providers: list[ProviderInstanceConfig]) -> list[Model]:
    inference = [p.provider_id for p in providers if p.api == "inference"]

    def build(entry: ModelInput) -> Model:
        return build_model(**entry.model_dump(), inference_providers=inference)

    return _build_section("models", run.models, build, "model_id")


def _check_shields(run: RunConfig, providers: list[ProviderInstanceConfig], models: list[Model]) -> list[Shield]:
    """Config shields may only run on config models: start-up must not depend on earlier runs."""
    safety = {p.provider_id: p.provider_type for p in providers if p.api == "safety"}
    by_id = {m.identifier: m for m in models}

    def build(entry: ShieldInput) -> Shield:
        shield = build_shield(**entry.model_dump(), safety_providers=list(safety))
        check_shield(safety[shield.provider_id], shield, by_id.get)
        return shield

    return _build_section("shields", run.shields, build, "shield_id")


def _check_vector_dbs(run: RunConfig, providers: list[ProviderInstanceConfig], models: list[Model]) -> list[VectorDB]:
    vector_io = [p.provider_id for p in providers if p.api == "vector_io"]
    by_id = {m.identifier: m for m in models}

    def build(entry: VectorDBInput) -> VectorDB:
        return build_vector_db(**entry.model_dump(), vector_io_providers=vector_io, find_model=by_id.get)

    return _build_section("vector_dbs", run.vector_dbs, build, "vector_db_id")


def load_config_text(text: str, env: Mapping[str, str], source: str = "<config>") -> StackConfig:
    raw = parse_yaml(text, source)
    warnings = [
        f"{key}: unknown top-level key, ignored"
        for key in raw
        if key not in RunConfig.model_fields and key not in IGNORED_TOP_LEVEL
    ]
    resolved = resolve(raw, env)
    _refuse_nul_bytes(resolved, "")
    try:
        run = RunConfig.model_validate(resolved)
    except ValidationError as exc:
        raise _first_error(exc) from None
    providers = _check_providers(run)
    models = _check_models(run, providers)
    shields = _check_shields(run, providers, models)
    vector_dbs = _check_vector_dbs(run, providers, models)
    auth = _check_auth(run)
    for warning in warnings:
        log.warning("%s", warning)
    return StackConfig(
        run=run,
        providers=providers,
        models=models,
        shields=shields,
        vector_dbs=vector_dbs,
        auth=auth,
        warnings=warnings,
    )


def _refuse_nul_bytes(value: Any, path: str) -> None:
    """A NUL byte is never text a config means (it ended a path early in C, and Python refuses
    such paths with a ValueError deep inside sqlite or open)."""
    if isinstance(value, str) and "\0" in value:
        raise ConfigError(path, "contains a NUL byte")
    if isinstance(value, dict):
        for key, item in value.items():
            _refuse_nul_bytes(item, join_path(path, str(key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _refuse_nul_bytes(item, join_path(path, index))


def _check_auth(run: RunConfig) -> tuple[str, BaseModel] | None:
    auth = run.server.auth
    if auth is None:
        return None
    if auth.access_policy:
        # Ignoring a security policy someone wrote would be worse than refusing to start.
        raise ConfigError(
            "server.auth.access_policy",
            "custom access policies are not supported; remove it to use the built-in owner policy (see README)",
        )
    try:
        typed = AUTH_PROVIDERS[auth.provider_type].config_model.model_validate(auth.config)
    except ValidationError as exc:
        raise _first_error(exc, "server.auth.config") from None
    return auth.provider_type, typed


def load_config(path: str | Path, env: Mapping[str, str]) -> StackConfig:
    source = Path(path)
    limit = bounded_yaml.MAX_BYTES
    try:
        if not stat.S_ISREG(source.stat().st_mode):
            # /dev/zero would be read for ever, a FIFO would wait for a writer
            raise ConfigError("", f"config {str(source)!r} is not a regular file")
        with source.open("rb") as handle:
            data = handle.read(limit + 1)
        if len(data) > limit:
            raise ConfigError("", f"config {str(source)!r} is larger than {limit} bytes")
        text = data.decode("utf-8")
    except (OSError, ValueError) as exc:  # ValueError: a NUL byte in the path, or not UTF-8
        if isinstance(exc, UnicodeDecodeError):
            raise ConfigError("", f"config {str(source)!r} is not UTF-8 text") from None
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ConfigError("", f"cannot read config {str(source)!r}: {reason}") from None
    config = load_config_text(text, env, str(source))
    config.source = source
    return config
