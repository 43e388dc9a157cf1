"""The HTTP client checks use: bounded exchanges, and a record of every one.

Bounded, because the target may be hostile or broken: each request's whole exchange (headers
included) must finish within ``--request-timeout``, not just each read; an answer is read up to
`MAX_ANSWER_BYTES` (after decompression, so a gzip bomb stops there too), the excess a failure
naming it; and the record keeps only the first `KEPT_EVIDENCE_CHARS` of each answer, so a run's
memory does not grow with what the target sends.

The record is what makes a failure actionable: the plugin renders the failing check's last
request as a ``curl`` line. Credentials never enter the record: a token is named by its
environment variable, and a URL's ``user:password@`` is taken off the URL the checks see and
sent as Basic credentials, so no message, repr or curl line can carry it.
"""

from __future__ import annotations

import json
import math
import shlex
import ssl
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

import httpx

from conformance.ledger import ALT, ANONYMOUS, OTHER, PRIMARY, UNANSWERED, Ledger, sent_key
from conformance.outcomes import inconclusive

TOKEN_ENV = {"primary": "LLAMA_STACK_TOKEN", "alt": "LLAMA_STACK_TOKEN_ALT", "minted": "MINTED_TOKEN"}
# How a curl line names the deployment's URL when that URL carries credentials.
URL_ENV = "LLAMA_STACK_URL"
MAX_ANSWER_BYTES = 16 * 1024 * 1024
KEPT_EVIDENCE_CHARS = 4096


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
        """The body as strict JSON (RFC 8259): ``NaN``, ``Infinity``, numbers that overflow a
        double and nesting beyond Python's recursion are a failure naming the body, never a pass
        and never a crash of the run."""
        try:
            return json.loads(self.text, parse_constant=_not_json, parse_float=_finite)
        except _NotJSON as exc:
            why = str(exc)
        except RecursionError:
            why = "nested too deeply to be read"
        except ValueError:
            why = "not JSON"
        raise AssertionError(f"{self.exchange.method} {self.exchange.url}: body is {why}: {self.text[:200]!r}")

    def describe(self) -> str:
        return f"{self.exchange.method} {self.exchange.url} answered {self.status}: {self.text[:300]}"


class _NotJSON(ValueError):
    pass


def _not_json(name: str) -> Any:
    raise _NotJSON(f"not strict JSON ({name} is not a JSON value)")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _NotJSON(f"not strict JSON ({text[:40]} overflows a double)")
    return value


def multipart_form(fields: dict[str, str], files: dict[str, tuple[str, bytes]]) -> tuple[bytes, str]:
    """A ``multipart/form-data`` body and its Content-Type, encoded by httpx (quoting included):
    built before sending, not by the transport, so the exchange records (and its curl line
    replays) exactly the bytes sent."""
    request = httpx.Request("POST", "http://multipart.invalid/", data=fields, files=files)
    return request.read(), request.headers["Content-Type"]


def require_authorised(response: Response, expected: set[int] | range) -> None:
    """An unexpected 401 or 403 means the suite lacked credentials, and an unexpected 429 that its
    credentials' quota is spent, not that the target is wrong: the check is then inconclusive
    rather than failed."""
    if response.status in (401, 403) and not (401 in expected or 403 in expected):
        inconclusive(
            f"{response.exchange.method} {response.exchange.url} answered {response.status}: "
            "the suite lacks credentials for this target (pass --stack-token)"
        )
    if response.status == 429 and 429 not in expected:
        inconclusive(
            f"{response.exchange.method} {response.exchange.url} answered 429: the target's quota "
            "refused the suite's credentials, so this check could not judge (their budget for today is spent)"
        )


def describe_statuses(expected: set[int]) -> str:
    """``200``, ``200 or 404``, ``2xx``: a whole class of statuses is named as one."""
    classes = {status // 100 for status in expected}
    if len(classes) == 1 and expected == set(range(min(classes) * 100, min(classes) * 100 + 100)):
        return f"{min(classes)}xx"
    return " or ".join(str(status) for status in sorted(expected))


@dataclass
class StackClient:
    """One target's HTTP surface, shared by the checks of a session."""

    base_url: str
    tokens: dict[str, str | None] = field(default_factory=dict, repr=False)
    timeout: float = 10.0
    # The client address to send from (127.0.0.2 plays a second anonymous client on loopback).
    local_address: str | None = None
    # A CA file to verify an https target against (--stack-ca-file, or a TLS scenario's own CA);
    # without one the system's trusted CAs are used. Verification is never turned off.
    ca_file: str | None = None
    # Counts what the suite sends to a URL target whose quota it will spend (--stack-quota-budget).
    ledger: Ledger | None = field(default=None, repr=False)
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
            verify = ssl.create_default_context(cafile=self.ca_file) if self.ca_file else ssl.create_default_context()
            # A transport given to the client carries its own verify and limits, not the client's.
            transport = (
                httpx.HTTPTransport(local_address=self.local_address, verify=verify, limits=limits)
                if self.local_address
                else None
            )
            self._client = httpx.Client(
                base_url=self.base_url,
                timeout=self.timeout,
                verify=verify,
                limits=limits,
                auth=self._basic,
                transport=transport,
            )
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def recorder(self, exchanges: list[Exchange]) -> RecordingClient:
        return RecordingClient(self, exchanges)

    def exchange(
        self, method: str, path: str, body: bytes | None, headers: dict[str, str]
    ) -> tuple[int, httpx.Headers, str]:
        """One request within `timeout` for the whole exchange; raises `Unreachable` otherwise.

        httpx bounds each read, so a target that drips its headers or streams without end
        would hold a check for ever. The exchange runs in a daemon thread that the check waits
        on for at most the timeout; the reading loop also stops at the deadline and the size cap,
        so only a target that drips headers for ever keeps that thread (and its connection) alive,
        and nothing waits for it."""
        outcome: list[tuple[int, httpx.Headers, str] | BaseException] = []
        deadline = time.monotonic() + self.timeout

        def run() -> None:
            try:
                outcome.append(self._read(method, path, body, headers, deadline))
            except BaseException as exc:  # handed to the caller's thread
                outcome.append(exc)

        worker = threading.Thread(target=run, name=f"exchange {method} {path}", daemon=True)
        worker.start()
        worker.join(self.timeout + 0.5)
        if self.ledger is not None:
            answered = bool(outcome) and not isinstance(outcome[0], BaseException)
            self.ledger.add(sent_key(self._sender(headers) if answered else UNANSWERED, path))
        if not outcome:
            raise Unreachable(f"{method} {path}: no complete answer within {self.timeout:g} s")
        result = outcome[0]
        if isinstance(result, httpx.TimeoutException):
            raise Unreachable(f"{method} {path}: no answer within {self.timeout:g} s")
        if isinstance(result, httpx.TransportError):
            hint = ""
            if "CERTIFICATE_VERIFY_FAILED" in str(result):
                hint = " (the certificate is verified, never ignored: pass --stack-ca-file with the CA that signed it)"
            raise Unreachable(f"{method} {path}: {type(result).__name__}: {result}{hint}")
        if isinstance(result, BaseException):
            raise result
        return result

    def _sender(self, headers: dict[str, str]) -> str:
        given = headers.get("Authorization")
        if given is None:
            return ANONYMOUS
        for role in (PRIMARY, ALT):
            if self.tokens.get(role) and given == f"Bearer {self.tokens[role]}":
                return role
        return OTHER

    def _read(
        self, method: str, path: str, body: bytes | None, headers: dict[str, str], deadline: float
    ) -> tuple[int, httpx.Headers, str]:
        with self._http().stream(method, path, content=body, headers=headers) as answer:
            chunks: list[bytes] = []
            size = 0
            for chunk in answer.iter_bytes():
                size += len(chunk)
                if size > MAX_ANSWER_BYTES:
                    raise AssertionError(
                        f"{method} {path}: the answer is larger than {MAX_ANSWER_BYTES} bytes "
                        "(the suite reads no more of one answer)"
                    )
                if time.monotonic() > deadline:
                    raise Unreachable(f"{method} {path}: the answer did not end within {self.timeout:g} s")
                chunks.append(chunk)
            encoding = answer.encoding or "utf-8"
            return answer.status_code, answer.headers, b"".join(chunks).decode(encoding, "replace")


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
        status, answer_headers, text = self.stack.exchange(method, path, body, wire_headers)
        exchange.status = status
        exchange.response_text = text[:KEPT_EVIDENCE_CHARS]
        response = Response(status, answer_headers, text, exchange)
        if expect is not None:
            expected = {expect} if isinstance(expect, int) else set(expect)
            if response.status not in expected:
                if bearer is None:  # the run's own credentials; a check's minted token proves its point
                    require_authorised(response, expected)
                raise AssertionError(f"expected {describe_statuses(expected)}, but {response.describe()}")
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
