"""The resolved run.yaml as typed objects (the seed document's format, 0.2.x era).

Unknown top-level keys that upstream also carries (``datasets``, ``tool_groups``...) are
accepted and ignored, like upstream; anything else is reported as a warning by the loader, so
a misspelt section (``modles:``) does not pass silently.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from reference_server.auth.catalog import AUTH_PROVIDERS
from reference_server.store.config import RedisKVStoreConfig, SqliteKVStoreConfig

KNOWN_APIS = frozenset(
    {
        "agents",
        "batches",
        "datasetio",
        "eval",
        "files",
        "inference",
        "post_training",
        "safety",
        "scoring",
        "telemetry",
        "tool_runtime",
        "vector_io",
    }
)

# Top-level keys of upstream run.yaml files that this server accepts without using.
IGNORED_TOP_LEVEL = frozenset(
    {
        "conda_env",  # read only as the fallback for image_name
        "container_image",
        "datasets",
        "scoring_fns",
        "benchmarks",
        "tool_groups",
        "logging",
        "external_providers_dir",
    }
)


class _Strict(BaseModel):
    """Ids coming from substitution may have been coerced to numbers; give them back as text."""

    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True)


class ProviderEntry(_Strict):
    provider_id: str = Field(min_length=1)
    provider_type: str = Field(min_length=1)
    config: dict[str, Any] = Field(default_factory=dict)

    @field_validator("config", mode="before")
    @classmethod
    def _none_is_empty(cls, value: Any) -> Any:
        return {} if value is None else value


class ModelInput(_Strict):
    model_id: str = Field(min_length=1)
    provider_id: str | None = None
    provider_model_id: str | None = None
    model_type: Literal["llm", "embedding"] = "llm"
    metadata: dict[str, Any] = Field(default_factory=dict)

    @field_validator("metadata", mode="before")
    @classmethod
    def _none_is_empty(cls, value: Any) -> Any:
        return {} if value is None else value


class ShieldInput(_Strict):
    shield_id: str = Field(min_length=1)
    provider_id: str | None = None
    provider_shield_id: str | None = None
    params: dict[str, Any] | None = None


class VectorDBInput(_Strict):
    vector_db_id: str = Field(min_length=1)
    embedding_model: str = Field(min_length=1)
    # Omitted: the embedding model's own dimension.
    embedding_dimension: int | None = Field(default=None, gt=0)
    provider_id: str | None = None
    provider_vector_db_id: str | None = None


class AuthConfig(_Strict):
    """Both shapes the world uses: the seed's ``provider_type`` + ``config`` and the later
    ``provider_config: {type: ...}``. They are normalised to ``provider_type`` + ``config``."""

    provider_type: str
    config: dict[str, Any] = Field(default_factory=dict)
    access_policy: list[dict[str, Any]] = Field(default_factory=list)

    @field_validator("provider_type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        if value not in AUTH_PROVIDERS:
            raise ValueError(f"unknown auth provider type {value!r}; known: {', '.join(sorted(AUTH_PROVIDERS))}")
        return value

    @model_validator(mode="before")
    @classmethod
    def _accept_later_shape(cls, data: Any) -> Any:
        if isinstance(data, dict) and "provider_config" in data:
            if "provider_type" in data or "config" in data:
                raise ValueError("use either provider_type + config or provider_config, not both")
            data = dict(data)
            provider_config = dict(data.pop("provider_config") or {})
            data["provider_type"] = provider_config.pop("type", None)
            data["config"] = provider_config
        return data


class QuotaConfig(_Strict):
    kvstore: SqliteKVStoreConfig | RedisKVStoreConfig = Field(discriminator="type")
    anonymous_max_requests: int = Field(default=100, ge=0)
    authenticated_max_requests: int = Field(default=1000, ge=0)
    period: Literal["day"] = "day"


class ServerConfig(_Strict):
    port: int = Field(default=8321, ge=1, le=65535)
    host: str | None = None
    tls_certfile: str | None = None
    tls_keyfile: str | None = None
    tls_cafile: str | None = None
    auth: AuthConfig | None = None
    quota: QuotaConfig | None = None

    @model_validator(mode="after")
    def _tls_pair(self) -> ServerConfig:
        if bool(self.tls_certfile) != bool(self.tls_keyfile):
            raise ValueError("tls_certfile and tls_keyfile must be set together")
        if self.tls_cafile and not self.tls_certfile:
            # the CA verifies client certificates (mutual TLS), which only an HTTPS server asks for
            raise ValueError("tls_cafile needs tls_certfile and tls_keyfile: it is for mutual TLS over HTTPS")
        return self


class InferenceStoreConfig(BaseModel):
    """Upstream's SQL store for chat completions; this server keeps them in sqlite only."""

    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True)

    type: Literal["sqlite"] = "sqlite"
    db_path: str = Field(min_length=1)


class RunConfig(BaseModel):
    model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=True)

    version: int | str
    # The seed's own example names only ``conda_env``; upstream requires ``image_name``.
    image_name: str = Field(default="llama-stack", min_length=1)
    apis: list[str] = Field(default_factory=list)
    providers: dict[str, list[ProviderEntry]] = Field(default_factory=dict)
    metadata_store: SqliteKVStoreConfig | None = None
    # Stored chat completions; beside the metadata store when not given.
    inference_store: InferenceStoreConfig | None = None
    models: list[ModelInput] = Field(default_factory=list)
    shields: list[ShieldInput] = Field(default_factory=list)
    vector_dbs: list[VectorDBInput] = Field(default_factory=list)
    server: ServerConfig = Field(default_factory=ServerConfig)

    @model_validator(mode="before")
    @classmethod
    def _image_name_from_conda_env(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("image_name") and data.get("conda_env"):
            data = {**data, "image_name": str(data["conda_env"])}
        return data

    @field_validator("version", mode="before")
    @classmethod
    def _version_two(cls, value: Any) -> Any:
        if str(value) != "2":
            raise ValueError(f"unsupported config version {value!r}; this server reads version 2")
        return 2

    @field_validator("apis")
    @classmethod
    def _known_apis(cls, value: list[str]) -> list[str]:
        for api in value:
            if api not in KNOWN_APIS:
                raise ValueError(f"unknown API {api!r}; known: {', '.join(sorted(KNOWN_APIS))}")
        return value

    @field_validator("providers", mode="before")
    @classmethod
    def _provider_apis(cls, value: Any) -> Any:
        if isinstance(value, dict):
            for api, entries in value.items():
                if api not in KNOWN_APIS:
                    raise ValueError(f"unknown API {api!r}; known: {', '.join(sorted(KNOWN_APIS))}")
                if entries is None:
                    value = {**value, api: []}
        return value

    @field_validator("server", mode="before")
    @classmethod
    def _none_is_default(cls, value: Any) -> Any:
        return {} if value is None else value

    @field_validator("models", "shields", "vector_dbs", mode="before")
    @classmethod
    def _none_is_empty(cls, value: Any) -> Any:
        return [] if value is None else value

    def served_apis(self) -> list[str]:
        """``apis`` when given, else every API that has providers (upstream's rule)."""
        return list(self.apis) if self.apis else [api for api, entries in self.providers.items() if entries]
