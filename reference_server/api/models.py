"""``/v1/models``: list, get, register and unregister, in the seed era's shapes.

Every model answer (list, get, register) also carries the OpenAI model fields (``id``,
``object``, ``created``, ``owned_by``), and the listing ``object: list``, as releases since
0.4.0 answer, so clients of either era read them."""

# Requirements (conformance/catalog.yaml): CORE-MODELS-001, CORE-MODELS-003, CORE-MODELS-004,
#   CORE-MODELS-005, CORE-ERR-001, CORE-ERR-003

from __future__ import annotations

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import ConfigDict

from reference_server.api.deps import principal_of, stack_of
from reference_server.api.resources import add_read_routes
from reference_server.api.strict_routes import strict_router
from reference_server.config.schema import ModelInput
from reference_server.errors import Conflict
from reference_server.resources.models import build_model

router = strict_router("models")


class RegisterModelRequest(ModelInput):
    """A config's ``models`` entry, over HTTP: the same fields and rules, so a config that starts
    is a request that succeeds. Clients of other releases send extra fields; they are ignored,
    as upstream does, and a JSON number is not taken for an id."""

    model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=False)


add_read_routes(router, "/v1/models", lambda stack: stack.models)


@router.post("/v1/models")
async def register_model(body: RegisterModelRequest, request: Request) -> JSONResponse:
    stack = stack_of(request)
    requested = build_model(**body.model_dump(), inference_providers=stack.provider_ids("inference"))
    # The backend must serve the model (Ollama may resolve a bare name to ``name:latest``).
    resolved = await stack.inference(requested.provider_id).check_model(requested.provider_resource_id)
    model = requested.model_copy(update={"provider_resource_id": resolved})
    return JSONResponse((await stack.models.register(model, principal_of(request))).wire())


@router.delete("/v1/models/{model_id:path}")
async def unregister_model(model_id: str, request: Request) -> JSONResponse:
    stack = stack_of(request)
    # Only a caller who can see the model learns what uses it; for others it stays absent (404).
    visible = stack.models.find(model_id, principal_of(request)) is not None
    if visible and (users := stack.users_of_model(model_id)):
        raise Conflict(f"Model {model_id!r} is in use by {', '.join(users)}; unregister those first")
    await stack.models.unregister(model_id, principal_of(request))
    return JSONResponse(None)
