"""Defects of the config profile (conformance/checks/test_config.py): placeholders, gates, model defaults, TLS.

Most reproduce how an upstream release read run.yaml (the research notes name which).
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from typing import Any

import reference_server.resources.models as models_module
from reference_server import cli
from reference_server.config import gating, substitution
from tests.defects.patching import Apply, all_of, each_entry, get, json_rule, patch, rewrite_api
from tests.defects.registry import defect


def placeholder_defect(kind: str) -> Apply:
    """Change how one placeholder form resolves (the forms upstream releases got wrong)."""

    def replacement(original: Callable[..., Any]) -> Callable[..., Any]:
        def placeholder(text: str, start: int, env: Any, path: str) -> tuple[str | None, int]:
            close = text.find("}", start)
            body = text[start + len("${env.") : close] if close > 0 else ""
            name = body.split(":")[0].split("+")[0]
            operator = body[len(name) :]
            if kind == "required-empty" and operator == "" and not env.get(name):
                return "", close + 1
            if kind == "required-set-but-empty" and operator == "" and env.get(name) == "":
                return "", close + 1
            # Only the scenarios' probe variables (CFG_*), so the stack still reaches its backend.
            if kind == "required-literal" and operator == "" and name.startswith("CFG_"):
                return text[start : close + 1], close + 1
            if kind == "default-empty-is-set" and operator.startswith(":=") and name in env:
                return env[name], close + 1
            if kind == "conditional-inverted" and operator.startswith(":+"):
                return ("" if env.get(name) else operator[2:]), close + 1
            if kind == "old-forms-literal" and operator[:1] in (":", "+") and operator[:2] not in (":=", ":+"):
                return text[start : close + 1], close + 1
            if kind == "old-conditional-literal" and operator.startswith("+"):
                return text[start : close + 1], close + 1
            if kind == "no-home" and operator.startswith(":=") and not env.get(name):
                return operator[2:], close + 1
            if kind == "malformed-literal" and (close < 0 or not name.isupper()):
                end = close + 1 if close > 0 else len(text)
                return text[start:end], end
            return original(text, start, env, path)  # type: ignore[no-any-return]

        return placeholder

    return patch(substitution, "_placeholder", replacement)


defect("required-literal", "CFG-ENV-001")(placeholder_defect("required-literal"))
defect("default-empty-is-set", "CFG-ENV-002")(placeholder_defect("default-empty-is-set"))
defect("conditional-inverted", "CFG-ENV-003")(placeholder_defect("conditional-inverted"))
defect("old-forms-literal", "CFG-ENV-004", "CFG-ENV-005")(placeholder_defect("old-forms-literal"))
defect("old-conditional-literal", "CFG-ENV-005")(placeholder_defect("old-conditional-literal"))
defect("required-empty", "CFG-ENV-009")(placeholder_defect("required-empty"))
defect("required-set-but-empty", "CFG-ENV-013")(placeholder_defect("required-set-but-empty"))
defect("no-home-expansion", "CFG-ENV-010")(placeholder_defect("no-home"))
defect("malformed-literal", "CFG-ENV-011")(placeholder_defect("malformed-literal"))


@defect("first-placeholder-only", "CFG-ENV-006")
def first_placeholder_only() -> None:
    original = substitution.substitute_string

    def substitute_string(text: str, env: Any, path: str) -> Any:
        start = text.find("${env.")
        second = text.find("${env.", start + 1) if start >= 0 else -1
        if second < 0:
            return original(text, env, path)
        return str(original(text[:second], env, path)) + text[second:]

    substitution.substitute_string = substitute_string


@defect("no-coercion", "CFG-ENV-007")
def no_coercion() -> None:
    substitution.coerce = lambda text: None if text == "" else text


@defect("coerce-plain-strings", "CFG-ENV-008")
def coerce_plain_strings() -> None:
    original_substitute = substitution.substitute

    def substitute(value: Any, env: Any, path: str = "") -> Any:
        if isinstance(value, str) and "${env." not in value:
            return substitution.coerce(value)
        if isinstance(value, dict):
            return {k: substitute(v, env, f"{path}.{k}") for k, v in value.items()}
        if isinstance(value, list):
            return [substitute(v, env, f"{path}[{i}]") for i, v in enumerate(value)]
        return original_substitute(value, env, path)

    substitution.substitute = substitute
    gating.substitute = substitute


@defect("traceback-on-config-error", "CFG-ENV-012", crashes=True)
def traceback_on_config_error() -> None:
    original = cli._serve

    def serve(args: Any) -> None:
        try:
            original(args)
        except Exception:
            traceback.print_exc()
            raise

    cli._serve = serve


@defect("disabled-config-expanded", "CFG-GATE-001", breaks_startup=True)
def expand_disabled_configs() -> None:
    """Expand a provider's body before looking at its gate (0.2.12 had no gate at all)."""
    original = gating._expand_gated_entry

    def expand(entry: dict[str, Any], gate_fields: tuple[str, ...], env: Any, path: str) -> Any:
        gating.substitute(entry, env, path)
        return original(entry, gate_fields, env, path)

    gating._expand_gated_entry = expand


@defect("empty-id-config-expanded", "CFG-GATE-006", breaks_startup=True)
def expand_empty_id_configs() -> None:
    """Expand a provider's body unless its id is exactly ``__disabled__`` (upstream since 0.2.13)."""
    original = gating._expand_gated_entry

    def expand(entry: dict[str, Any], gate_fields: tuple[str, ...], env: Any, path: str) -> Any:
        if "provider_type" in entry and gating.substitute(entry.get("provider_id"), env, path) in (None, ""):
            gating.substitute(entry, env, path)
        return original(entry, gate_fields, env, path)

    gating._expand_gated_entry = expand


@defect("disabled-provider-listed", "CFG-GATE-002")
def keep_disabled_providers() -> None:
    """List switched-off providers under their sentinel id, as 0.2.15 did."""
    original = gating._gate_providers

    def gate(providers: dict[str, Any], env: Any) -> dict[str, Any]:
        result = original(providers, env)
        for api, entries in providers.items():
            for index, entry in enumerate(entries):
                if gating.substitute(entry.get("provider_id"), env, "") in (None, "", gating.DISABLED):
                    result[api].append(
                        {
                            "provider_id": f"{gating.DISABLED}{index}",
                            "provider_type": entry["provider_type"],
                            "config": {"url": "http://127.0.0.1:9"},
                        }
                    )
        return result

    gating._gate_providers = gate


def ignore_resource_gate(field: str, stringify_empty: bool = False) -> Apply:
    """Stop one field from gating models (providers keep their gate); optionally register an
    empty id as the text "None", as a server that stringifies ids would."""

    def apply() -> None:
        original = gating._expand_gated_entry

        def expand(entry: dict[str, Any], gate_fields: tuple[str, ...], env: Any, path: str) -> Any:
            if path.startswith("models"):
                gate_fields = tuple(f for f in gate_fields if f != field)
                expanded = original(entry, gate_fields, env, path)
                if stringify_empty and expanded is not None and expanded.get(field) in (None, ""):
                    expanded[field] = "None"
                return expanded
            return original(entry, gate_fields, env, path)

        gating._expand_gated_entry = expand

    return apply


def unknown_provider_falls_back() -> None:
    original = models_module.pick_provider

    def pick(requested: str | None, available: list[str], what: str) -> str:
        if requested and requested not in available and available:
            return available[0]
        return original(None if requested in (None, "", gating.DISABLED) else requested, available, what)

    models_module.pick_provider = pick


# Upstream 0.7 registers such a model and then crashes at start-up on '__disabled__'.
defect("provider-model-id-gate-ignored", "CFG-GATE-003", breaks_startup=True)(ignore_resource_gate("provider_model_id"))
defect("provider-id-gate-ignored", "CFG-GATE-004")(
    all_of(ignore_resource_gate("provider_id"), unknown_provider_falls_back)
)
defect("empty-model-id-registered", "CFG-GATE-005")(ignore_resource_gate("model_id", stringify_empty=True))
defect("provider-model-id-not-defaulted", "CFG-MODEL-001")(
    rewrite_api(
        json_rule(
            get("/v1/models"),
            each_entry(
                lambda m: {**m, "provider_resource_id": None} if m["provider_resource_id"] == m["identifier"] else m
            ),
        )
    )
)


@defect("tls-certificate-ignored", "CFG-TLS-001", "CORE-TLS-001")
def tls_certificate_ignored() -> None:
    """tls_certfile / tls_keyfile are read and then plain HTTP is served."""
    original = cli.serve

    def serve(app: Any, sock: Any, ready_line: str, **options: Any) -> None:
        plain = {k: v for k, v in options.items() if not k.startswith("ssl_")}
        original(app, sock, ready_line.replace("https://", "http://"), **plain)

    cli.serve = serve
