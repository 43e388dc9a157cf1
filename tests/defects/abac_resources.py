"""Defects of the abac profile's checks beyond models (conformance/checks/test_abac_resources.py)."""

from __future__ import annotations

from reference_server.files import localfs
from reference_server.resources import chat_completions
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
