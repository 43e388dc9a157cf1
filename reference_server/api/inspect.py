"""Health, version and the route listing: what probes and discovery read first."""

# Requirements (conformance/catalog.yaml): CORE-HEALTH-001, CORE-VERSION-001, CORE-ROUTES-001

from __future__ import annotations

from fastapi import Request
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from reference_server import IMPLEMENTATION, __version__
from reference_server.api.deps import stack_of
from reference_server.api.strict_routes import strict_router

router = strict_router("inspect")

# Which API's providers serve the routes of each router tag.
ROUTE_API = {
    "models": "inference",
    "inference": "inference",
    "vector_dbs": "vector_io",
    "vector_io": "vector_io",
    "shields": "safety",
    "safety": "safety",
}


@router.get("/v1/health")
async def health() -> JSONResponse:
    return JSONResponse({"status": "OK"})


@router.get("/v1/version")
async def version() -> JSONResponse:
    # ``implementation`` lets the conformance suite tell this server from upstream releases.
    return JSONResponse({"version": __version__, "implementation": IMPLEMENTATION})


@router.get("/v1/inspect/routes")
async def list_routes(request: Request) -> JSONResponse:
    stack = stack_of(request)
    data = []
    routes = [r for mounted in request.app.state.mounted_routers for r in mounted.routes]
    for route in routes:
        if not isinstance(route, APIRoute):
            continue
        tag = str(route.tags[0]) if route.tags else ""
        api = ROUTE_API.get(tag)
        provider_types = stack.provider_types(api) if api else []
        for method in sorted(route.methods or ()):
            data.append({"route": route.path, "method": method, "provider_types": provider_types})
    return JSONResponse({"data": data})
