"""The CLI's contract: one ``error:`` line and exit 2 for bad input, exit 1 when it cannot start."""

from __future__ import annotations

import socket
import sqlite3
import ssl

import httpx
import pytest

from conformance.launchers.process import Exited
from conformance.tls import make_pki
from tests.conftest import ServerFactory


def expect_one_line_error(outcome: object, code: int, *fragments: str) -> str:
    assert isinstance(outcome, Exited), f"the server started: {outcome}"
    assert outcome.returncode == code, outcome
    lines = [line for line in outcome.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), outcome.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


@pytest.mark.parametrize(
    ("replace", "by", "fragments"),
    [
        ('"<url>"', '"${env.CFG_URL}"', ("CFG_URL", "providers.inference[0].config.url", ":=default")),
        ('"<url>"', '"${env.cfg_url:=x}"', ("providers.inference[0].config.url", "upper-case")),
        ('"<url>"', '"${env.CFG_URL:=x"', ("providers.inference[0].config.url", "closing")),
        ("remote::ollama", "remote::nope", ("providers.inference[0].provider_type", "remote::vllm")),
        ("image_name: test", "image_name: test\nserver: {port: many}", ("server.port",)),
        ("apis: [inference]", "apis: [inference", ("invalid YAML", "line")),
        ("version: 2", "version: 3", ("version",)),
    ],
)
def test_config_errors_exit_2_with_one_line(
    servers: ServerFactory, replace: str, by: str, fragments: tuple[str, ...]
) -> None:
    text = servers.minimal().replace(replace.replace("<url>", servers.ollama_url), by)
    expect_one_line_error(servers.start(servers.config(text)), 2, *fragments)


def test_missing_config_file(servers: ServerFactory) -> None:
    expect_one_line_error(servers.start(servers.tmp_path / "nope.yaml"), 2, "cannot read config")


@pytest.mark.parametrize("pair", ["NOEQUALS", "=value", "1BAD=x"])
def test_malformed_env_pair_is_rejected(servers: ServerFactory, pair: str) -> None:
    outcome = servers.start(servers.config(), "--env", pair)
    assert isinstance(outcome, Exited) and outcome.returncode == 2
    assert "invalid --env" in outcome.stderr and "Traceback" not in outcome.stderr


def test_env_pairs_are_set_before_substitution(servers: ServerFactory) -> None:
    text = servers.minimal().replace('"<url>"', '"${env.CFG_URL}"')
    server = servers.running(servers.config(text), "--env", f"CFG_URL={servers.ollama_url}")
    providers = httpx.get(server.url + "/v1/providers").json()["data"]
    assert providers[0]["config"]["url"] == servers.ollama_url


def test_binds_loopback_by_default(servers: ServerFactory) -> None:
    assert servers.running().url.startswith("http://127.0.0.1:")


def test_port_from_config_when_no_flag(servers: ServerFactory) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    text = servers.minimal() + f"server: {{port: {port}}}\n"
    outcome = servers.start(servers.config(text), "--port", str(port))
    assert not isinstance(outcome, Exited) and outcome.url.endswith(f":{port}")


def test_port_in_use_exits_1(servers: ServerFactory) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        expect_one_line_error(servers.start(servers.config(), "--port", str(port)), 1, "cannot listen", str(port))


def test_missing_tls_file_is_a_config_error(servers: ServerFactory) -> None:
    text = servers.minimal() + "server: {tls_certfile: /nope.pem, tls_keyfile: /nope.key}\n"
    expect_one_line_error(servers.start(servers.config(text)), 2, "server.tls_certfile")


def test_tls(servers: ServerFactory) -> None:
    pki = make_pki(servers.tmp_path)
    cert, key = pki.server
    text = servers.minimal() + f"server: {{tls_certfile: {cert}, tls_keyfile: {key}}}\n"
    server = servers.running(servers.config(text))
    assert server.url.startswith("https://")
    trusting = ssl.create_default_context(cafile=pki.ca)  # the server's certificate is checked, not ignored
    assert httpx.get(server.url + "/v1/health", verify=trusting).json() == {"status": "OK"}


def test_a_ca_file_means_mutual_tls(servers: ServerFactory) -> None:
    pki = make_pki(servers.tmp_path)
    cert, key = pki.server
    text = servers.minimal() + f"server: {{tls_certfile: {cert}, tls_keyfile: {key}, tls_cafile: {pki.ca}}}\n"
    server = servers.running(servers.config(text))
    trusting = ssl.create_default_context(cafile=pki.ca)
    with pytest.raises(httpx.TransportError):  # no client certificate: refused at the handshake
        httpx.get(server.url + "/v1/health", verify=trusting)
    trusting.load_cert_chain(*pki.client)
    assert httpx.get(server.url + "/v1/health", verify=trusting).json() == {"status": "OK"}


def test_a_ca_file_without_a_certificate_is_a_config_error(servers: ServerFactory) -> None:
    pki = make_pki(servers.tmp_path)
    text = servers.minimal() + f"server: {{tls_cafile: {pki.ca}}}\n"
    expect_one_line_error(servers.start(servers.config(text)), 2, "tls_cafile needs tls_certfile")


def test_a_corrupt_metadata_store_is_one_line(servers: ServerFactory) -> None:
    servers.state.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(servers.state / "registry.db")
    db.execute("CREATE TABLE kvstore (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    db.execute("INSERT INTO kvstore VALUES ('registry:model:m', '{not json')")
    db.commit()
    db.close()
    expect_one_line_error(servers.start(servers.config()), 1, "corrupt entry", "registry:model:m")
