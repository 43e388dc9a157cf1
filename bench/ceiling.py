"""The ceiling: a bare Starlette app on the same uvicorn, answering GET /v1/models with a body
of the same size as the reference server's. What the framework alone can do on this machine."""

from __future__ import annotations

import os

from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

BODY = os.environ.get("CEILING_BODY", '{"data": []}').encode()


async def models(_request: object) -> Response:
    return Response(BODY, media_type="application/json")


async def health(_request: object) -> Response:
    return Response(b'{"status": "OK"}', media_type="application/json")


app = Starlette(routes=[Route("/v1/models", models), Route("/v1/health", health)])
