"""The table of defects, filled by the profile modules as they register each defect beside its function.

A defect is named, targets the requirements whose checks must fail against it, and is applied by
patching the reference server inside the defect server's process only. Each registration also
records the module it was made in, so tests/unit/test_defects.py can hold the package to its
mirror of conformance/checks/ (a defect lives in the module named after the checks it defeats).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass

Apply = Callable[[], None]


@dataclass(frozen=True)
class Defect:
    requirements: tuple[str, ...]
    apply: Apply
    # True only where failing to start *is* the defect's real-world face (upstream 0.2.12
    # expanding a disabled provider's config); elsewhere a scenario that does not start would
    # make the checks fail for the wrong reason, and the negative-control test rejects that.
    breaks_startup: bool = False
    # True only where an unhandled exception *is* the defect (a lookup escaping as a 500);
    # elsewhere a traceback in the server's log means the patch itself is broken.
    crashes: bool = False
    module: str = ""


DEFECTS: dict[str, Defect] = {}


def defect(
    name: str, *requirements: str, breaks_startup: bool = False, crashes: bool = False
) -> Callable[[Apply], Apply]:
    """Register the decorated function (or the applied factory) as defect ``name``.

    Used as ``@defect("name", "REQ-1")`` above a function, or ``defect("name", "REQ-1")(factory(...))``
    for the variants one factory makes. A defect without requirements is a hostile target for a
    test of the suite itself; its registration says which test uses it.
    """
    module = sys._getframe(1).f_globals["__name__"]

    def register(apply: Apply) -> Apply:
        if name in DEFECTS:
            raise ValueError(f"defect {name!r} registered twice ({DEFECTS[name].module} and {module})")
        DEFECTS[name] = Defect(tuple(requirements), apply, breaks_startup, crashes, module)
        return apply

    return register


def with_v1_twin(requirement: str) -> tuple[str, str]:
    """A requirement of the 0.2.x route family and its twin under /v1 (``FILES-001``, ``FILES-V1-001``):
    one behaviour served under both, so one defect defeats both checks."""
    prefix, _, number = requirement.partition("-")
    return requirement, f"{prefix}-V1-{number}"
