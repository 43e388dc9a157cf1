"""The one exception type a bad config produces.

Every config problem, whatever layer finds it (YAML, substitution, gating, schema, provider
table), ends up as a `ConfigError` carrying the config path, so the CLI can print exactly one
line and exit 2 instead of a traceback.
"""

from __future__ import annotations


class ConfigError(Exception):
    """A problem in a run.yaml, located by its dotted path (``models[0].model_id``)."""

    def __init__(self, path: str, message: str, *, variable: str | None = None) -> None:
        self.path = path
        self.message = message
        self.variable = variable
        super().__init__(self.one_line())

    def one_line(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


def join_path(parent: str, key: str | int) -> str:
    """Extend a config path the way error messages print it: dotted keys, ``[i]`` indexes."""
    if isinstance(key, int):
        return f"{parent}[{key}]"
    return f"{parent}.{key}" if parent else key
