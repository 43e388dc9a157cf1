"""Authentication outcomes other than success."""

from __future__ import annotations

from reference_server.errors import StackError


class AuthFailure(StackError):
    """The credentials are missing or wrong: 401, with ``WWW-Authenticate: Bearer``."""

    status = 401


class AuthUnavailable(StackError):
    """The service that would judge the credentials cannot answer: 503."""

    status = 503


INVALID_TOKEN = "Invalid JWT token"
