"""Profile ``files``: the OpenAI-compatible Files API, black box, under each route family of its
window (``/v1/openai/v1/files`` from 0.2.10, ``/v1/files`` from 0.3.0), and a restart of the
launched core scenario that must keep what was uploaded.

Every file a check uploads holds its own distinctive text and is deleted afterwards, pass or
fail. Listing checks read only as far as settles their question (newest first, the suite's
files come first), so a deployment holding many files is not read whole.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest

from conformance.checks.shapes import (
    created_stamps,
    expect_data_list,
    expect_fields,
    expect_json_error,
    next_second,
    read_back,
    require_route,
    serves_route,
    unique_id,
    upload_text,
    walk_listing,
)
from conformance.http import RecordingClient
from conformance.outcomes import inconclusive
from conformance.plugin import ScenarioAccess

requirement = pytest.mark.requirement
OLD_FAMILY, V1_FAMILY = "/v1/openai/v1/files", "/v1/files"
FILE_FIELDS = {"id": str, "object": str, "bytes": int, "created_at": int, "filename": str, "purpose": str}


class Uploads:
    """Files a check uploads to one route family; each is deleted afterwards."""

    def __init__(self, api: RecordingClient, base: str) -> None:
        self.api, self.base = api, base
        self.created: list[str] = []

    def path(self, file_id: str, tail: str = "") -> str:
        return f"{self.base}/{quote(file_id, safe='')}{tail}"

    def send(self, fields: dict[str, str], text: str, filename: str) -> Any:
        return upload_text(self.api, self.base, fields, filename, text)

    def upload(self, label: str) -> tuple[dict[str, Any], str]:
        """A new file of purpose ``assistants`` (the one purpose every release takes): its object and text."""
        text = f"Conformance file {label}: {uuid.uuid4().hex}.\n"
        filename = f"{unique_id('file')}.txt"
        answer = self.send({"purpose": "assistants"}, text, filename)
        assert answer.status == 200, f"expected 200 for an upload, but {answer.describe()}"
        created = answer.json()
        where = f"POST {self.base}"
        expect_fields(created, FILE_FIELDS, where)
        self.created.append(created["id"])
        fields = (created["object"], created["bytes"], created["filename"], created["purpose"])
        expected = ("file", len(text.encode()), filename, "assistants")
        assert fields == expected, f"{where}: (object, bytes, filename, purpose) is {fields}, not {expected}"
        return created, text

    def cleanup(self) -> None:
        for file_id in self.created:
            self.api.delete(self.path(file_id))


def uploads_to(api: RecordingClient, base: str) -> Iterator[Uploads]:
    require_route(api, "POST", base, "files")
    uploads = Uploads(api, base)
    try:
        yield uploads
    finally:
        uploads.cleanup()


@pytest.fixture
def old_files(stack_api: RecordingClient) -> Iterator[Uploads]:
    yield from uploads_to(stack_api, OLD_FAMILY)


@pytest.fixture
def v1_files(stack_api: RecordingClient) -> Iterator[Uploads]:
    yield from uploads_to(stack_api, V1_FAMILY)


def walk_files(uploads: Uploads, until: set[str]) -> list[dict[str, Any]]:
    """The listing page by page (limit 2), until every id of ``until`` was read or it ends."""
    return walk_listing(uploads.api, uploads.base, {}, enough=lambda entries: until <= {e.get("id") for e in entries})


def expect_upload_read_back(uploads: Uploads) -> None:
    created, text = uploads.upload("read back")
    got = read_back(uploads.api, uploads.path(created["id"]), f"GET {uploads.base}/{{id}}")
    expect_fields(got, FILE_FIELDS, f"GET {uploads.base}/{{id}}")
    same = {key: got.get(key) for key in FILE_FIELDS}
    assert same == {key: created[key] for key in FILE_FIELDS}, f"GET answers {same}, the upload answered {created}"
    content = uploads.api.get(uploads.path(created["id"], "/content"), expect=200)
    assert content.text == text, f"the content is {content.text[:200]!r}, not the {len(text)} bytes sent"


def expect_listing_walk(uploads: Uploads) -> None:
    new: list[str] = []
    for n in range(3):
        if new:
            next_second()  # `created_at` counts seconds: three in one second could not show an order
        new.append(uploads.upload(f"listed {n}")[0]["id"])
    entries = walk_files(uploads, set(new))
    ids = [entry.get("id") for entry in entries]
    missing = [file_id for file_id in new if file_id not in ids]
    assert not missing, f"the walk by limit/after never listed {missing} (it read {len(ids)} files)"
    ours = [file_id for file_id in ids if file_id in new]
    assert ours == new[::-1], f"the three uploads are listed {ours}, not newest first {new[::-1]}"
    stamps = created_stamps(entries)
    assert stamps == sorted(stamps, reverse=True), f"not newest first by created_at: {stamps[:6]}"
    ascending = expect_data_list(uploads.api.get_json(uploads.base + "?order=asc&limit=10"), uploads.base)
    up = created_stamps([entry for entry in ascending if isinstance(entry, dict)])
    assert up == sorted(up), f"order=asc is not oldest first: {up}"


def expect_deleted_file_gone(uploads: Uploads) -> None:
    witness = uploads.upload("kept")[0]["id"]  # older than the deleted one, so listed after it
    doomed = uploads.upload("deleted")[0]["id"]
    answer = uploads.api.delete(uploads.path(doomed), expect=200).json()
    assert isinstance(answer, dict) and (answer.get("id"), answer.get("deleted")) == (doomed, True), (
        f"DELETE answered {answer!r:.200}, not id {doomed!r} with deleted: true"
    )
    expect_json_error(uploads.api.get(uploads.path(doomed)), range(400, 500), "GET of a deleted file")
    expect_json_error(uploads.api.get(uploads.path(doomed, "/content")), range(400, 500), "its content")
    ids = [entry.get("id") for entry in walk_files(uploads, {witness})]
    if witness not in ids:  # a listing that shows nothing proves nothing about the deleted file
        inconclusive(f"GET {uploads.base} does not list the file kept beside it (the listing requirement's defect)")
    assert doomed not in ids, f"GET {uploads.base} still lists the deleted {doomed!r}"


def expect_errors_named(uploads: Uploads) -> None:
    ghost = f"file-{uuid.uuid4().hex}"  # the shape of a real id, so only its absence is at stake
    for method, tail in (("GET", ""), ("GET", "/content"), ("DELETE", "")):
        answer = uploads.api.request(method, uploads.path(ghost, tail))
        expect_json_error(answer, range(400, 500), f"{method} {uploads.base}/{{unknown}}{tail}")
        assert ghost in answer.text, f"{method} of an unknown file does not name {ghost!r}: {answer.text[:200]}"
    filename = f"{unique_id('refused')}.txt"
    for fields in ({}, {"purpose": "conformance-no-such-purpose"}):
        answer = uploads.send(fields, "refused\n", filename)
        expect_json_error(answer, range(400, 500), f"an upload with {fields or 'no purpose'}")
        assert "purpose" in answer.text, (
            f"the refusal of {fields or 'no purpose'} does not name `purpose`: {answer.text[:200]}"
        )
    listed = expect_data_list(uploads.api.get_json(uploads.base + "?limit=20"), uploads.base)
    kept = [entry.get("id") for entry in listed if isinstance(entry, dict) and entry.get("filename") == filename]
    uploads.created += [str(file_id) for file_id in kept]
    assert not kept, f"a refused upload was stored: {kept}"


@requirement("FILES-001")
def test_upload_is_read_back(old_files: Uploads) -> None:
    expect_upload_read_back(old_files)


@requirement("FILES-002")
def test_listing_walks_every_file_once(old_files: Uploads) -> None:
    expect_listing_walk(old_files)


@requirement("FILES-003")
def test_deleted_file_is_gone(old_files: Uploads) -> None:
    expect_deleted_file_gone(old_files)


@requirement("FILES-004")
def test_file_errors_name_what_is_wrong(old_files: Uploads) -> None:
    expect_errors_named(old_files)


@requirement("FILES-V1-001")
def test_v1_upload_is_read_back(v1_files: Uploads) -> None:
    expect_upload_read_back(v1_files)


@requirement("FILES-V1-002")
def test_v1_listing_walks_every_file_once(v1_files: Uploads) -> None:
    expect_listing_walk(v1_files)


@requirement("FILES-V1-003")
def test_v1_deleted_file_is_gone(v1_files: Uploads) -> None:
    expect_deleted_file_gone(v1_files)


@requirement("FILES-V1-004")
def test_v1_file_errors_name_what_is_wrong(v1_files: Uploads) -> None:
    expect_errors_named(v1_files)


@requirement("FILES-PERSIST-001")
def test_files_survive_a_restart(scenarios: ScenarioAccess) -> None:
    launched = scenarios.pool.launch("core")
    api = scenarios.client(launched.url)
    base = next((r for r in (V1_FAMILY, OLD_FAMILY) if serves_route(api, "POST", r)), V1_FAMILY)
    require_route(api, "POST", base, "files")
    # What the server itself answered before the restart is the reference: whether those answers
    # are right is FILES-*-001's question, whether they last is this one's.
    before = Uploads(api, base)
    text = f"Conformance file kept across a restart: {uuid.uuid4().hex}.\n"
    answer = before.send({"purpose": "assistants"}, text, f"{unique_id('file')}.txt")
    file_id = answer.json().get("id") if answer.status == 200 else None
    read = before.api.get(before.path(file_id)) if isinstance(file_id, str) else None
    content = before.api.get(before.path(file_id, "/content")) if isinstance(file_id, str) else None
    if not (
        isinstance(file_id, str) and read is not None and content is not None and read.status == content.status == 200
    ):
        inconclusive(
            f"no file could be uploaded and read back before the restart (FILES-*-001's defect): {answer.describe()}"
        )
    assert isinstance(file_id, str) and read is not None and content is not None
    kept = {key: read.json().get(key) for key in FILE_FIELDS}
    after = Uploads(scenarios.restart(launched), base)
    got = after.api.get(after.path(file_id))
    assert got.status == 200, f"after the restart the upload is gone: {got.describe()}"
    same = {key: got.json().get(key) for key in FILE_FIELDS}
    assert same == kept, f"after the restart GET answers {same}, before it answered {kept}"
    again = after.api.get(after.path(file_id, "/content"), expect=200)
    assert again.text == content.text, f"after the restart the content is {again.text[:200]!r}, not what it was"
    listed = [entry.get("id") for entry in walk_files(after, {file_id})]
    assert file_id in listed, f"after the restart GET {base} does not list {file_id!r}"
    after.api.delete(after.path(file_id))
