"""How a route reaches the stack it serves."""

from __future__ import annotations

from fastapi import Request

from reference_server.stack import Stack


def stack_of(request: Request) -> Stack:
    stack: Stack = request.app.state.stack
    return stack
