"""The target: where the checks send requests, with what credentials, and what it turned out to be."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from conformance.generation import Generation, from_answers
from conformance.http import StackClient, Unreachable


def redact_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.username or parts.password:
        host = parts.hostname or ""
        netloc = f"***@{host}" + (f":{parts.port}" if parts.port else "")
        return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    return url


@dataclass
class Target:
    url: str
    client: StackClient
    generation: Generation


def detect_generation(client: StackClient) -> Generation:
    """Ask the target what it is; raises `Unreachable` with a one-line reason when it does not answer."""
    probe = client.recorder([])
    version = probe.get("/v1/version")
    version_body = version.json() if version.status == 200 else None
    if version_body is not None and isinstance(version_body, dict) and "implementation" in version_body:
        return from_answers(version_body, None, None)
    openai = probe.get("/v1/openai/v1/models")
    models = probe.get("/v1/models")
    models_body = models.json() if models.status == 200 else None
    return from_answers(version_body, openai.status, models_body)


def check_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"--stack-url {url!r}: expected http(s)://host[:port]")
    return url.rstrip("/")


__all__ = ["Target", "Unreachable", "check_url", "detect_generation", "redact_url"]
