"""The private names of the reference server that defects replace, and how to find them.

A defect that reaches inside the server makes the replaced name part of a contract nobody sees:
renaming it would silently turn a negative control into a run of the unchanged server. So every
private name a defect replaces is listed here with what it lets a defect do, and its definition
carries a comment naming tests/defects; tests/unit/test_defects.py holds both lists to what the
defects actually replace (run as ``python -m tests.defects.seams``, it prints that per defect).
Public names (``create_app``, a registry's ``get``) need no entry: they are the modules' faces.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import sys
from collections.abc import Callable
from typing import Any

import reference_server

SEAMS: dict[str, str] = {
    "reference_server.config.substitution:_placeholder": "resolve one placeholder form the way a release got it wrong",
    "reference_server.config.gating:_expand_gated_entry": "expand a gated entry before or without its gate",
    "reference_server.config.gating:_gate_providers": "list switched-off providers under their sentinel",
    "reference_server.config.loader:_check_providers": "add or drop the starter's vector-io providers",
    "reference_server.cli:_serve": "let a config error escape as a traceback",
    "reference_server.api.inference:_renamed": "answer under the backend's model name",
    "reference_server.api.vector_stores:_attach": "attach a file batch's files without its attributes",
    "reference_server.auth.jwt_provider.OAuth2TokenProvider:_key_for": "hand pyjwt a key without its algorithm",
    "reference_server.auth.jwt_provider.OAuth2TokenProvider:_fetch": "forget the keys when a re-fetch fails",
    "reference_server.auth.jwt_provider.OAuth2TokenProvider:_may_refetch_for_unknown_kid": "never re-fetch keys",
}


def is_private(seam: str) -> bool:
    owner, name = seam.split(":")
    dunder = name.startswith("__") and name.endswith("__")
    return (name.startswith("_") and not dunder) or any(part.startswith("_") for part in owner.split("."))


def owners() -> dict[str, Any]:
    """Every module of the reference server and every class defined in one, by dotted name."""
    found: dict[str, Any] = {}
    for info in pkgutil.walk_packages(reference_server.__path__, "reference_server."):
        if info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        found[info.name] = module
        for value in vars(module).values():
            if isinstance(value, type) and value.__module__ == info.name:
                found[f"{info.name}.{value.__qualname__}"] = value
    return found


def replaced_by(apply: Callable[[], None], where: dict[str, Any]) -> set[str]:
    """The ``owner:name`` pairs ``apply`` replaces, added or removes; everything is put back after."""
    missing = object()
    before = {name: dict(vars(owner)) for name, owner in where.items()}
    apply()
    changed: set[str] = set()
    for name, owner in where.items():
        now = dict(vars(owner))
        for attr in set(now) | set(before[name]):
            if now.get(attr, missing) is not before[name].get(attr, missing):
                changed.add(f"{name}:{attr}")
                if attr in before[name]:
                    setattr(owner, attr, before[name][attr])
                else:
                    delattr(owner, attr)
    return changed


def main() -> int:
    from tests.defects import DEFECTS

    where = owners()
    json.dump({name: sorted(replaced_by(d.apply, where)) for name, d in sorted(DEFECTS.items())}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
