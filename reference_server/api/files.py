"""The OpenAI-compatible Files API, under both route families (``/v1/openai/v1/files`` of
0.2.10-0.2.x and ``/v1/files`` from 0.3.0), so clients of either era work unchanged.

Uploads are ``multipart/form-data`` with a ``file`` part and a ``purpose`` field (and optionally
OpenAI's ``expires_after[anchor]`` / ``expires_after[seconds]``); any other field is refused by
name, never dropped. The body is read as it arrives, under the upload cap (`UPLOAD_MAX_BYTES`,
upstream's default), so a large file never sits in memory whole.
"""

# Requirements (conformance/catalog.yaml): FILES-001, FILES-002, FILES-003, FILES-004, FILES-V1-001,
#   FILES-V1-002, FILES-V1-003, FILES-V1-004

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Query, Request
from fastapi.responses import FileResponse, JSONResponse
from starlette.datastructures import UploadFile

from reference_server.api.deps import principal_of, stack_of
from reference_server.api.strict_routes import strict_router
from reference_server.errors import InvalidRequest
from reference_server.files.localfs import check_expiry, check_purpose

# Upstream's cap on an upload (llama_stack_api/common/upload_safety.py at v0.7.3: 100 MiB).
UPLOAD_MAX_BYTES = 100 * 1024 * 1024
PREFIXES = ("/v1/openai/v1/files", "/v1/files")
_FIELDS = ("file", "purpose", "expires_after[anchor]", "expires_after[seconds]")

router = strict_router("files")


def _text_field(value: object, name: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise InvalidRequest(f"{name}: must be a form field, not a file")


async def upload_file(request: Request) -> JSONResponse:
    files = stack_of(request).files()
    form = await request.form(max_files=1, max_fields=len(_FIELDS))
    try:
        unknown = sorted(set(form.keys()) - set(_FIELDS))
        if unknown:
            raise InvalidRequest(f"{', '.join(unknown)}: not a field of a file upload (known: {', '.join(_FIELDS)})")
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise InvalidRequest("file: is required, as a multipart/form-data part with a filename")
        purpose = _text_field(form.get("purpose"), "purpose")
        if purpose is None:
            raise InvalidRequest("purpose: is required")
        expires_in = check_expiry(
            _text_field(form.get("expires_after[anchor]"), "expires_after[anchor]"),
            _text_field(form.get("expires_after[seconds]"), "expires_after[seconds]"),
        )
        created = await files.create(
            upload.file, upload.filename or "uploaded_file", check_purpose(purpose), expires_in, principal_of(request)
        )
    finally:
        await form.close()
    return JSONResponse(created)


async def list_files(
    request: Request,
    after: str | None = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 10_000,
    order: Literal["asc", "desc"] = "desc",
    purpose: str | None = None,
) -> JSONResponse:
    if purpose is not None:
        check_purpose(purpose)
    return JSONResponse(stack_of(request).files().page(principal_of(request), after, limit, order, purpose))


async def get_file(file_id: str, request: Request) -> JSONResponse:
    return JSONResponse(stack_of(request).files().get(file_id, principal_of(request)))


async def get_file_content(file_id: str, request: Request) -> FileResponse:
    path, filename = stack_of(request).files().content_path(file_id, principal_of(request))
    return FileResponse(path, media_type="application/octet-stream", filename=filename)


async def delete_file(file_id: str, request: Request) -> JSONResponse:
    return JSONResponse(await stack_of(request).files().delete(file_id, principal_of(request)))


for _prefix in PREFIXES:
    router.add_api_route(_prefix, upload_file, methods=["POST"])
    router.add_api_route(_prefix, list_files, methods=["GET"])
    router.add_api_route(_prefix + "/{file_id}", get_file, methods=["GET"])
    router.add_api_route(_prefix + "/{file_id}", delete_file, methods=["DELETE"])
    router.add_api_route(_prefix + "/{file_id}/content", get_file_content, methods=["GET"])
