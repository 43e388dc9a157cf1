"""The requirement catalog: loading, validating and rendering ``catalog.yaml``.

``python -m conformance.catalog --write`` regenerates ``docs/requirements.md``; ``--check``
exits 1 when that file is stale (the project's tests run it too).
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from conformance.generation import parse_version

CATALOG_PATH = Path(__file__).with_name("catalog.yaml")
DOC_PATH = Path("docs") / "requirements.md"
_ID = re.compile(r"[A-Z]+(-[A-Z]+)*-\d{3}")
LEVELS = ("MUST", "SHOULD")
PROFILES = {
    "core": "Black-box checks any running deployment can take.",
    "config": "Start-up behaviour of run.yaml handling: substitution, coercion, gating. Needs a launcher.",
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
    "safety": "Shields and run-shield (black box where the target serves /v1/shields); Llama Guard verdicts through "
    "a fake guard model, SAFETY_MODEL gating and the seed's two-vLLM layout (needs a launcher).",
}


@dataclass(frozen=True)
class Requirement:
    id: str
    level: str
    profile: str
    text: str
    source: str
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


def _validate(entry: dict[str, Any], index: int) -> Requirement:
    known = {"id", "level", "profile", "text", "source", "since", "until"}
    where = f"catalog entry {index} ({entry.get('id', '?')})"
    if extra := set(entry) - known:
        raise ValueError(f"{where}: unknown fields {sorted(extra)}")
    for field in ("id", "level", "profile", "text", "source"):
        if not isinstance(entry.get(field), str) or not entry[field]:
            raise ValueError(f"{where}: {field} must be a non-empty string")
    if not _ID.fullmatch(entry["id"]):
        raise ValueError(f"{where}: id must look like CFG-ENV-003")
    if entry["level"] not in LEVELS:
        raise ValueError(f"{where}: level must be one of {LEVELS}")
    if entry["profile"] not in PROFILES:
        raise ValueError(f"{where}: profile must be one of {sorted(PROFILES)}")
    for bound in ("since", "until"):
        if entry.get(bound) is not None and parse_version(str(entry[bound])) is None:
            raise ValueError(f"{where}: {bound} must be a version")
    bounds = {bound: (str(entry[bound]) if entry.get(bound) is not None else None) for bound in ("since", "until")}
    return Requirement(
        id=entry["id"],
        level=entry["level"],
        profile=entry["profile"],
        text=entry["text"],
        source=entry["source"],
        **bounds,
    )


@cache
def load_catalog(path: Path = CATALOG_PATH) -> dict[str, Requirement]:
    entries = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    catalog: dict[str, Requirement] = {}
    for index, entry in enumerate(entries):
        requirement = _validate(entry, index)
        if requirement.id in catalog:
            raise ValueError(f"catalog: duplicate id {requirement.id}")
        catalog[requirement.id] = requirement
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
    ]
    for profile, purpose in PROFILES.items():
        members = [r for r in catalog.values() if r.profile == profile]
        lines += [
            f"## Profile `{profile}`",
            "",
            purpose,
            "",
            "| id | level | window | requirement | source |",
            "| --- | --- | --- | --- | --- |",
        ]
        for r in members:
            text = r.text.replace("|", "\\|")
            lines.append(f"| {r.id} | {r.level} | {r.window()} | {text} | {r.source} |")
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m conformance.catalog")
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--write", action="store_true", help=f"regenerate {DOC_PATH}")
    action.add_argument("--check", action="store_true", help=f"exit 1 when {DOC_PATH} is out of date")
    args = parser.parse_args(argv)
    text = render_markdown(load_catalog())
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
