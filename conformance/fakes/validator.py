"""A fake custom-auth validator: records every payload and answers each token as told.

Steer it with ``responses``: ``{token: {"status": 200, "body": {...}}}``, optionally ``"raw"``
(a body that is not JSON) or ``"delay_s"``. Unknown tokens get a 401.
"""

from __future__ import annotations

import json

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from conformance.fakes.base import FakeState, RecordingMiddleware, control_routes, stall


def create_app(state: FakeState | None = None) -> Starlette:
    state = state or FakeState()

    async def validate(request: Request) -> Response:
        try:
            token = str(json.loads(await request.body()).get("api_key"))
        except (ValueError, AttributeError):
            return JSONResponse({"message": "bad payload"}, status_code=400)
        answer = state.responses.get(token) or {"status": 401, "body": {"message": "unknown token"}}
        if answer.get("delay_s"):
            await stall(float(answer["delay_s"]), request.receive)  # steering: a slow validator
        if "raw" in answer:
            return Response(str(answer["raw"]), status_code=int(answer.get("status", 200)))
        return JSONResponse(answer.get("body"), status_code=int(answer.get("status", 200)))

    app = Starlette(routes=[Route("/validate", validate, methods=["POST"]), *control_routes(state)])
    app.add_middleware(RecordingMiddleware, state=state)
    return app
