"""``/v1/providers``: what is configured, with secrets redacted and disabled entries absent."""

# Requirements (conformance/catalog.yaml): CORE-PROVIDERS-001, CORE-PROVIDERS-002

from __future__ import annotations

from fastapi import Request
from fastapi.responses import JSONResponse

from reference_server.api.deps import stack_of
from reference_server.api.strict_routes import strict_router
from reference_server.errors import NotFound

router = strict_router("providers")


@router.get("/v1/providers")
async def list_providers(request: Request) -> JSONResponse:
    return JSONResponse({"data": [await provider.info() for provider in stack_of(request).providers]})


@router.get("/v1/providers/{provider_id}")
async def inspect_provider(provider_id: str, request: Request) -> JSONResponse:
    # Ids are unique per API only (the seed uses ``meta-reference`` twice); the first wins,
    # in the order of the config file.
    for provider in stack_of(request).providers:
        if provider.provider_id == provider_id:
            return JSONResponse(await provider.info())
    raise NotFound(f"Provider {provider_id!r} not found")
