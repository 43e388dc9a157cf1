"""The Files API of the reference server: uploads kept durably, read back, listed, deleted,
refused by name when wrong, bounded in size, and private to their principal."""

from __future__ import annotations

import os
import signal
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from conformance.fakes.handle import FakeProcess
from tests.conftest import Server, ServerFactory, jwt_auth

PREFIXES = ("/v1/openai/v1/files", "/v1/files")
UPLOAD_CAP = 100 * 1024 * 1024  # upstream's, and the reference's (reference_server/api/files.py)


def files_config(servers: ServerFactory, extra: str = "") -> Path:
    """The config serving every API (tests/conftest.py), whose files live under the state folder."""
    return servers.config(servers.full() + extra)


def upload(
    server: Server,
    data: bytes = b"hello\n",
    filename: str = "a.txt",
    prefix: str = PREFIXES[0],
    token: str | None = None,
    **fields: str,
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    form = {"purpose": "assistants", **fields}
    return httpx.post(server.url + prefix, files={"file": (filename, data)}, data=form, headers=headers)


def uploaded(server: Server, **kwargs: Any) -> dict[str, Any]:
    answer = upload(server, **kwargs)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


@pytest.fixture
def server(servers: ServerFactory) -> Server:
    return servers.running(files_config(servers))


@pytest.mark.parametrize("prefix", PREFIXES)
def test_a_file_is_read_back_listed_and_deleted(server: Server, prefix: str) -> None:
    made = uploaded(server, data=b"\x00binary\xff", filename="data.bin", prefix=prefix)
    assert (made["object"], made["bytes"], made["filename"], made["purpose"]) == ("file", 8, "data.bin", "assistants")
    assert made["expires_at"] == made["created_at"] + 365 * 24 * 3600  # upstream's default ttl_secs
    assert httpx.get(f"{server.url}{prefix}/{made['id']}").json() == made
    content = httpx.get(f"{server.url}{prefix}/{made['id']}/content")
    assert content.content == b"\x00binary\xff"
    assert content.headers["content-disposition"] == 'attachment; filename="data.bin"'
    assert [f["id"] for f in httpx.get(server.url + prefix).json()["data"]] == [made["id"]]
    gone = httpx.delete(f"{server.url}{prefix}/{made['id']}").json()
    assert gone == {"id": made["id"], "object": "file", "deleted": True}
    assert httpx.get(f"{server.url}{prefix}/{made['id']}").status_code == 404
    assert httpx.get(server.url + prefix).json()["data"] == []


def test_listing_filters_by_purpose_and_pages_both_ways(server: Server) -> None:
    batch = uploaded(server, purpose="batch")["id"]
    assistants = uploaded(server)["id"]
    by_purpose = httpx.get(server.url + PREFIXES[1], params={"purpose": "batch"}).json()["data"]
    assert [f["id"] for f in by_purpose] == [batch]
    first = httpx.get(server.url + PREFIXES[1], params={"limit": 1, "order": "asc"}).json()
    assert (first["first_id"], first["has_more"]) == (batch, True)
    rest = httpx.get(server.url + PREFIXES[1], params={"limit": 1, "order": "asc", "after": batch}).json()
    assert (rest["last_id"], rest["has_more"]) == (assistants, False)


@pytest.mark.parametrize(
    ("fields", "fragment"),
    [
        ({"purpose": "wizardry"}, "purpose"),
        ({"expires_after[anchor]": "created_at", "expires_after[seconds]": "60"}, "expires_after.seconds"),
        ({"expires_after[anchor]": "last_active_at", "expires_after[seconds]": "3600"}, "expires_after.anchor"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_a_wrong_upload_is_refused_by_name_and_stores_nothing(
    server: Server, servers: ServerFactory, fields: dict[str, str], fragment: str
) -> None:
    answer = upload(server, **fields)
    assert answer.status_code == 400 and fragment in answer.json()["error"]["message"], answer.text
    assert httpx.get(server.url + PREFIXES[0]).json()["data"] == []
    assert list((servers.state / "files").iterdir()) == []


def test_an_upload_without_a_file_part_names_it(server: Server) -> None:
    answer = httpx.post(server.url + PREFIXES[0], data={"purpose": "assistants"})
    assert answer.status_code == 400 and "file" in answer.json()["error"]["message"]


def test_expires_after_sets_expires_at(server: Server) -> None:
    made = uploaded(server, **{"expires_after[anchor]": "created_at", "expires_after[seconds]": "3600"})
    assert made["expires_at"] == made["created_at"] + 3600


def test_a_filename_that_needs_quoting_is_kept_and_sent_safely(server: Server) -> None:
    made = uploaded(server, filename="rapport; final\u00e9.txt")
    assert made["filename"] == "rapport; final\u00e9.txt"
    disposition = httpx.get(f"{server.url}{PREFIXES[0]}/{made['id']}/content").headers["content-disposition"]
    assert disposition == "attachment; filename*=utf-8''rapport%3B%20final%C3%A9.txt"


def test_unknown_ids_are_404_naming_them(server: Server) -> None:
    for method, tail in (("GET", ""), ("GET", "/content"), ("DELETE", "")):
        answer = httpx.request(method, f"{server.url}{PREFIXES[1]}/file-0123{tail}")
        assert answer.status_code == 404 and "file-0123" in answer.json()["error"]["message"]


def test_an_acknowledged_upload_survives_kill_9_and_orphans_are_swept(servers: ServerFactory) -> None:
    path = files_config(servers)
    first = servers.running(path)
    made = uploaded(first, data=b"kept")
    os.kill(first.process.pid, signal.SIGKILL)
    first.process.popen.wait(timeout=10)
    folder = servers.state / "files"
    # what a crash between writing the bytes and committing the row leaves behind
    (folder / ("file-" + "ab" * 16)).write_bytes(b"never acknowledged")
    (folder / ".upload-file-x").write_bytes(b"half written")
    again = servers.running(path)
    assert [f["id"] for f in httpx.get(again.url + PREFIXES[0]).json()["data"]] == [made["id"]]
    assert httpx.get(f"{again.url}{PREFIXES[0]}/{made['id']}/content").content == b"kept"
    assert sorted(p.name for p in folder.iterdir()) == [made["id"]]


def _chunks(total: int, size: int = 1024 * 1024) -> Iterator[bytes]:
    yield b'--b\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nassistants\r\n'
    yield b'--b\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n\r\n'
    sent = 0
    while sent < total:
        yield b"\0" * min(size, total - sent)
        sent += size


def test_an_upload_over_the_cap_is_a_413_and_leaves_nothing(server: Server, servers: ServerFactory) -> None:
    headers = {"Content-Type": "multipart/form-data; boundary=b"}
    # chunked, so only what arrives can tell: the cap is enforced on the bytes, not on a header
    answer = httpx.post(server.url + PREFIXES[0], content=_chunks(UPLOAD_CAP + 1), headers=headers, timeout=60)
    assert answer.status_code == 413 and str(UPLOAD_CAP) in answer.json()["error"]["message"]
    assert httpx.get(server.url + PREFIXES[0]).json()["data"] == []
    assert list((servers.state / "files").iterdir()) == []
    # a declared length over the cap is refused before a byte of the body is read
    with socket.create_connection(("127.0.0.1", int(server.url.rsplit(":", 1)[1])), timeout=10) as raw:
        raw.sendall(
            f"POST {PREFIXES[1]} HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\n"
            f"Content-Length: {UPLOAD_CAP + 1}\r\n\r\n".encode()
        )
        assert raw.recv(65536).startswith(b"HTTP/1.1 413")


def test_a_principal_sees_only_its_own_files(servers: ServerFactory, issuer: FakeProcess) -> None:
    server = servers.running(files_config(servers, jwt_auth(f"{issuer.url}/jwks")))
    alice, bob = issuer.mint(claims={"sub": "alice"}), issuer.mint(claims={"sub": "bob"})
    mine = uploaded(server, token=alice)["id"]
    as_bob = {"Authorization": f"Bearer {bob}"}
    assert httpx.get(server.url + PREFIXES[0], headers=as_bob).json()["data"] == []
    for method, tail in (("GET", ""), ("GET", "/content"), ("DELETE", "")):
        assert httpx.request(method, f"{server.url}{PREFIXES[0]}/{mine}{tail}", headers=as_bob).status_code == 404
    as_alice = {"Authorization": f"Bearer {alice}"}
    assert [f["id"] for f in httpx.get(server.url + PREFIXES[0], headers=as_alice).json()["data"]] == [mine]


def test_an_upload_cut_off_stores_nothing_and_logs_no_traceback(server: Server, servers: ServerFactory) -> None:
    with socket.create_connection(("127.0.0.1", int(server.url.rsplit(":", 1)[1])), timeout=10) as raw:
        raw.sendall(
            f"POST {PREFIXES[0]} HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\n"
            "Content-Length: 100000\r\n\r\n--b\r\n"
            'Content-Disposition: form-data; name="file"; filename="x"\r\n\r\nab'.encode()
        )
    assert httpx.get(server.url + PREFIXES[0]).json()["data"] == []  # the server serves on, holding nothing
    server.process.stop()
    log = server.process.stderr_text() + server.process.stdout_text()
    assert "Traceback" not in log and "disconnected before its body arrived" in log, log[-2000:]
