"""Targets for tests of the suite itself: no requirement of their own, each names the test it serves."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from tests.defects.patching import rewrite_api, wrap_app
from tests.defects.registry import defect

# tests/suite/test_plugin.py and the harness's defect-free run: the reference server unchanged.
defect("none")(lambda: None)

# Every API request is refused for lack of credentials, the situation in which the suite must
# answer "inconclusive", never "pass" (tests/suite/test_plugin.py).
defect("auth-wall")(
    rewrite_api(
        lambda m, p, c, b: (
            (401, b'{"error": {"message": "Authentication required"}}', "application/json")
            if p != "/v1/health"
            else None
        )
    )
)


class EchoingMiddleware:
    """Answers /v1/health with the request's Authorization header in the body."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != "/v1/health":
            await self.app(scope, receive, send)
            return
        seen = dict(scope["headers"]).get(b"authorization", b"").decode("latin-1")
        body = json.dumps({"status": f"OK for {seen}"}).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _with_echo(app: Any) -> Any:
    app.add_middleware(EchoingMiddleware)
    return app


@defect("echoes-credentials")  # tests/suite/test_secrets.py
def echoes_credentials() -> None:
    """A hostile target for the secrets test: it logs its secret environment at start-up and
    echoes every caller's credentials, so a run that did not mask them would write them out."""
    for name, value in sorted(os.environ.items()):
        if name.endswith("_TOKEN"):
            print(f"echoes-credentials: {name}={value}", file=sys.stderr, flush=True)
    wrap_app(_with_echo)()


def _dying(app: Any) -> Any:
    answered: list[str] = []

    async def dying(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and answered:
            os._exit(0)
        await app(scope, receive, send)
        if scope["type"] == "http" and scope["path"] == "/v1/version":
            answered.append(scope["path"])

    return dying


# tests/suite/test_bad_targets.py: answers the suite's start-of-run probe (GET /v1/version), then
# exits on the next request without answering it, a deployment that goes away while the checks run.
defect("dies-after-the-probe")(wrap_app(_dying))
