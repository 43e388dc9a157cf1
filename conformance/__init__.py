"""Conformance suite for Llama Stack deployments.

The names in ``__all__`` are the surface a third-party check is written against (the example
provider in tests/example_provider uses nothing else): the requirement marker, the fixtures'
types (`Settings`, `RecordingClient`, `Response`, `ScenarioAccess`), the verdicts a check can
call (`not_evaluated`, `inconclusive`), and the shape helpers of the suite's own checks. Every
other module is internal and may change.

They are loaded on first use: the suite's own subprocesses (the fakes, started per scenario)
import ``conformance.*`` too, and must start without importing pytest and the plugin.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from conformance.version import __version__

# public name -> the module that defines it
_PUBLIC = {
    "requirement": "conformance.markers",
    "Settings": "conformance.settings",
    "RecordingClient": "conformance.http",
    "Response": "conformance.http",
    "ScenarioAccess": "conformance.plugin",
    "not_evaluated": "conformance.outcomes",
    "inconclusive": "conformance.outcomes",
    "expect_data_list": "conformance.checks.shapes",
    "expect_fields": "conformance.checks.shapes",
    "expect_json_error": "conformance.checks.shapes",
    "expect_listing": "conformance.checks.shapes",
    "model_field": "conformance.checks.shapes",
    "model_id": "conformance.checks.shapes",
    "model_provider": "conformance.checks.shapes",
    "pick_model": "conformance.checks.shapes",
    "unique_id": "conformance.checks.shapes",
}

if TYPE_CHECKING:
    from conformance.checks.shapes import (
        expect_data_list,
        expect_fields,
        expect_json_error,
        expect_listing,
        model_field,
        model_id,
        model_provider,
        pick_model,
        unique_id,
    )
    from conformance.http import RecordingClient, Response
    from conformance.markers import requirement
    from conformance.outcomes import inconclusive, not_evaluated
    from conformance.plugin import ScenarioAccess
    from conformance.settings import Settings

__all__ = [
    "RecordingClient",
    "Response",
    "ScenarioAccess",
    "Settings",
    "__version__",
    "expect_data_list",
    "expect_fields",
    "expect_json_error",
    "expect_listing",
    "inconclusive",
    "model_field",
    "model_id",
    "model_provider",
    "not_evaluated",
    "pick_model",
    "requirement",
    "unique_id",
]


def __getattr__(name: str) -> Any:
    if name in _PUBLIC:
        value = getattr(import_module(_PUBLIC[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'conformance' has no attribute {name!r}")
