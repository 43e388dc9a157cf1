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


def fastapi_app() -> object:
    """The same two routes on a bare FastAPI app: the floor under a FastAPI server's cold start
    (importing FastAPI builds its OpenAPI models, most of a second on a slow machine)."""
    from fastapi import FastAPI

    bare = FastAPI()
    bare.add_route("/v1/models", models)
    bare.add_route("/v1/health", health)
    return bare


if __name__ == "__main__":
    # Started this way only for cold starts (bench/run.py): spawn to the announced readiness.
    # `python bench/ceiling.py [starlette|fastapi]`
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from loopback_serving import announcement, bind, serve, url_of

    served = fastapi_app() if sys.argv[1:] == ["fastapi"] else app
    sock = bind("127.0.0.1", 0)
    serve(served, sock, announcement("ceiling") + url_of(sock))
