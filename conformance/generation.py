"""Generations of Llama Stack, and which requirements apply to which.

A generation is a release number on one line of history: llama-stack 0.x, then OGX 1.x (the
rename continued the numbering's order, so plain version comparison still works). The
reference server is a generation of its own that sits inside every window.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_VERSION = re.compile(r"(\d+)\.(\d+)(?:\.(\d+))?")

REFERENCE_IMPLEMENTATION = "llama-stack-reference"

Version = tuple[int, int, int]


def parse_version(text: str) -> Version | None:
    match = _VERSION.search(text)
    if not match:
        return None
    major, minor, patch = match.groups()
    return int(major), int(minor), int(patch or 0)


def format_version(version: Version) -> str:
    return ".".join(str(part) for part in version)


@dataclass(frozen=True)
class Generation:
    name: str
    version: Version | None = None
    how: str = "detected"

    @property
    def is_reference(self) -> bool:
        return self.version is None

    def in_window(self, since: str | None, until: str | None) -> bool:
        if self.version is None:
            return True
        if since and self.version < (parse_version(since) or (0, 0, 0)):
            return False
        return not (until and self.version >= (parse_version(until) or (999, 0, 0)))

    def describe(self) -> str:
        return f"{self.name} ({self.how})"


REFERENCE = Generation("reference", None, "the embedded reference server")


def from_version(version: Version, how: str) -> Generation:
    family = "ogx" if version[0] >= 1 else "llama-stack"
    return Generation(f"{family} {format_version(version)}", version, how)


# The releases whose windows the catalog describes: llama-stack 0.2.0 (the documentation page's
# era) up to the rename, and OGX 1.x. A version outside would be graded against windows nobody
# wrote for it, so an override naming one is refused.
KNOWN_RANGE: tuple[Version, Version] = ((0, 2, 0), (2, 0, 0))


def parse_override(text: str, source: str = "--stack-generation") -> Generation:
    """``--stack-generation``: ``reference``, ``0.2.12``, ``llama-stack-0.7.3``, ``ogx-1.5``.

    ``source`` names where the value came from (the flag, its environment twin, the ini key), for
    the report header and for the error."""
    if text.strip().lower() == "reference":
        return Generation("reference", None, f"given by {source}")
    version = parse_version(text)
    if version is None:
        raise ValueError(f"{source} {text!r}: expected 'reference' or a version such as 0.2.12 or ogx-1.5")
    low, high = KNOWN_RANGE
    if not low <= version < high:
        raise ValueError(
            f"{source} {text!r}: the suite knows llama-stack {format_version(low)} up to OGX 1.x "
            f"(versions from {format_version(low)} below {format_version(high)}), not {format_version(version)}"
        )
    return from_version(version, f"given by {source}")


def from_answers(version_body: object, openai_models_status: int | None, models_body: object) -> Generation:
    """Detect the generation from what the target answered: its version, else the shape of its routes."""
    if isinstance(version_body, dict):
        if version_body.get("implementation") == REFERENCE_IMPLEMENTATION:
            return Generation("reference", None, "detected from /v1/version")
        text = version_body.get("version")
        if isinstance(text, str) and (version := parse_version(text)) is not None:
            return from_version(version, "detected from /v1/version")
    if openai_models_status == 200:
        return from_version((0, 2, 0), "guessed: /v1/openai/v1/models exists")
    if isinstance(models_body, dict) and models_body.get("object") == "list":
        return from_version((0, 4, 0), "guessed: /v1/models has the OpenAI list shape")
    return from_version((0, 2, 0), "guessed: nothing told the generation apart")
