"""The HTTP client checks use: a timeout on every request, and a record of every exchange.

The record is what makes a failure actionable: the plugin renders the failing check's last
request as a ``curl`` line. Credentials never enter the record: a token is named by its
environment variable, and a URL's ``user:password@`` is taken off the URL the checks see and
sent as Basic credentials, so no message, repr or curl line can carry it.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

import httpx

from conformance.outcomes import inconclusive

TOKEN_ENV = {"primary": "LLAMA_STACK_TOKEN", "alt": "LLAMA_STACK_TOKEN_ALT", "minted": "MINTED_TOKEN"}
# How a curl line names the deployment's URL when that URL carries credentials.
URL_ENV = "LLAMA_STACK_URL"


def split_credentials(url: str) -> tuple[str, tuple[str, str] | None]:
    """``http://user:pw@host/x`` -> (``http://host/x``, (user, pw)); URLs without userinfo unchanged."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url, None
    netloc = (parts.hostname or "") if ":" not in (parts.hostname or "") else f"[{parts.hostname}]"
    if parts.port:
        netloc += f":{parts.port}"
    bare = urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    return bare, (unquote(parts.username or ""), unquote(parts.password or ""))


class Unreachable(AssertionError):
    """The target did not answer at all (refused, reset, timed out)."""


@dataclass
class Exchange:
    method: str
    url: str
    headers: dict[str, str]
    body: bytes | None
    token_role: str | None
    status: int | None = None
    response_text: str = ""
    # The path alone, when the base URL carries credentials the curl line must not show.
    credentialed_path: str | None = None

    def curl(self) -> str:
        parts = ["curl", "-sS", "-i", "-X", self.method]
        if self.credentialed_path is None:
            parts.append(shlex.quote(self.url))
        else:
            parts.append(f'"${URL_ENV}"{shlex.quote(self.credentialed_path)}')
        for name, value in self.headers.items():
            parts += ["-H", shlex.quote(f"{name}: {value}")]
        if self.token_role:
            parts += ["-H", f'"Authorization: Bearer ${TOKEN_ENV[self.token_role]}"']
        if self.body is not None:
            parts += ["--data-binary", shlex.quote(self.body.decode("utf-8", "replace"))]
        return " ".join(parts)


@dataclass
class Response:
    status: int
    headers: httpx.Headers
    text: str
    exchange: Exchange

    def json(self) -> Any:
        try:
            return json.loads(self.text)
        except ValueError:
            raise AssertionError(
                f"{self.exchange.method} {self.exchange.url}: body is not JSON: {self.text[:200]!r}"
            ) from None

    def describe(self) -> str:
        return f"{self.exchange.method} {self.exchange.url} answered {self.status}: {self.text[:300]}"


def require_authorised(response: Response, expected: set[int] | range) -> None:
    """An unexpected 401 or 403 means the suite lacked credentials, not that the target is wrong:
    the check is then inconclusive rather than failed."""
    if response.status in (401, 403) and not (401 in expected or 403 in expected):
        inconclusive(
            f"{response.exchange.method} {response.exchange.url} answered {response.status}: "
            "the suite lacks credentials for this target (pass --stack-token)"
        )


@dataclass
class StackClient:
    """One target's HTTP surface, shared by the checks of a session."""

    base_url: str
    tokens: dict[str, str | None] = field(default_factory=dict, repr=False)
    timeout: float = 10.0
    _client: httpx.Client | None = field(default=None, repr=False)
    _basic: tuple[str, str] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.base_url, self._basic = split_credentials(self.base_url)

    def _http(self) -> httpx.Client:
        if self._client is None:
            # One connection per request, as the curl lines in reports reproduce it. A pooled
            # connection would pin a later check's verdict on an earlier answer: 0.7.3 resets the
            # connection that carried an error answer when it is reused, and a server closing an
            # idle connection races the next request. Neither is what a requirement is about.
            limits = httpx.Limits(max_keepalive_connections=0)
            self._client = httpx.Client(
                base_url=self.base_url, timeout=self.timeout, verify=False, limits=limits, auth=self._basic
            )
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def recorder(self, exchanges: list[Exchange]) -> RecordingClient:
        return RecordingClient(self, exchanges)


@dataclass
class RecordingClient:
    """A check's view of the client: same connection pool, its own exchange record."""

    stack: StackClient
    exchanges: list[Exchange]

    @property
    def base_url(self) -> str:
        return self.stack.base_url

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
        as_role: str | None = "primary",
        bearer: str | None = None,
        expect: int | Iterable[int] | None = None,
    ) -> Response:
        """Send one request; with ``expect``, a different status fails the check.

        An unexpected 401 or 403 means the suite lacked credentials, not that the target is
        wrong: the check is then inconclusive rather than failed.
        """
        sent_headers = dict(headers or {})
        body = content
        if json_body is not None:
            body = json.dumps(json_body).encode()
            sent_headers.setdefault("Content-Type", "application/json")
        token = bearer if bearer is not None else (self.stack.tokens.get(as_role) if as_role else None)
        role = "minted" if bearer is not None else as_role
        exchange = Exchange(method, self.stack.base_url + path, sent_headers, body, role if token else None)
        if self.stack._basic is not None:
            exchange.credentialed_path = path
        self.exchanges.append(exchange)
        wire_headers = dict(sent_headers)
        if token:
            wire_headers["Authorization"] = f"Bearer {token}"
        try:
            answer = self.stack._http().request(method, path, content=body, headers=wire_headers)
        except httpx.TimeoutException:
            raise Unreachable(f"{method} {path}: no answer within {self.stack.timeout:g} s") from None
        except httpx.TransportError as exc:
            raise Unreachable(f"{method} {path}: {type(exc).__name__}: {exc}") from None
        exchange.status = answer.status_code
        exchange.response_text = answer.text
        response = Response(answer.status_code, answer.headers, answer.text, exchange)
        if expect is not None:
            expected = {expect} if isinstance(expect, int) else set(expect)
            if response.status not in expected:
                if bearer is None:  # the run's own credentials; a check's minted token proves its point
                    require_authorised(response, expected)
                raise AssertionError(f"expected {sorted(expected)}, but {response.describe()}")
        return response

    def get(self, path: str, **kwargs: Any) -> Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Response:
        return self.request("POST", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Response:
        return self.request("DELETE", path, **kwargs)

    def get_json(self, path: str, **kwargs: Any) -> Any:
        kwargs.setdefault("expect", 200)
        return self.get(path, **kwargs).json()
