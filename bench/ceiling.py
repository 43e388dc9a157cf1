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


if __name__ == "__main__":
    # Started this way only for the ceiling's cold start: spawn to the announced first readiness,
    # the floor under any server on this framework (bench/run.py).
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from loopback_serving import announcement, bind, serve, url_of

    sock = bind("127.0.0.1", 0)
    serve(app, sock, announcement("ceiling") + url_of(sock))
