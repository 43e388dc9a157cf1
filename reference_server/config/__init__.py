"""Config engine: run.yaml loading, env substitution, ``__disabled__`` gating, validation.

The re-exports are lazy: leaf modules (``errors``, ``types``, ``substitution``) are imported by
the provider and auth configs, which the loader itself imports, so an eager import of the
loader here would make every such import circular.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from reference_server.config.errors import ConfigError
    from reference_server.config.loader import StackConfig, load_config, load_config_text

__all__ = ["ConfigError", "StackConfig", "load_config", "load_config_text"]


def __getattr__(name: str) -> Any:
    if name == "ConfigError":
        from reference_server.config.errors import ConfigError

        return ConfigError
    if name in ("StackConfig", "load_config", "load_config_text"):
        from reference_server.config import loader

        return getattr(loader, name)
    raise AttributeError(name)
