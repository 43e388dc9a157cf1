"""The reference server fails closed and stays bounded under hostile input (docs/reliability.md).

Every case here was a traceback, a 500, an open door or an unbounded wait before: a malformed
auth section that switched auth off, numbers and nesting that got past the JSON guard, tokens
and key sets shaped to crash the verifier, issuers and validators that drip, and configs built
to exhaust the loader.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import time
from pathlib import Path

import httpx
import pytest

from conformance.fakes.handle import FakeProcess
from conformance.launchers.process import Exited
from tests.conftest import Server, ServerFactory, jwt_auth
from tests.hostile_server import HostileServer, answer, answer_json, drip, hostile, nested


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def refused_at_start(servers: ServerFactory, text: str, *args: str, env: dict[str, str] | None = None) -> str:
    outcome = servers.start(servers.config(text), *args, env=env)
    assert isinstance(outcome, Exited), "the server started"
    assert outcome.returncode == 2, outcome.stderr
    [line] = outcome.stderr.strip().splitlines()
    assert line.startswith("error: ") and "Traceback" not in outcome.stderr
    return line


# ------------------------------------------------------------------ auth fails closed


@pytest.mark.parametrize(
    "auth",
    [
        "{}",
        "{type: custom, config: {endpoint: 'http://127.0.0.1:9'}}",
        "{provider_typ: custom}",
        "{provider_type: '', config: {}}",
        "{provider_config: {}}",
        "{provider_config: {typ: custom}}",
        "{provider_type: custom, config: 5}",
        "[custom]",
        "custom",
    ],
)
def test_a_malformed_auth_section_stops_start_up(auth: str, servers: ServerFactory) -> None:
    line = refused_at_start(servers, servers.minimal() + f"server:\n  auth: {auth}\n")
    assert "server.auth" in line, line


def test_only_a_gated_type_switches_auth_off_and_says_so(servers: ServerFactory) -> None:
    text = servers.minimal() + "server:\n  auth:\n    provider_type: ${env.CFG_AUTH_TYPE:+oauth2_token}\n"
    server = servers.running(servers.config(text))
    assert httpx.get(f"{server.url}/v1/models").status_code == 200
    assert "authentication is OFF: server.auth.provider_type" in server.process.stderr_text()


# ------------------------------------------------------------------ strict JSON


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b'{"model_id": "x1", "provider_model_id": "a", "metadata": {"x": 1e400}}', "too large for a double"),
        (b'{"model_id": "x2", "provider_model_id": "a", "metadata": {"x": -1e400}}', "too large for a double"),
        (b'{"model_id": "x3", "provider_model_id": "a", "metadata": {"x": ' + b"9" * 5000 + b"}}", "too long"),
        (b'{"model_id": "x4", "provider_model_id": "a", "metadata": {"x": ' + nested(350) + b"}}", "deeper than"),
    ],
)
def test_numbers_and_nesting_json_cannot_carry_are_refused_and_nothing_is_stored(
    body: bytes, fragment: str, servers: ServerFactory
) -> None:
    server = servers.running()
    answered = httpx.post(f"{server.url}/v1/models", content=body, headers={"content-type": "application/json"})
    assert answered.status_code == 400 and fragment in answered.json()["error"]["message"], answered.text
    model_id = json.loads(body[: body.index(b', "provider')] + b"}")["model_id"]
    assert httpx.get(f"{server.url}/v1/models/{model_id}").status_code == 404
    listing = httpx.get(f"{server.url}/v1/models")
    json.loads(listing.text, parse_constant=lambda name: pytest.fail(f"{name} in the listing"))


@pytest.mark.parametrize(
    ("path", "body"),
    [
        (
            "/v1/inference/chat-completion",
            b'{"model_id": "m", "messages": [{"role": "user", "content": ' + nested(350) + b"}]}",
        ),
        ("/v1/inference/embeddings", b'{"model_id": "e", "contents": ' + nested(350) + b"}"),
        ("/v1/vector-io/insert", b'{"vector_db_id": "docs", "chunks": [{"content": "a", "metadata": {"x": -1e400}}]}'),
        ("/v1/vector-io/query", b'{"vector_db_id": "docs", "query": ' + nested(400) + b"}"),
    ],
)
def test_hostile_bodies_on_every_api_are_a_400(path: str, body: bytes, servers: ServerFactory) -> None:
    server = servers.running(servers.config(servers.full()))
    answered = httpx.post(f"{server.url}{path}", content=body, headers={"content-type": "application/json"})
    assert answered.status_code == 400, answered.text


# ------------------------------------------------------------------ tokens and key sets


def test_tokens_shaped_to_crash_the_verifier_are_refused(servers: ServerFactory, issuer: FakeProcess) -> None:
    server = servers.running(servers.config(servers.minimal() + jwt_auth(f"{issuer.url}/jwks")))
    good = issuer.mint()
    _, payload, signature = good.split(".")
    shapes = {
        "alg is a list": _b64(json.dumps({"alg": ["RS256"], "kid": "key-1"}).encode()),
        "alg is an object": _b64(json.dumps({"alg": {"RS256": 1}, "kid": "key-1"}).encode()),
        "kid is a list": _b64(json.dumps({"alg": "RS256", "kid": ["key-1"]}).encode()),
    }
    for what, header in shapes.items():
        answered = httpx.get(
            f"{server.url}/v1/models", headers={"Authorization": f"Bearer {header}.{payload}.{signature}"}
        )
        assert answered.status_code == 401, (what, answered.text)
    empty_subject = issuer.mint(claims={"sub": ""})
    assert httpx.get(f"{server.url}/v1/models", headers={"Authorization": f"Bearer {empty_subject}"}).status_code == 401
    # A NumericDate of any size is a valid expiry (RFC 7519 §2): served, never a 500.
    far_future = issuer.mint(claims={"exp": 10**400})
    assert httpx.get(f"{server.url}/v1/models", headers={"Authorization": f"Bearer {far_future}"}).status_code == 200


def test_an_absurd_key_recheck_period_is_a_config_error(servers: ServerFactory) -> None:
    line = refused_at_start(servers, servers.minimal() + jwt_auth("http://127.0.0.1:9/jwks", "1" + "0" * 400))
    assert "key_recheck_period" in line, line


@pytest.mark.parametrize(
    "keyset",
    [answer_json([]), answer_json("keys"), answer(200, b"null"), answer(200, nested(5000)), answer_json({"keys": 5})],
)
def test_a_key_set_that_is_not_one_is_a_503(keyset: object, servers: ServerFactory, issuer: FakeProcess) -> None:
    token = issuer.mint()
    with hostile(keyset) as jwks:  # type: ignore[arg-type]
        server = servers.running(servers.config(servers.minimal() + jwt_auth(f"{jwks.url}/jwks")))
        answered = httpx.get(f"{server.url}/v1/models", headers={"Authorization": f"Bearer {token}"}, timeout=20)
    assert answered.status_code == 503, answered.text


def test_a_dripping_issuer_costs_a_new_token_at_most_the_fetch_deadline(
    servers: ServerFactory, issuer: FakeProcess
) -> None:
    token = issuer.mint()
    with hostile(
        drip(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n")
    ) as jwks:
        server = servers.running(servers.config(servers.minimal() + jwt_auth(f"{jwks.url}/jwks")))
        started = time.monotonic()
        answered = httpx.get(f"{server.url}/v1/models", headers={"Authorization": f"Bearer {token}"}, timeout=30)
        took = time.monotonic() - started
    assert answered.status_code == 503 and took < 8, (answered.status_code, took)


def test_a_huge_key_set_is_not_buffered(servers: ServerFactory, issuer: FakeProcess) -> None:
    token = issuer.mint()
    body = b'{"keys": [' + b'{"kty": "oct", "k": "' + b"A" * (64 * 1024 * 1024) + b'"}]}'
    with hostile(answer(200, body)) as jwks:
        server = servers.running(servers.config(servers.minimal() + jwt_auth(f"{jwks.url}/jwks")))
        answered = httpx.get(f"{server.url}/v1/models", headers={"Authorization": f"Bearer {token}"}, timeout=30)
        rss_kb = int(Path(f"/proc/{server.process.pid}/status").read_text().split("VmHWM:")[1].split()[0])
    assert answered.status_code == 503, answered.text
    assert rss_kb < 300_000, f"peak RSS {rss_kb} kB after a 64 MiB key set"


# ------------------------------------------------------------------ custom validators


def custom_config(endpoint: str) -> str:
    return f"server:\n  auth:\n    provider_type: custom\n    config: {{endpoint: '{endpoint}', timeout_s: 2}}\n"


def test_the_validator_never_gets_the_callers_other_credentials(servers: ServerFactory, tmp_path: Path) -> None:
    with hostile(answer_json({"principal": "alice"})) as validator:
        server = servers.running(servers.config(servers.minimal() + custom_config(validator.url)))
        headers = {"Authorization": "Bearer opaque", "Cookie": "session=s3", "Proxy-Authorization": "Basic cHJveHk="}
        assert httpx.get(f"{server.url}/v1/models", headers=headers).status_code == 200
        [request] = validator.requests
    sent = request.split(b"\r\n\r\n", 1)[0].lower()
    assert b"session=s3" not in sent and b"cHJveHk=" not in sent


@pytest.mark.parametrize(
    "behaviour",
    [
        drip(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n"),
        drip(b"HTTP/1.1 200 OK\r\nx-slow: "),
    ],
)
def test_a_dripping_validator_is_a_503_within_its_timeout(behaviour: object, servers: ServerFactory) -> None:
    with hostile(behaviour) as validator:  # type: ignore[arg-type]
        server = servers.running(servers.config(servers.minimal() + custom_config(validator.url)))
        started = time.monotonic()
        answered = httpx.get(f"{server.url}/v1/models", headers={"Authorization": "Bearer opaque"}, timeout=30)
    assert answered.status_code == 503 and time.monotonic() - started < 4, answered.text


def test_a_deeply_nested_validator_answer_is_refused(servers: ServerFactory) -> None:
    with hostile(answer(200, b'{"principal": "a", "access_attributes": ' + nested(5000) + b"}")) as validator:
        server = servers.running(servers.config(servers.minimal() + custom_config(validator.url)))
        answered = httpx.get(f"{server.url}/v1/models", headers={"Authorization": "Bearer opaque"})
    assert answered.status_code == 401, answered.text


# ------------------------------------------------------------------ slow and idle connections


def _closed_within(sock: socket.socket, seconds: float) -> bool:
    """Whether the server closes ``sock`` within the bound (an observable condition, not a sleep)."""
    sock.settimeout(seconds)
    try:
        while sock.recv(4096):
            pass
    except TimeoutError:
        return False
    except ConnectionResetError:
        pass
    return True


def test_idle_and_slowloris_connections_are_closed(servers: ServerFactory) -> None:
    server = servers.running()
    host, port = server.url.removeprefix("http://").split(":")
    idle = socket.create_connection((host, int(port)))
    slow = socket.create_connection((host, int(port)))
    slow.sendall(b"GET /v1/models HTTP/1.1\r\nhost: x\r\n")  # and never the end of the headers
    try:
        assert _closed_within(idle, 15) and _closed_within(slow, 15)
        assert httpx.get(f"{server.url}/v1/health").status_code == 200
    finally:
        idle.close()
        slow.close()


def test_a_strangers_body_is_never_read(servers: ServerFactory, issuer: FakeProcess) -> None:
    server = servers.running(servers.config(servers.minimal() + jwt_auth(f"{issuer.url}/jwks")))
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall(b"POST /v1/models HTTP/1.1\r\nhost: x\r\ncontent-length: 8000000\r\n\r\n{")
        sock.settimeout(10)
        assert sock.recv(4096).startswith(b"HTTP/1.1 401")  # answered before the body arrived


def test_a_body_that_stops_arriving_is_a_408(servers: ServerFactory) -> None:
    server = servers.running()
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall(b"POST /v1/models HTTP/1.1\r\nhost: x\r\ncontent-length: 100\r\n\r\n{")
        sock.settimeout(45)
        received = b""
        while b"Request body not received within" not in received:
            data = sock.recv(4096)  # the answer may come in several pieces; the wait is bounded
            if not data:
                break
            received += data
    assert received.startswith(b"HTTP/1.1 408"), received[:300]
    assert b"Request body not received within 30 s" in received, received[:300]


# ------------------------------------------------------------------ config loading


@pytest.mark.parametrize(
    ("extra", "args", "fragment"),
    [
        ("models:\n- {model_id: m, provider_model_id: a, metadata: {x: " + "9" * 5000 + "}}\n", (), "cannot be read"),
        ("models:\n- {model_id: m, provider_model_id: a, metadata: {x: ${env.CFG_BIG:=" + "9" * 5000 + "}}}\n", (), ""),
        (
            "models:\n- {model_id: m, provider_model_id: a, metadata: {x: ${env.CFG_BIG}}}\n",
            ("--env", "CFG_BIG=" + "9" * 5000),
            "",
        ),
        ("x: &a [*a]\n", (), "alias refers to a value that contains it"),
        ("x: " + "[" * 10_000 + "]" * 10_000 + "\n", (), "nested deeper than"),
        (
            "a: &a [1,1,1,1,1,1,1,1,1,1]\n"
            + "".join(f"{b}: &{b} [{','.join([f'*{a}'] * 10)}]\n" for a, b in zip("abcde", "bcdef", strict=True)),
            (),
            "once its aliases are expanded",
        ),
    ],
)
def test_configs_built_to_exhaust_the_loader_are_one_line(
    extra: str, args: tuple[str, ...], fragment: str, servers: ServerFactory
) -> None:
    outcome = servers.start(servers.config(servers.minimal() + extra), *args)
    if isinstance(outcome, Server):  # a huge numeral may legitimately stay a string in metadata
        assert fragment == "", "a config that should have been refused started"
        return
    assert outcome.returncode == 2 and "Traceback" not in outcome.stderr, outcome.stderr[-2000:]
    assert fragment in outcome.stderr, outcome.stderr


def test_a_nul_byte_in_a_config_value_is_one_line(servers: ServerFactory) -> None:
    text = servers.minimal().replace('registry.db"', 'registry\\0.db"')
    assert "\\0" in text
    line = refused_at_start(servers, text)
    assert line == "error: metadata_store.db_path: contains a NUL byte", line


@pytest.mark.parametrize("path", ["/dev/zero", "fifo"])
def test_config_paths_that_are_not_files_are_one_line(path: str, servers: ServerFactory, tmp_path: Path) -> None:
    if path == "fifo":
        path = str(tmp_path / "config.fifo")
        os.mkfifo(path)
    outcome = servers.start(Path(path))
    assert isinstance(outcome, Exited) and outcome.returncode == 2, outcome
    assert outcome.stderr.startswith("error: ") and "Traceback" not in outcome.stderr, outcome.stderr


def test_hostile_server_helper_sees_requests() -> None:
    """The helper itself: a request reaches the behaviour and is recorded."""
    with hostile(answer_json({"ok": True})) as endpoint:
        assert httpx.get(endpoint.url + "/x").json() == {"ok": True}
        assert endpoint.requests and isinstance(endpoint, HostileServer)
