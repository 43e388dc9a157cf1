"""The quota check, placed *inside* authentication.

Upstream runs its quota before authentication, so every caller is keyed by IP with the
anonymous limit, and a caller without a token gets 429 instead of 401. Here authentication runs
first: an authenticated principal is counted against its own ``authenticated_max_requests``,
anyone else by client IP against ``anonymous_max_requests``. With no auth configured, the
anonymous limit applies to everyone, as the seed notes.

Windows are UTC days. ``GET /v1/health`` is not counted, so probes never eat the budget. Over
the limit the answer is the seed's 429 ``{"error": {"message": "Quota exceeded"}}`` plus
``Retry-After`` (seconds to the end of the window). A counter that cannot be reached is a 503,
never a silent pass.
"""

# Requirements (conformance/catalog.yaml): QUOTA-001, QUOTA-002, QUOTA-003, QUOTA-008

from __future__ import annotations

import time

from starlette.types import ASGIApp, Receive, Scope, Send

from reference_server.asgi_errors import send_error
from reference_server.auth.principal import Principal
from reference_server.config.schema import QuotaConfig
from reference_server.errors import StackError
from reference_server.quota.counters import Counter

DAY = 86_400
EXEMPT = frozenset({("GET", "/v1/health")})


class QuotaMiddleware:
    def __init__(self, app: ASGIApp, config: QuotaConfig, counter: Counter, auth_enabled: bool) -> None:
        self.app = app
        self.counter = counter
        self.anonymous = config.anonymous_max_requests
        self.authenticated = config.authenticated_max_requests if auth_enabled else config.anonymous_max_requests

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or (scope["method"], scope["path"]) in EXEMPT:
            await self.app(scope, receive, send)
            return
        principal = scope.get("principal")
        if isinstance(principal, Principal):
            client, limit = f"principal:{principal.id}", self.authenticated
        else:
            client, limit = f"ip:{(scope.get('client') or ('unknown',))[0]}", self.anonymous
        now = time.time()
        window = int(now // DAY)
        try:
            count = await self.counter.increment(f"quota:{client}:{window}", (window + 1) * DAY)
        except StackError as exc:
            await send_error(send, 503, exc.message)
            return
        if count > limit:
            retry_after = max(1, int((window + 1) * DAY - now))
            await send_error(send, 429, "Quota exceeded", [(b"retry-after", str(retry_after).encode())])
            return
        await self.app(scope, receive, send)
