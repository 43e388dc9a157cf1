"""Config engine: run.yaml loading, env substitution, ``__disabled__`` gating, validation."""

from __future__ import annotations

from reference_server.config.errors import ConfigError
from reference_server.config.loader import StackConfig, load_config, load_config_text

__all__ = ["ConfigError", "StackConfig", "load_config", "load_config_text"]
