"""The read routes every resource kind shares: ``GET /v1/<kind>`` and ``GET /v1/<kind>/{id}``.

Listing and reading go through the registry's visibility rule, so a resource another principal
may not see is absent from the list and a 404 by id, the same for models, shields and vector dbs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.routing import Route

from reference_server.api.deps import principal_of, stack_of
from reference_server.resources.registry import ResourceRegistry
from reference_server.stack import Stack


class ListingRoute(Route):
    """A plain Starlette route for a ``GET /v1/<kind>`` listing, the hottest request there is.

    It takes no parameters, so FastAPI's per-request dependency solving would buy nothing;
    skipping it saves about a third of the request's time in the app. The app puts these routes
    first in its table (each route tried before costs a regex match). GET only: Starlette would
    add HEAD, which the documented route (and upstream) answers with 405.
    """

    def __init__(self, path: str, endpoint: Callable[..., Any]) -> None:
        super().__init__(path, endpoint, methods=["GET"], include_in_schema=False)
        self.methods = {"GET"}


def add_read_routes(router: APIRouter, path: str, registry_of: Callable[[Stack], ResourceRegistry[Any]]) -> None:
    async def list_all(request: Request) -> Response:
        body = registry_of(stack_of(request)).listing_body(principal_of(request))
        return Response(body, media_type="application/json")

    async def get_one(identifier: str, request: Request) -> JSONResponse:
        return JSONResponse(registry_of(stack_of(request)).get(identifier, principal_of(request)).wire())

    # Served by the ListingRoute; the APIRoute documents it (OpenAPI, /v1/inspect/routes) and
    # is never reached.
    router.routes.append(ListingRoute(path, list_all))
    router.add_api_route(path, list_all, methods=["GET"])
    router.add_api_route(path + "/{identifier:path}", get_one, methods=["GET"])
