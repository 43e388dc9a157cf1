"""The secrets registry masks each secret in the forms it travels in, and nothing else."""

from __future__ import annotations

import base64

from conformance.secrets import MASK, Secrets


def test_a_secret_is_masked_as_is_url_encoded_and_json_escaped() -> None:
    secrets = Secrets()
    secrets.add('p@ss/"word"')
    text = 'raw p@ss/"word" url p%40ss%2F%22word%22 json p@ss/\\"word\\"'
    assert secrets.scrub(text) == f"raw {MASK} url {MASK} json {MASK}"


def test_short_values_are_not_masked() -> None:
    secrets = Secrets()
    secrets.add("abc")
    assert not secrets
    assert secrets.scrub("abc") == "abc"


def test_a_url_password_and_its_basic_credential_are_masked() -> None:
    secrets = Secrets()
    secrets.add_url_credentials("https://operator:hunter22@stack.example/v1")
    basic = base64.b64encode(b"operator:hunter22").decode()
    assert secrets.scrub(f"pw hunter22, Authorization: Basic {basic}") == f"pw {MASK}, Authorization: Basic {MASK}"


def test_a_url_with_a_password_in_any_variable_is_a_secret() -> None:
    secrets = Secrets()
    secrets.add_environment({"REDIS_URL": "redis://:s3cr3t-pw@127.0.0.1:6379/0", "HOME": "/root"})
    assert secrets.scrub("connecting with s3cr3t-pw from /root") == f"connecting with {MASK} from /root"


def test_secret_names_mark_their_values_whatever_the_value() -> None:
    secrets = Secrets()
    secrets.add_environment({"VLLM_API_TOKEN": "tok-123456", "OLLAMA_URL": "http://127.0.0.1:11434"})
    assert secrets.scrub("tok-123456 at http://127.0.0.1:11434") == f"{MASK} at http://127.0.0.1:11434"


def test_a_value_that_only_looks_like_a_url_is_no_error() -> None:
    secrets = Secrets()
    # urlsplit refuses the unclosed bracket; the password beside a port out of range is still read
    secrets.add_environment({"NOTE": "see http://[broken@host", "PORT_URL": "http://u:p4ssw0rd@h:99999"})
    assert secrets.scrub("[broken p4ssw0rd") == f"[broken {MASK}"


def test_a_secret_that_contains_another_is_masked_whole() -> None:
    secrets = Secrets()
    secrets.add("token")
    secrets.add("token-and-more")
    assert secrets.scrub("token-and-more") == MASK
