"""The requirement catalog: loading, validating and rendering ``catalog.yaml``.

``python -m conformance.catalog --write`` regenerates ``docs/requirements.md``; ``--check``
exits 1 when that file is stale (the project's tests run it too).
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import yaml

from conformance.generation import parse_version

CATALOG_PATH = Path(__file__).with_name("catalog.yaml")
DOC_PATH = Path("docs") / "requirements.md"
_ID = re.compile(r"[A-Z][A-Z0-9]*(-[A-Z][A-Z0-9]*)*-\d{3}")
LEVELS = ("MUST", "SHOULD")
# What promised a requirement. Only the first three can make a target "not conformant": a target
# cannot break a promise nobody made, so failed hardening is reported beside the claims.
BASES = ("documented", "contract", "rfc", "hardening")
HARDENING = "hardening"
# A source is a reference a user can follow: a documentation page, upstream code at a release tag,
# an issue or pull request (all URLs), or an RFC.
_OPENABLE = re.compile(r"https?://\S+|\bRFC \d+")
PROFILES = {
    "core": "Black-box checks any running deployment can take.",
    "config": "Start-up behaviour of run.yaml handling: substitution, coercion, gating. Needs a launcher.",
    "run-config": "The deployment's own run.yaml, linted for the generation it runs on. Needs --stack-config.",
    "startup": "The starter without a running Ollama, and Ollama coming and going. Needs a launcher.",
    "registration": "Models registered from variables at start-up and at run time, checked against the backend. "
    "Needs a launcher.",
    "auth-jwt": "oauth2_token authentication against a JWKS issuer: valid and broken tokens, key rotation, issuer "
    "outages, public probes. Needs a launcher.",
    "auth-custom": "custom-endpoint authentication: the payload the endpoint gets, and each way it can answer. "
    "Needs a launcher.",
    "abac": "Resource visibility between two principals. Needs a launcher.",
    "quota": "Per-client daily quotas: the 429, auth before quota, durability, exactness under a burst. "
    "Disruptive (it spends budgets), so it only runs on launched scenarios with tiny limits.",
    "inference": "Chat, streaming and embeddings through the native and the OpenAI-compatible routes (black box; "
    "--provider-id picks the provider).",
    "vector-io": "Vector dbs and vector IO (black box where the target serves /v1/vector-dbs), a restart that keeps "
    "the faiss index, and the starter's faiss default with sqlite-vec behind ENABLE_SQLITE_VEC (needs a launcher).",
    "files": "The OpenAI-compatible Files API: upload, read back, list, delete and its errors (black box where the "
    "target serves the files routes and has a files provider), under each route family of its window.",
    "vector-stores": "OpenAI-compatible vector stores: lifecycle, files attached and detached, search by a file's own "
    "text, attribute filters and score thresholds, unknown ids (black box where the target serves the routes and has "
    "a vector IO provider and an embedding model), under each route family of its window.",
    "safety": "Shields and run-shield (black box where the target serves /v1/shields); Llama Guard verdicts through "
    "a fake guard model, SAFETY_MODEL gating and the documentation page's two-vLLM layout (needs a launcher).",
}


@dataclass(frozen=True)
class Requirement:
    id: str
    level: str
    profile: str
    text: str
    source: str
    basis: str = "contract"
    since: str | None = None
    until: str | None = None

    def window(self) -> str:
        if self.since and self.until:
            return f">= {self.since}, < {self.until}"
        if self.since:
            return f">= {self.since}"
        if self.until:
            return f"< {self.until}"
        return "all"


def _validate(
    entry: dict[str, Any], index: int, profiles: Mapping[str, str] = PROFILES, default_basis: str | None = None
) -> Requirement:
    """One catalog entry; ``default_basis`` lets an extension's catalog, written before bases
    existed, leave them out (the suite's own must say each one)."""
    if default_basis is not None:
        entry = {"basis": default_basis, **entry}
    known = {"id", "level", "basis", "profile", "text", "source", "since", "until"}
    where = f"catalog entry {index} ({entry.get('id', '?')})"
    if extra := set(entry) - known:
        raise ValueError(f"{where}: unknown fields {sorted(extra)}")
    for field in ("id", "level", "basis", "profile", "text", "source"):
        if not isinstance(entry.get(field), str) or not entry[field]:
            raise ValueError(f"{where}: {field} must be a non-empty string")
    if not _ID.fullmatch(entry["id"]):
        raise ValueError(f"{where}: id must look like CFG-ENV-003")
    if entry["level"] not in LEVELS:
        raise ValueError(f"{where}: level must be one of {LEVELS}")
    if entry["basis"] not in BASES:
        raise ValueError(f"{where}: basis must be one of {BASES}")
    if entry["profile"] not in profiles:
        raise ValueError(f"{where}: profile must be one of {sorted(profiles)}")
    for bound in ("since", "until"):
        if entry.get(bound) is not None and parse_version(str(entry[bound])) is None:
            raise ValueError(f"{where}: {bound} must be a version")
    if not _OPENABLE.search(entry["source"]):
        raise ValueError(f"{where}: source must cite something a user can open: an http(s) URL or an RFC number")
    bounds = {bound: (str(entry[bound]) if entry.get(bound) is not None else None) for bound in ("since", "until")}
    return Requirement(
        id=entry["id"],
        level=entry["level"],
        profile=entry["profile"],
        text=entry["text"],
        source=entry["source"],
        basis=entry["basis"],
        **bounds,
    )


def _read(
    path: Path, profiles: Mapping[str, str], into: dict[str, Requirement], default_basis: str | None = None
) -> None:
    try:
        entries = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: not valid YAML: {str(exc).splitlines()[0]}") from None
    if not isinstance(entries, list) or not all(isinstance(entry, dict) for entry in entries):
        raise ValueError(f"{path}: expected a list of requirements (mappings with id, level, profile, ...)")
    for index, entry in enumerate(entries):
        requirement = _validate(entry, index, profiles, default_basis)
        if requirement.id in into:
            raise ValueError(f"{path}: duplicate id {requirement.id}")
        into[requirement.id] = requirement


@cache
def load_catalog(path: Path = CATALOG_PATH) -> dict[str, Requirement]:
    """The suite's own requirements."""
    catalog: dict[str, Requirement] = {}
    _read(path, PROFILES, catalog)
    return catalog


@dataclass(frozen=True)
class Extension:
    """Checks a provider package ships: its own profile, requirement ids and test files.

    A package declares one in the ``llama_stack_conformance.checks`` entry-point group, naming a
    module that sets ``PROFILE`` and ``DESCRIPTION``; the module's folder holds ``catalog.yaml``
    (requirements of that profile only) and ``test_*.py`` files, collected with the suite's."""

    name: str
    profile: str
    description: str
    folder: Path


ENTRY_POINT_GROUP = "llama_stack_conformance.checks"


@cache
def extensions() -> tuple[Extension, ...]:
    found: list[Extension] = []
    for point in entry_points(group=ENTRY_POINT_GROUP):
        where = f"entry point {point.name!r} ({point.value})"
        try:
            module = point.load()
        except Exception as exc:  # a broken extension is named, not a traceback
            raise ValueError(f"{where}: cannot be loaded: {exc}") from None
        profile, description = getattr(module, "PROFILE", None), getattr(module, "DESCRIPTION", "")
        if not isinstance(profile, str) or not profile or profile in PROFILES:
            raise ValueError(f"{where}: PROFILE must be a new profile name, not one of the suite's")
        folder = Path(str(module.__file__)).parent
        if not (folder / "catalog.yaml").exists():
            raise ValueError(f"{where}: {folder / 'catalog.yaml'} does not exist")
        found.append(Extension(point.name, profile, str(description), folder))
    return tuple(found)


@cache
def full_catalog() -> dict[str, Requirement]:
    """The suite's requirements and every installed extension's, which may not reuse an id."""
    catalog = dict(load_catalog())
    for extension in extensions():
        # An extension's requirements are its own provider's promises, in its own documentation.
        _read(extension.folder / "catalog.yaml", {extension.profile: extension.description}, catalog, "documented")
    return catalog


def render_markdown(catalog: dict[str, Requirement]) -> str:
    lines = [
        "# Requirements",
        "",
        "Generated from `conformance/catalog.yaml` by `python -m conformance.catalog --write`; do not edit by hand.",
        "",
        "A requirement applies to upstream releases inside its window (`since` inclusive, `until` exclusive);",
        "the reference server is inside every window.",
        "",
        "Its basis says what promised it: `documented` (upstream's documentation page), `contract` (upstream's API",
        "models and code at a release tag), `rfc`, or `hardening` (recommended, promised by nobody). Only the first",
        "three can make a profile not conformant; failed hardening is reported beside the claims.",
        "",
    ]
    for profile, purpose in PROFILES.items():
        members = [r for r in catalog.values() if r.profile == profile]
        lines += [
            f"## Profile `{profile}`",
            "",
            purpose,
            "",
            "| id | level | basis | window | requirement | source |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        for r in members:
            text = r.text.replace("|", "\\|")
            lines.append(f"| {r.id} | {r.level} | {r.basis} | {r.window()} | {text} | {r.source} |")
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m conformance.catalog")
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--write", action="store_true", help=f"regenerate {DOC_PATH}")
    action.add_argument("--check", action="store_true", help=f"exit 1 when {DOC_PATH} is out of date")
    args = parser.parse_args(argv)
    try:
        text = render_markdown(load_catalog())
    except ValueError as error:
        print(f"conformance.catalog: {error}", file=sys.stderr)
        return 2
    if args.write:
        DOC_PATH.parent.mkdir(parents=True, exist_ok=True)
        DOC_PATH.write_text(text, encoding="utf-8")
    elif args.check:
        current = DOC_PATH.read_text(encoding="utf-8") if DOC_PATH.exists() else ""
        if current != text:
            print(f"{DOC_PATH} is out of date: run python -m conformance.catalog --write", file=sys.stderr)
            return 1
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
