"""Domain errors, each with the HTTP status a client should see.

Providers and the registry raise these; the API layer turns them into the one JSON error shape
``{"error": {"message": ...}}``. Anything else that escapes is a bug and becomes a logged 500.
"""

from __future__ import annotations


class StackError(Exception):
    status = 500

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


class InvalidRequest(StackError):
    status = 400


class NotFound(StackError):
    status = 404


class Conflict(StackError):
    status = 409


class RequestTimeout(StackError):
    """The client did not send its body in time."""

    status = 408


class PayloadTooLarge(StackError):
    status = 413


class Unavailable(StackError):
    """A dependency (a provider's backend, a store) cannot answer right now."""

    status = 503


class BadGateway(StackError):
    """A backend answered, but with an error or with something that is not what it should send."""

    status = 502


class GatewayTimeout(StackError):
    status = 504


class StartupFailure(StackError):
    """The config is valid but the stack cannot start with it (the CLI exits 1)."""


class NotImplementedHere(StackError):
    """A configured provider type whose behaviour this server does not implement."""

    status = 501
