"""The ASGI application for one stack."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from inspect import signature
from typing import Any

from fastapi import APIRouter, FastAPI

from reference_server import __version__
from reference_server.api import errors, inspect, providers
from reference_server.api.limits import BodyReader, RequestLimitsMiddleware
from reference_server.api.resources import ListingRoute
from reference_server.auth.middleware import AuthMiddleware, build_authenticator
from reference_server.quota.middleware import QuotaMiddleware
from reference_server.stack import Stack

# FastAPI releases with built-in OpenTelemetry ask the global providers on every request whether
# anyone listens (a tenth of a listing request's time); this server exports no telemetry, so it
# switches that off where the release has it.
_NO_TELEMETRY: dict[str, Any] = (
    {"telemetry": {"tracing": False, "metrics": False, "logs": False, "operation_spans": False}}
    if "telemetry" in signature(FastAPI.__init__).parameters
    else {}
)


def _routers(served: list[str]) -> tuple[list[APIRouter], dict[str, int]]:
    """The routers of the APIs this stack serves, and the upload routes' body caps.

    Imported here rather than at the top: building an API's request and response models costs
    tens of milliseconds of start-up, which a stack that does not serve the API need not pay.
    """
    mounted = [inspect.router, providers.router]
    uploads: dict[str, int] = {}
    if "inference" in served:
        from reference_server.api import inference, models

        mounted += [models.router, inference.router]
    if "vector_io" in served:
        from reference_server.api import vector_stores, vectors

        mounted += [vectors.vector_dbs, vectors.vector_io, vector_stores.router]
    if "safety" in served:
        from reference_server.api import safety

        mounted += [safety.shields, safety.safety]
    if "files" in served:
        from reference_server.api import files

        mounted += [files.router]
        uploads = dict.fromkeys(files.PREFIXES, files.UPLOAD_MAX_BYTES)
    return mounted, uploads


def create_app(stack: Stack) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        await stack.aclose()

    app = FastAPI(title="Llama Stack reference server", version=__version__, lifespan=lifespan, **_NO_TELEMETRY)
    app.state.stack = stack
    errors.install(app)
    mounted, uploads = _routers(stack.served_apis())
    # The routes go into the app's own table, not as included routers: FastAPI matches
    # included routers level by level, which cost a quarter of a listing request's time.
    for router in mounted:
        app.router.routes.extend(router.routes)
    # The listings first (a stable sort): each route tried before the one that matches costs a
    # regex match, and /v1/models sat tenth. They match exact paths only, so nothing else moves.
    app.router.routes.sort(key=lambda route: not isinstance(route, ListingRoute))
    # /v1/inspect/routes lists these; FastAPI's own route objects are an internal detail.
    app.state.mounted_routers = mounted
    # Starlette runs the middleware added last first: limits, auth, quota, then the body is read.
    app.add_middleware(BodyReader, streamed=uploads)  # innermost: no body is buffered before the caller is known
    quota = stack.config.run.server.quota
    if quota is not None:
        app.add_middleware(
            QuotaMiddleware, config=quota, counter=stack.quota_counter(), auth_enabled=stack.config.auth is not None
        )
    if stack.config.auth is not None:
        provider_type, auth_config = stack.config.auth
        app.add_middleware(AuthMiddleware, authenticator=build_authenticator(provider_type, auth_config))
    app.add_middleware(RequestLimitsMiddleware, streamed=uploads)  # outermost: header size and declared length only
    return app
