"""The target: where the checks send requests, with what credentials, and what it turned out to be."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from conformance.generation import Generation, from_answers, from_version
from conformance.http import RecordingClient, Response, StackClient, Unreachable


class NotLlamaStack(AssertionError):
    """The target answers HTTP, but nothing it said is what any Llama Stack or OGX release says."""


def redact_url(url: str) -> str:
    """The URL with any ``user:password@`` shown as ``***@``, even when the rest does not parse."""
    try:
        parts = urlsplit(url)
        host, port = parts.hostname or "", parts.port
    except ValueError:
        return _USERINFO.sub("//***@", url)
    if parts.username or parts.password:
        netloc = f"***@{host}" + (f":{port}" if port else "")
        return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    return url


_USERINFO = re.compile(r"//[^/?#]*@")


@dataclass
class Target:
    url: str
    client: StackClient
    generation: Generation


def _json(response: Response) -> Any:
    try:
        return response.json()
    except AssertionError:  # not strict JSON: not an answer a stack gives
        return None


def _is_stack_error(body: Any) -> bool:
    """The error bodies of every generation: ``{"error": {"message": ...}}`` or ``{"detail": ...}``."""
    if not isinstance(body, dict):
        return False
    error = body.get("error")
    return (isinstance(error, dict) and isinstance(error.get("message"), str)) or "detail" in body


def _sample(response: Response) -> str:
    kind = response.headers.get("content-type", "no content type").split(";")[0]
    text = " ".join(response.text.split())[:80]
    return f"GET {urlsplit(response.exchange.url).path} answered {response.status} ({kind}): {text!r}"


def detect_generation(client: StackClient) -> Generation:
    """Ask the target what it is.

    Raises `Unreachable` when it does not answer at all, and `NotLlamaStack` when it answers but
    none of its answers is one a Llama Stack gives: a version object, a models listing, or a
    refusal in a stack's error shape (0.2.x protects even /v1/version when auth is on). Grading a
    web server that is not a stack would only produce a wall of failures that say nothing."""
    probe = client.recorder([])
    try:
        return _identify(probe)
    except Unreachable:
        raise
    except AssertionError as exc:  # an answer the suite would not read whole (too large)
        raise NotLlamaStack(str(exc)) from None


def _identify(probe: RecordingClient) -> Generation:
    version = probe.get("/v1/version")
    version_body = _json(version)
    if version.status == 200 and isinstance(version_body, dict) and isinstance(version_body.get("version"), str):
        return from_answers(version_body, None, None)
    if version.status in (401, 403, 429) and _is_stack_error(version_body):
        return from_version((0, 2, 0), f"guessed: /v1/version answered {version.status}, which only 0.2.x does")
    openai = probe.get("/v1/openai/v1/models")
    models = probe.get("/v1/models")
    models_body = _json(models)
    listing = isinstance(models_body, dict) and isinstance(models_body.get("data"), list)
    if openai.status == 200 and isinstance(_json(openai), dict):
        return from_answers(None, 200, models_body if listing else None)
    if models.status == 200 and listing:
        return from_answers(None, openai.status, models_body)
    raise NotLlamaStack(f"{_sample(version)}; {_sample(models)}")


def check_url(url: str) -> str:
    """A usable ``http(s)://host[:port]`` base URL, or a ValueError that names it (password masked)."""
    problem = f"--stack-url {redact_url(url)!r}: expected http(s)://host[:port]"
    try:
        parts = urlsplit(url)
        port = parts.port  # parses it: 'abc' or 99999 raise here, not in the first request
    except ValueError as exc:
        raise ValueError(f"{problem} ({exc})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(problem)
    if port == 0:
        raise ValueError(f"{problem} (port 0)")
    return url.rstrip("/")


__all__ = ["NotLlamaStack", "Target", "Unreachable", "check_url", "detect_generation", "redact_url"]
