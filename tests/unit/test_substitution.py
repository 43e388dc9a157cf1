"""The placeholder grammar: both upstream syntaxes, set / empty / unset, coercion, malformed."""

from __future__ import annotations

import pytest

from reference_server.config.errors import ConfigError
from reference_server.config.substitution import coerce, substitute

ENV = {"SET": "fromenv", "EMPTY": "", "ZERO": "0", "NUM": "42", "FLAG": "True", "HOME": "/home/u", "TILDE": "~/x"}


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        # required
        ("${env.SET}", "fromenv"),
        # new default form
        ("${env.SET:=dflt}", "fromenv"),
        ("${env.UNSET:=dflt}", "dflt"),
        ("${env.EMPTY:=dflt}", "dflt"),
        ("${env.UNSET:=}", None),
        ("${env.UNSET:=a:b=c}", "a:b=c"),
        # new conditional form
        ("${env.SET:+val}", "val"),
        ("${env.UNSET:+val}", None),
        ("${env.EMPTY:+val}", None),
        ("${env.ZERO:+val}", "val"),
        ("${env.SET:+}", None),
        # old default form (seed page)
        ("${env.SET:dflt}", "fromenv"),
        ("${env.UNSET:dflt}", "dflt"),
        ("${env.EMPTY:dflt}", "dflt"),
        ("${env.UNSET:}", None),
        ("${env.UNSET:http://localhost:11434}", "http://localhost:11434"),
        # old conditional form
        ("${env.SET+val}", "val"),
        ("${env.UNSET+val}", None),
        ("${env.ZERO+val}", "val"),
        # several references, surrounding text kept
        ("prefix-${env.SET}-suffix", "prefix-fromenv-suffix"),
        ("${env.UNSET:=a}${env.UNSET:=b}", "ab"),
        ("${env.SET:=d} and ${env.UNSET:+c}", "fromenv and "),
        ("${env.UNSET:=d} and ${env.SET+c}", "d and c"),
        # home expansion of substituted values only
        ("${env.UNSET:=~/.llama}/x.db", "/home/u/.llama/x.db"),
        ("${env.TILDE}", "/home/u/x"),
        ("~/plain", "~/plain"),
        # text without placeholders is untouched, even other dollar forms
        ("$env.SET", "$env.SET"),
        ("costs $5", "costs $5"),
    ],
)
def test_placeholder_forms(template: str, expected: object) -> None:
    assert substitute(template, ENV) == expected


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("${env.NUM}", 42),
        ("${env.UNSET:=8321}", 8321),
        ("${env.UNSET:=-3}", -3),
        ("${env.UNSET:=3.5}", 3.5),
        ("${env.UNSET:=1e3}", 1000.0),
        ("${env.FLAG}", True),
        ("${env.UNSET:=false}", False),
        ("${env.UNSET:=0x10}", "0x10"),
        ("${env.UNSET:=inf}", "inf"),
        ("${env.UNSET:=nan}", "nan"),
        ("${env.UNSET:=None}", "None"),
        ("${env.UNSET:=null}", "null"),
        ("${env.UNSET:= 7 }", " 7 "),
        ("${env.SET}/${env.NUM}", "fromenv/42"),
    ],
)
def test_coercion_applies_where_a_substitution_happened(template: str, expected: object) -> None:
    result = substitute(template, ENV)
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize("plain", ["8080", "true", "", "3.5", "None"])
def test_plain_strings_are_not_coerced(plain: str) -> None:
    assert substitute(plain, ENV) == plain


def test_coercion_is_stable() -> None:
    for text in ["42", "true", "3.5", "", "abc"]:
        once = coerce(text)
        assert coerce(str(once)) == once or once is None


def test_recursion_through_dicts_and_lists_keeps_keys() -> None:
    tree = {"${env.SET}": ["${env.UNSET:=d}", {"n": "${env.UNSET:+c}"}], "k": 3, "b": None}
    assert substitute(tree, ENV) == {"${env.SET}": ["d", {"n": None}], "k": 3, "b": None}


def test_missing_required_variable_names_variable_path_and_fix() -> None:
    with pytest.raises(ConfigError) as caught:
        substitute({"models": [{"model_id": "${env.INFERENCE_MODEL}"}]}, ENV)
    error = caught.value
    assert error.variable == "INFERENCE_MODEL"
    assert error.path == "models[0].model_id"
    assert "${env.INFERENCE_MODEL:=default}" in error.one_line()
    assert "${env.INFERENCE_MODEL:+value}" in error.one_line()


def test_empty_required_variable_counts_as_missing() -> None:
    with pytest.raises(ConfigError, match="'EMPTY' is not set or empty"):
        substitute("${env.EMPTY}", ENV)


@pytest.mark.parametrize(
    ("template", "fragment"),
    [
        ("${env.X:~", "missing closing"),
        ("${env.SET", "missing closing"),
        ("a ${env.SET:=x", "missing closing"),
        ("${env.lower:x}", "upper-case"),
        ("${env.Mixed}", "upper-case"),
        ("${env.}", "no variable name"),
        ("${env.:=x}", "no variable name"),
        ("${env.X-d}", "expected '}'"),
        ("${env.X.Y}", "expected '}'"),
        ("${env.X:-d}", "shell-style"),
        ("${env.X:?err}", "shell-style"),
        ("${env.A:=${env.B}}", "nested"),
        ("ok ${env.SET} then ${env.bad}", "upper-case"),
    ],
)
def test_malformed_placeholders_are_config_errors(template: str, fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment) as caught:
        substitute({"server": {"host": template}}, ENV)
    assert caught.value.path == "server.host"
