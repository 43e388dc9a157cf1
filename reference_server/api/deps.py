"""How a route reaches the stack it serves."""

from __future__ import annotations

from fastapi import Request

from reference_server.auth.principal import Principal
from reference_server.stack import Stack


def principal_of(request: Request) -> Principal | None:
    """Who is calling, as the auth middleware established it (None when auth is off)."""
    principal = request.scope.get("principal")
    return principal if isinstance(principal, Principal) else None


def stack_of(request: Request) -> Stack:
    stack: Stack = request.app.state.stack
    return stack
