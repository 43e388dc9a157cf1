"""Generation parsing, detection from answers, and requirement windows."""

from __future__ import annotations

import pytest

from conformance.generation import REFERENCE, from_answers, parse_override, parse_version


@pytest.mark.parametrize(
    ("text", "version"),
    [("0.2.12", (0, 2, 12)), ("0.7.3", (0, 7, 3)), ("ogx-1.5", (1, 5, 0)), ("v0.8.1.dev0", (0, 8, 1)), ("x", None)],
)
def test_parse_version(text: str, version: tuple[int, int, int] | None) -> None:
    assert parse_version(text) == version


def test_windows() -> None:
    seed_era, today, ogx = parse_override("0.2.12"), parse_override("0.7.3"), parse_override("ogx-1.5.0")
    assert seed_era.in_window(None, "0.2.13") and not today.in_window(None, "0.2.13")
    assert today.in_window("0.3.0", None) and not seed_era.in_window("0.3.0", None)
    assert not ogx.in_window(None, "0.7.0") and ogx.in_window("0.4.0", None)
    assert REFERENCE.in_window("0.7.0", "0.2.13")  # the reference sits in every window


def test_detection() -> None:
    assert from_answers({"version": "0.1.0", "implementation": "llama-stack-reference"}, None, None).is_reference
    assert from_answers({"version": "0.2.12"}, 200, None).name == "llama-stack 0.2.12"
    assert from_answers({"version": "1.5.0"}, 404, None).name == "ogx 1.5.0"
    assert from_answers(None, 200, None).version == (0, 2, 0)
    assert from_answers(None, 404, {"object": "list", "data": []}).version == (0, 4, 0)


def test_override_errors() -> None:
    with pytest.raises(ValueError, match="stack-generation"):
        parse_override("latest")
    assert parse_override("Reference").is_reference
