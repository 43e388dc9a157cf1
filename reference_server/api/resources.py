"""The read routes every resource kind shares: ``GET /v1/<kind>`` and ``GET /v1/<kind>/{id}``.

Listing and reading go through the registry's visibility rule, so a resource another principal
may not see is absent from the list and a 404 by id, the same for models, shields and vector dbs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from reference_server.api.deps import principal_of, stack_of
from reference_server.resources.registry import ResourceRegistry
from reference_server.stack import Stack


def add_read_routes(router: APIRouter, path: str, registry_of: Callable[[Stack], ResourceRegistry[Any]]) -> None:
    async def list_all(request: Request) -> JSONResponse:
        return JSONResponse({"data": registry_of(stack_of(request)).listing(principal_of(request))})

    async def get_one(identifier: str, request: Request) -> JSONResponse:
        return JSONResponse(registry_of(stack_of(request)).get(identifier, principal_of(request)).model_dump())

    router.add_api_route(path, list_all, methods=["GET"])
    router.add_api_route(path + "/{identifier:path}", get_one, methods=["GET"])
