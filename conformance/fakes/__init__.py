"""Loopback fakes of what a stack talks to. One implementation each, for the suite and the tests.

Each fake is a Starlette app with a control surface under ``/_fake/`` (request log, steering),
run as its own process by `conformance.fakes.handle.FakeProcess`.
"""

from loopback_serving import announcement


def ready_prefix(kind: str) -> str:
    """The line a fake prints (followed by its URL) once it serves."""
    return announcement(f"fake {kind}")
