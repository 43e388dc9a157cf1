"""Who may see a resource: the built-in owner policy.

A resource registered by an authenticated principal remembers that principal and its
attributes (roles, teams, projects, namespaces). Another principal may see, use and delete it
only if it shares at least one value in at least one of those categories; otherwise the
resource looks absent (404), never forbidden, so its existence does not leak. Resources from
run.yaml, or registered while auth is off, have no owner and are visible to everyone.
"""

# Requirements (conformance/catalog.yaml): ABAC-001, ABAC-002, ABAC-003, ABAC-004, ABAC-005,
#   AUTH-CUSTOM-004

from __future__ import annotations

from typing import Any

from reference_server.auth.principal import Principal


def can_see(viewer: Principal | None, owner: dict[str, Any] | None) -> bool:
    if owner is None or viewer is None:
        return True
    if viewer.id == owner.get("principal"):
        return True
    theirs: dict[str, list[str]] = owner.get("attributes") or {}
    return any(set(values) & set(theirs.get(category, [])) for category, values in viewer.attributes.items())
