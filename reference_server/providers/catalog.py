"""Which ``provider_type`` serves which API: its ``config`` model, its implementation, and what
its shields need.

One table, looked up by ``(api, provider_type)``: the loader validates configs against it and
checks the config's shields with it, the stack builder instantiates providers from it. Types the
seed page names are all here; the ones whose behaviour has not been built yet are accepted and
validated, and show up in ``/v1/providers`` with health "Not Implemented". Implementations are
named (``module:attribute``), not imported: they sit in higher layers (vector_io, safety), and a
server that does not configure faiss never imports it.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from reference_server.field_types import HttpUrlText, TlsVerify
from reference_server.store.config import SqliteKVStoreConfig


class _ProviderConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True)


class OllamaConfig(_ProviderConfig):
    url: HttpUrlText = "http://localhost:11434"
    raise_on_connect_error: bool = True


class VLLMConfig(_ProviderConfig):
    url: HttpUrlText
    max_tokens: int = Field(default=4096, gt=0)
    api_token: str | None = "fake"
    tls_verify: TlsVerify = True


class FaissConfig(_ProviderConfig):
    kvstore: SqliteKVStoreConfig


class SqliteVecConfig(_ProviderConfig):
    db_path: str


class LocalfsConfig(_ProviderConfig):
    storage_dir: str
    metadata_store: SqliteKVStoreConfig
    ttl_secs: int = Field(default=365 * 24 * 60 * 60, gt=0)  # upstream's default: a year


class LlamaGuardConfig(_ProviderConfig):
    excluded_categories: list[str] = Field(default_factory=list)


class OpenConfig(BaseModel):
    """Providers whose behaviour this server does not implement: any mapping is accepted."""

    model_config = ConfigDict(extra="allow")


def resolve(reference: str) -> Any:
    """``"package.module:attribute"`` -> that attribute."""
    module, _, attribute = reference.partition(":")
    return getattr(import_module(module), attribute)


@dataclass(frozen=True)
class ProviderSpec:
    api: str
    provider_type: str
    config_model: type[BaseModel]
    # The ProviderHandle subclass that serves it; None: accepted, listed, not implemented.
    implementation: str | None = None
    # What a shield of this (safety) type needs before it may be registered, if anything.
    shield_check: str | None = None


_SPECS = [
    ProviderSpec("inference", "remote::ollama", OllamaConfig, "reference_server.providers.ollama:OllamaProvider"),
    ProviderSpec("inference", "remote::vllm", VLLMConfig, "reference_server.providers.vllm:VLLMProvider"),
    ProviderSpec("inference", "remote::bedrock", OpenConfig),
    ProviderSpec("inference", "inline::meta-reference", OpenConfig),
    ProviderSpec("vector_io", "inline::faiss", FaissConfig, "reference_server.vector_io.faiss_provider:FaissVectorIO"),
    ProviderSpec(
        "vector_io",
        "inline::sqlite-vec",
        SqliteVecConfig,
        "reference_server.vector_io.sqlite_vec_provider:SqliteVecVectorIO",
    ),
    ProviderSpec(
        "safety",
        "inline::llama-guard",
        LlamaGuardConfig,
        "reference_server.safety.llama_guard:LlamaGuardSafety",
        shield_check="reference_server.safety.llama_guard:require_guard_model",
    ),
    ProviderSpec("safety", "remote::bedrock", OpenConfig),
    ProviderSpec("files", "inline::localfs", LocalfsConfig, "reference_server.files.localfs:LocalFiles"),
    ProviderSpec("agents", "inline::meta-reference", OpenConfig),
    ProviderSpec("telemetry", "inline::meta-reference", OpenConfig),
    ProviderSpec("eval", "inline::meta-reference", OpenConfig),
]

PROVIDER_SPECS: dict[tuple[str, str], ProviderSpec] = {(spec.api, spec.provider_type): spec for spec in _SPECS}


def known_types(api: str) -> list[str]:
    return sorted(spec.provider_type for spec in _SPECS if spec.api == api)


SECRET_MARKERS = ("token", "secret", "password", "api_key", "apikey", "credential")
REDACTED = "********"


def redact(config: Any) -> Any:
    """Hide secret-looking values before a config leaves the server (``/v1/providers``)."""
    if isinstance(config, dict):
        return {
            key: (
                REDACTED if value is not None and any(m in str(key).lower() for m in SECRET_MARKERS) else redact(value)
            )
            for key, value in config.items()
        }
    if isinstance(config, list):
        return [redact(item) for item in config]
    return config
