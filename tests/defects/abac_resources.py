"""Defects of the abac profile's checks beyond models (conformance/checks/test_abac_resources.py)."""

from __future__ import annotations

from reference_server.files import localfs
from reference_server.resources import chat_completions, registry, vector_stores
from tests.defects.registry import defect


@defect("chat-completions-for-everyone", "ABAC-006")
def chat_completions_for_everyone() -> None:
    """Stored chat completions read and listed without regard to who asks (upstream before its
    AuthorizedSqlStore)."""
    chat_completions.can_see = lambda viewer, owner: True


@defect("files-for-everyone", "ABAC-007")
def files_for_everyone() -> None:
    """Uploaded files read, listed and deleted without regard to who asks (upstream's localfs
    before 0.2.16, #2773)."""
    localfs.can_see = lambda viewer, owner: True


@defect("vector-stores-for-everyone", "ABAC-008")
def vector_stores_for_everyone() -> None:
    """Vector stores (and the vector dbs behind them) read, searched, changed and deleted without
    regard to who asks (upstream before 0.2.16, and #4393 before 0.4.0)."""
    vector_stores.can_see = lambda viewer, owner: True
    registry.can_see = lambda viewer, owner: True
