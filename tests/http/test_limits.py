"""Oversized requests get a clear 4xx in the one error shape, never a 5xx or a hang."""

from __future__ import annotations

import socket

import httpx
import pytest

from reference_server.api.limits import MAX_BODY_BYTES, MAX_HEADER_BYTES
from tests.conftest import Server, ServerFactory


@pytest.fixture
def server(servers: ServerFactory) -> Server:
    return servers.running()


def test_declared_oversized_body_is_413(server: Server) -> None:
    body = b'{"model_id": "' + b"x" * (MAX_BODY_BYTES + 10) + b'"}'
    answer = httpx.post(server.url + "/v1/models", content=body, headers={"content-type": "application/json"})
    assert answer.status_code == 413 and "too large" in answer.json()["error"]["message"]


def test_chunked_oversized_body_is_413(server: Server) -> None:
    def chunks():  # type: ignore[no-untyped-def]
        for _ in range(MAX_BODY_BYTES // 65536 + 2):
            yield b"x" * 65536

    answer = httpx.post(server.url + "/v1/models", content=chunks(), headers={"content-type": "application/json"})
    assert answer.status_code == 413 and "too large" in answer.json()["error"]["message"]


@pytest.mark.parametrize("declared", [True, False])
def test_a_body_far_over_the_cap_still_gets_its_413(server: Server, declared: bool) -> None:
    """20 MB sent by a plain client, which writes the whole body before it reads: the 413 must
    reach it, not a reset from a server that answered and closed while the body was arriving."""
    piece, pieces = b"x" * 65536, 20 * 1024 * 1024 // 65536

    def chunks():  # type: ignore[no-untyped-def]
        for _ in range(pieces):
            yield piece

    body = piece * pieces if declared else chunks()
    answer = httpx.post(server.url + "/v1/models", content=body, headers={"content-type": "application/json"})
    assert answer.status_code == 413 and "too large" in answer.json()["error"]["message"]


def test_oversized_headers_are_431(server: Server) -> None:
    answer = httpx.get(server.url + "/v1/models", headers={"X-Big": "a" * (MAX_HEADER_BYTES + 1)})
    assert answer.status_code == 431 and "headers too large" in answer.json()["error"]["message"]


def test_headers_beyond_the_parser_are_refused_without_a_5xx(server: Server) -> None:
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as raw:
        raw.sendall(b"GET /v1/health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 200_000 + b"\r\n\r\n")
        status_line = raw.recv(200).split(b"\r\n")[0]
    assert status_line.split()[1] in (b"400", b"431"), status_line
