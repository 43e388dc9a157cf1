"""``/v1/shields`` (list, get, register) and ``POST /v1/safety/run-shield``."""

# Requirements (conformance/catalog.yaml): SAFE-SHIELD-001, SAFE-RUN-001, SAFE-RUN-004

from __future__ import annotations

from typing import Any, Literal

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from reference_server.api.deps import principal_of, stack_of
from reference_server.api.resources import add_read_routes
from reference_server.api.strict_routes import strict_router
from reference_server.config.schema import ShieldInput
from reference_server.resources.shields import build_shield
from reference_server.safety import check_shield

shields = strict_router("shields")
safety = strict_router("safety")


class RegisterShieldRequest(ShieldInput):
    """A config's ``shields`` entry, over HTTP (extra fields ignored, numbers not taken for ids)."""

    model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=False)


class ShieldMessage(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: Literal["system", "user", "assistant", "tool"]
    content: str | list[Any] | dict[str, Any] = ""


class RunShieldRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    shield_id: str
    messages: list[ShieldMessage] = Field(min_length=1)
    params: dict[str, Any] | None = None


add_read_routes(shields, "/v1/shields", lambda stack: stack.shields)


@shields.post("/v1/shields")
async def register_shield(body: RegisterShieldRequest, request: Request) -> JSONResponse:
    stack = stack_of(request)
    viewer = principal_of(request)
    shield = build_shield(**body.model_dump(), safety_providers=stack.provider_ids("safety"))
    check_shield(
        stack.safety_provider_type(shield.provider_id), shield, lambda model_id: stack.models.find(model_id, viewer)
    )
    return JSONResponse((await stack.shields.register(shield, viewer)).wire())


@safety.post("/v1/safety/run-shield")
async def run_shield(body: RunShieldRequest, request: Request) -> JSONResponse:
    stack = stack_of(request)
    shield = stack.shields.get(body.shield_id, principal_of(request))
    messages = [m.model_dump() for m in body.messages]
    violation = await stack.safety(shield.provider_id).run_shield(shield, messages, stack.judge)
    return JSONResponse({"violation": violation})
