"""Who a request comes from, and what the access policy compares."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Principal:
    id: str
    attributes: dict[str, list[str]] = field(default_factory=dict)

    def as_owner(self) -> dict[str, Any]:
        return {"principal": self.id, "attributes": {k: list(v) for k, v in self.attributes.items()}}


def attributes_from_claims(claims: Mapping[str, Any], mapping: Mapping[str, str]) -> dict[str, list[str]]:
    """Map token claims to attribute categories; a string claim is split on whitespace."""
    attributes: dict[str, list[str]] = {}
    for claim, category in mapping.items():
        value = claims.get(claim)
        if isinstance(value, str):
            values = value.split()
        elif isinstance(value, list):
            values = [str(item) for item in value]
        else:
            continue
        bucket = attributes.setdefault(category, [])
        bucket.extend(v for v in values if v not in bucket)
    return attributes
