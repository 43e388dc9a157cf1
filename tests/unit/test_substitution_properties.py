"""Properties of the placeholder grammar over generated templates and environments."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from reference_server.config.errors import ConfigError
from reference_server.config.substitution import OPENER, coerce, substitute

NAMES = st.sampled_from(["A", "B", "C_1", "UNSET"])
ENVS = st.dictionaries(
    st.sampled_from(["A", "B", "C_1"]), st.sampled_from(["", "x", "42", "2.5", "true", "~/d", "a:b"])
)
LITERAL = st.text(alphabet="ab -/:=+~.01{}$", max_size=6)
VALUE = st.text(alphabet="ab -/:=+~.01", max_size=5)


@st.composite
def placeholders(draw: st.DrawFn) -> str:
    name = draw(NAMES)
    operator = draw(st.sampled_from(["", ":=", ":+", ":", "+"]))
    value = draw(VALUE) if operator else ""
    return f"${{env.{name}{operator}{value}}}"


TEMPLATES = st.lists(st.one_of(LITERAL, placeholders(), st.just("${env."), st.just("${env.lower}")), max_size=5).map(
    "".join
)


@given(TEMPLATES, ENVS)
def test_a_value_never_keeps_a_placeholder_and_errors_name_the_path(template: str, env: dict[str, str]) -> None:
    try:
        value = substitute({"k": [template]}, env)["k"][0]
    except ConfigError as error:
        assert error.path == "k[0]"
        return
    if isinstance(value, str) and OPENER in template:
        assert OPENER not in value


@given(NAMES, VALUE.filter(lambda v: v[:1] not in ("-", "?", "=", "+")), ENVS)
def test_the_two_grammars_agree_where_both_read(name: str, value: str, env: dict[str, str]) -> None:
    assert substitute(f"${{env.{name}:{value}}}", env) == substitute(f"${{env.{name}:={value}}}", env)
    assert substitute(f"${{env.{name}+{value}}}", env) == substitute(f"${{env.{name}:+{value}}}", env)


@given(st.text(alphabet="0123456789.-+eE truefalsTRUE", max_size=8))
def test_coercion_is_stable(text: str) -> None:
    once = coerce(text)
    if once is not None:
        assert coerce(str(once)) == once


@given(TEMPLATES, ENVS)
def test_resolving_twice_changes_nothing(template: str, env: dict[str, str]) -> None:
    try:
        once = substitute(template, env)
    except ConfigError:
        return
    if isinstance(once, str):
        assert substitute(once, env) == once
