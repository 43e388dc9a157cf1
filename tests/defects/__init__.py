"""The negative controls' targets: the reference server with one deliberate defect.

Each defect reproduces a real way deployments go wrong (many are upstream behaviours from the
research notes) by patching the reference server inside the defect server's process only; the
production code path has no switch for any of this. The modules mirror conformance/checks/: the
defects of test_quota.py's requirements live in quota.py, registered beside their functions
(registry.py). tests/suite/test_negative_controls.py proves each defect makes its requirements'
checks fail; seams.py lists the private names of the server the defects replace.

    python tests/defects/serve.py DEFECT CONFIG [reference_server run options]
"""

from __future__ import annotations

from tests.defects import (  # noqa: F401 (importing a profile module registers its defects)
    abac_resources,
    auth,
    config,
    core,
    files,
    inference,
    quota,
    registration,
    safety,
    startup,
    suite_targets,
    vector_io,
    vector_stores,
)
from tests.defects.registry import DEFECTS, Defect

__all__ = ["DEFECTS", "Defect"]
