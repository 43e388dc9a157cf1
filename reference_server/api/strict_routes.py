"""The route class every router uses, so that request bodies are parsed as strict JSON.

FastAPI reads a JSON body through ``Request.json()``; swapping the request class at the route
(FastAPI's documented hook) is the one place every body passes, and a ``JSONDecodeError`` there
becomes the usual 400 naming the position.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.routing import APIRoute

from reference_server import strict_json


class StrictJSONRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = strict_json.loads(await self.body())
        return self._json


class StrictJSONRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def strict(request: Request) -> Response:
            return await handler(StrictJSONRequest(request.scope, request.receive))

        return strict


def strict_router(tag: str) -> APIRouter:
    """A router whose routes parse bodies as strict JSON; every router of the API is one."""
    return APIRouter(tags=[tag], route_class=StrictJSONRoute)
