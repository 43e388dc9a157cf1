"""Defects of the quota profile (conformance/checks/test_quota.py): who is counted, how, and how a refusal reads."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import reference_server.quota.middleware as quota
import reference_server.stack as stack_module
from reference_server.auth.middleware import AuthMiddleware
from reference_server.auth.principal import Principal
from reference_server.quota.middleware import QuotaMiddleware
from tests.defects.patching import Apply, rewrite_api, rewrite_headers, wrap_app
from tests.defects.registry import defect

TOO_MANY_REQUESTS = b'{"error": {"message": "Too Many Requests"}}'

defect("quota-body-wrong", "QUOTA-001")(
    rewrite_api(lambda m, p, c, b: (429, TOO_MANY_REQUESTS, "application/json") if c == 429 else None)
)


def _quota_before_auth(app: Any) -> Any:
    layers = app.user_middleware
    kinds = [m.cls for m in layers]
    if AuthMiddleware in kinds and QuotaMiddleware in kinds:
        auth, counted = kinds.index(AuthMiddleware), kinds.index(QuotaMiddleware)
        layers[auth], layers[counted] = layers[counted], layers[auth]
    return app


# Upstream's order: the quota sees no principal, so it keys by IP with the anonymous limit.
defect("quota-before-auth", "QUOTA-002", "QUOTA-003")(wrap_app(_quota_before_auth))


class _MemoryCounter:
    def __init__(self, racy: bool) -> None:
        self.counts: dict[str, int] = {}
        self.racy = racy

    async def increment(self, key: str, expires_at: int) -> int:
        value = self.counts.get(key, 0)
        if self.racy:
            await asyncio.sleep(0.005)  # the defect: read, yield, write back (a lost update)
        self.counts[key] = value + 1
        return value + 1

    async def aclose(self) -> None:
        return None


def memory_counter(racy: bool) -> Apply:
    def apply() -> None:
        stack_module.build_counter = lambda config: _MemoryCounter(racy)

    return apply


defect("quota-in-memory", "QUOTA-004")(memory_counter(racy=False))
defect("quota-lost-updates", "QUOTA-005")(memory_counter(racy=True))


def _retry_after(value: bytes | None) -> Callable[[list[tuple[bytes, bytes]]], list[tuple[bytes, bytes]]]:
    """Drop a 429's Retry-After (``None``) or replace its value."""

    def edit(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
        kept = [(k, v) for k, v in headers if k.lower() != b"retry-after"]
        return kept if value is None else [*kept, (b"retry-after", value)]

    return edit


defect("quota-without-retry-after", "QUOTA-006")(rewrite_headers(429, _retry_after(None)))
# A plausible Retry-After that is not the end of the day window.
defect("retry-after-an-hour", "QUOTA-006")(rewrite_headers(429, _retry_after(b"3600")))


@defect("health-counted", "QUOTA-007")
def health_counted() -> None:
    quota.EXEMPT = frozenset()


@defect("quota-one-early", "QUOTA-001", "QUOTA-002")
def quota_one_early() -> None:
    """An off-by-one limit: the last request of the budget is already refused."""
    original = QuotaMiddleware.__init__

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self.anonymous -= 1
        self.authenticated -= 1

    QuotaMiddleware.__init__ = init  # type: ignore[method-assign]


def quota_keyed(rekey: Callable[[dict[str, Any]], None]) -> Apply:
    """The quota sees a rewritten scope: who a caller is, for counting only."""

    def apply() -> None:
        original = QuotaMiddleware.__call__

        async def call(self: Any, scope: Any, receive: Any, send: Any) -> None:
            counted = dict(scope)
            rekey(counted)
            await original(self, counted, receive, send)

        QuotaMiddleware.__call__ = call  # type: ignore[method-assign]

    return apply


def _one_anonymous_client(scope: dict[str, Any]) -> None:
    scope["client"] = ("anonymous", 0)


def _counted_per_token(scope: dict[str, Any]) -> None:
    header = next((v for k, v in scope.get("headers", []) if k == b"authorization"), b"")
    if isinstance(scope.get("principal"), Principal):
        scope["principal"] = Principal(f"token:{hash(header)}", scope["principal"].attributes)


defect("one-anonymous-budget", "QUOTA-008")(quota_keyed(_one_anonymous_client))
defect("quota-per-token", "QUOTA-009")(quota_keyed(_counted_per_token))


def _without_quota(app: Any) -> Any:
    app.user_middleware = [m for m in app.user_middleware if m.cls is not QuotaMiddleware]
    return app


# No requirement of its own: with the quota section read and ignored (OGX 1.x's server config has
# no such field), the checks that need a quota to exist say inconclusive (tests/suite/test_negative_controls.py).
defect("quota-dropped")(wrap_app(_without_quota))
