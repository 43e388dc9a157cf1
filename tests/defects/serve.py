"""Serve the reference server with one deliberate defect: the negative controls' targets.

    python tests/defects/serve.py DEFECT CONFIG --port N

Each defect reproduces a real way deployments go wrong (many are upstream behaviours from the
research notes) by patching the reference server inside this process only. The production
code path has no switch for any of this. `DEFECTS` maps a defect to the requirements whose
checks must fail against it; tests/suite/test_negative_controls.py proves they do.
"""

from __future__ import annotations

import json
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

import reference_server.api.app as app_module
import reference_server.resources.models as models_module
from reference_server import cli
from reference_server.config import gating, substitution

# A rewrite rule sees (method, path, status, body) and returns the new (status, body, content type).
Rewrite = Callable[[str, str, int, bytes], tuple[int, bytes, str] | None]


class RewritingMiddleware:
    """Buffers each response and lets a rule replace its status and body."""

    def __init__(self, app: ASGIApp, rule: Rewrite) -> None:
        self.app = app
        self.rule = rule

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, capture)
        status, body = int(start["status"]), b"".join(chunks)
        content_type = "application/json"
        changed = self.rule(scope["method"], scope["path"], status, body)
        if changed is not None:
            status, body, content_type = changed
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() not in (b"content-length", b"content-type")]
        headers += [(b"content-length", str(len(body)).encode()), (b"content-type", content_type.encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def rewrite_api(rule: Rewrite) -> Callable[[], None]:
    def apply() -> None:
        original = app_module.create_app

        def create_app(stack: Any) -> Any:
            app = original(stack)
            app.add_middleware(RewritingMiddleware, rule=rule)
            return app

        app_module.create_app = create_app

    return apply


def json_rule(match: Callable[[str, str, int], bool], edit: Callable[[Any], Any], status: int | None = None) -> Rewrite:
    def rule(method: str, path: str, code: int, body: bytes) -> tuple[int, bytes, str] | None:
        if not match(method, path, code):
            return None
        return (status or code), json.dumps(edit(json.loads(body or b"null"))).encode(), "application/json"

    return rule


def get(path: str) -> Callable[[str, str, int], bool]:
    return lambda method, actual, _code: method == "GET" and actual == path


def each_entry(edit: Callable[[dict[str, Any]], dict[str, Any]]) -> Callable[[Any], Any]:
    return lambda body: {**body, "data": [edit(dict(entry)) for entry in body["data"]]}


def drop(key: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda entry: {k: v for k, v in entry.items() if k != key}


def patch(module: Any, name: str, replacement: Callable[..., Any]) -> Callable[[], None]:
    def apply() -> None:
        original = getattr(module, name)
        setattr(module, name, replacement(original))

    return apply


def all_of(*steps: Callable[[], None]) -> Callable[[], None]:
    def apply() -> None:
        for step in steps:
            step()

    return apply


# ---------------------------------------------------------------- substitution defects


def placeholder_defect(kind: str) -> Callable[[], None]:
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


def first_placeholder_only() -> None:
    original = substitution.substitute_string

    def substitute_string(text: str, env: Any, path: str) -> Any:
        start = text.find("${env.")
        second = text.find("${env.", start + 1) if start >= 0 else -1
        if second < 0:
            return original(text, env, path)
        return str(original(text[:second], env, path)) + text[second:]

    substitution.substitute_string = substitute_string


def traceback_on_config_error() -> None:
    original = cli._serve

    def serve(args: Any) -> None:
        try:
            original(args)
        except Exception:
            traceback.print_exc()
            raise

    cli._serve = serve


def expand_disabled_configs() -> None:
    """Expand a provider's body before looking at its gate (0.2.12 had no gate at all)."""
    original = gating._expand_gated_entry

    def expand(entry: dict[str, Any], gate_fields: tuple[str, ...], env: Any, path: str) -> Any:
        gating.substitute(entry, env, path)
        return original(entry, gate_fields, env, path)

    gating._expand_gated_entry = expand


def expand_empty_id_configs() -> None:
    """Expand a provider's body unless its id is exactly ``__disabled__`` (upstream since 0.2.13)."""
    original = gating._expand_gated_entry

    def expand(entry: dict[str, Any], gate_fields: tuple[str, ...], env: Any, path: str) -> Any:
        if "provider_type" in entry and gating.substitute(entry.get("provider_id"), env, path) in (None, ""):
            gating.substitute(entry, env, path)
        return original(entry, gate_fields, env, path)

    gating._expand_gated_entry = expand


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


def ignore_resource_gate(field: str, stringify_empty: bool = False) -> Callable[[], None]:
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


def no_coercion() -> None:
    substitution.coerce = lambda text: None if text == "" else text


# ---------------------------------------------------------------- provider defects


def _providers() -> Any:
    from reference_server.providers import (
        ollama,
        remote,
        vllm,
    )

    return ollama.OllamaProvider, vllm.VLLMProvider, remote.RemoteInferenceProvider


def ollama_optional_by_default() -> None:
    """raise_on_connect_error defaults to false: an Ollama left unsaid is optional."""
    from reference_server.providers.catalog import OllamaConfig

    OllamaConfig.model_fields["raise_on_connect_error"].default = False
    OllamaConfig.model_rebuild(force=True)


def ollama_required(required: bool) -> Callable[[], None]:
    """Ignore the config's raise_on_connect_error: always fatal (0.2.15 on), or never."""

    def apply() -> None:
        ollama, _vllm, _remote = _providers()
        original = ollama.start

        async def start(self: Any) -> None:
            self.config = self.config.model_copy(update={"raise_on_connect_error": required})
            await original(self)

        ollama.start = start

    return apply


def unreachable_is_sticky() -> None:
    """Remember an Ollama that was down at start-up as down for good."""
    ollama, _vllm, _remote = _providers()
    original = ollama.call

    async def call(self: Any, method: str, url: str, body: Any = None) -> Any:
        if not self.reachable_at_start:
            from reference_server.errors import Unavailable

            raise Unavailable(f"{self.describe()} was unreachable at start-up")
        return await original(self, method, url, body)

    ollama.call = call


def unreachable_is_500() -> None:
    from reference_server.errors import Unavailable

    Unavailable.status = 500


def no_backend_check() -> None:
    async def accept(self: Any, model: str) -> str:
        return model

    for cls in _providers():
        cls.check_model = accept


def vllm_token_dropped() -> None:
    _ollama, vllm, _remote = _providers()
    vllm.headers = lambda self: {}


def config_models_named_by_backend_id() -> None:
    from reference_server.config import loader

    original = loader.build_model

    def build(**kwargs: Any) -> Any:
        model = original(**kwargs)
        return model.model_copy(update={"identifier": model.provider_resource_id})

    loader.build_model = build


def registration_not_stored() -> None:
    from reference_server.resources.registry import ModelRegistry

    ModelRegistry.register = lambda self, model: model  # type: ignore[method-assign]


def renamed_is_identity() -> None:
    from reference_server.api import inference

    inference._renamed = lambda answer, model_id: answer


def on_path(path: str, edit: Callable[[bytes], bytes | None]) -> Rewrite:
    def rule(method: str, actual: str, code: int, body: bytes) -> tuple[int, bytes, str] | None:
        if actual != path or code != 200:
            return None
        changed = edit(body)
        if changed is None:
            return None
        kind = "text/event-stream" if changed.startswith(b"data:") else "application/json"
        return code, changed, kind

    return rule


def _json_edit(edit: Callable[[Any], Any]) -> Callable[[bytes], bytes | None]:
    return lambda body: None if body.startswith(b"data:") else json.dumps(edit(json.loads(body))).encode()


def _drop_last_event(body: bytes) -> bytes | None:
    if not body.startswith(b"data:"):
        return None
    events = [e for e in body.split(b"\n\n") if e.strip()]
    return b"\n\n".join(events[:-1]) + b"\n\n"


def _seed_fields(model: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in model.items() if k not in ("id", "object", "created", "owned_by")}


def _as_user(choice: dict[str, Any]) -> dict[str, Any]:
    return {**choice, "message": {**choice["message"], "role": "user"}}


def _stream_as_json(body: bytes) -> bytes | None:
    return b'{"object": "chat.completion", "choices": []}' if body.startswith(b"data:") else None


# ---------------------------------------------------------------- auth defects


def _auth() -> Any:
    import reference_server.auth.custom_provider as custom
    from reference_server.auth import (
        jwt_provider,
        middleware,
    )

    return jwt_provider, custom, middleware


def rejects_everything(provider: str, message: str) -> Callable[[], None]:
    """An auth provider (``jwt`` or ``custom``) that refuses every token, good ones too."""

    def apply() -> None:
        jwt_provider, custom, _middleware = _auth()
        from reference_server.auth.errors import AuthFailure

        async def authenticate(self: Any, token: str, scope: Any) -> Any:
            raise AuthFailure(message)

        target = jwt_provider.OAuth2TokenProvider if provider == "jwt" else custom.CustomAuthProvider
        target.authenticate = authenticate

    return apply


def jwt_skips(check: str) -> Callable[[], None]:
    """pyjwt told to skip one of its checks: ``verify_exp`` (expired tokens pass) or
    ``verify_signature`` (any token with the right claims passes)."""

    def apply() -> None:
        import jwt

        original = jwt.decode

        def decode(*args: Any, **kwargs: Any) -> Any:
            kwargs["options"] = {**(kwargs.get("options") or {}), check: False}
            return original(*args, **kwargs)

        jwt.decode = decode

    return apply


def jwt_algorithm_confusion() -> None:
    """The token chooses its algorithm: HS256 is verified with the issuer's public key as the secret."""
    import hashlib
    import hmac
    from types import SimpleNamespace

    import jwt
    from cryptography.hazmat.primitives import serialization

    from conformance.forgery import b64url

    jwt_provider, _custom, _middleware = _auth()
    jwt_provider.ALLOWED_ALGORITHMS = frozenset({*jwt_provider.ALLOWED_ALGORITHMS, "HS256"})
    original_key_for, original_decode = jwt_provider.OAuth2TokenProvider._key_for, jwt.decode

    async def key_for(self: Any, kid: Any) -> Any:
        return SimpleNamespace(key=(await original_key_for(self, kid)).key, algorithm_name=None)

    def decode(token: str, key: Any, *args: Any, **kwargs: Any) -> Any:
        if jwt.get_unverified_header(token).get("alg") != "HS256":
            return original_decode(token, key, *args, **kwargs)
        pem = key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        signing_input, _, signature = token.rpartition(".")
        if b64url(hmac.new(pem, signing_input.encode(), hashlib.sha256).digest()) != signature:
            raise jwt.InvalidSignatureError("bad HMAC")
        return original_decode(token, options={"verify_signature": False})

    jwt_provider.OAuth2TokenProvider._key_for = key_for
    jwt.decode = decode


def jwt_echoes_the_token() -> None:
    """0.2.12's message: ``Invalid JWT token: <token>``."""
    jwt_provider, _custom, _middleware = _auth()
    from reference_server.auth.errors import AuthFailure

    original = jwt_provider.OAuth2TokenProvider.authenticate

    async def authenticate(self: Any, token: str, scope: Any) -> Any:
        try:
            return await original(self, token, scope)
        except AuthFailure:
            raise AuthFailure(f"Invalid JWT token: {token}") from None

    jwt_provider.OAuth2TokenProvider.authenticate = authenticate


def garbage_token_is_500() -> None:
    jwt_provider, _custom, _middleware = _auth()
    original = jwt_provider.OAuth2TokenProvider.authenticate

    async def authenticate(self: Any, token: str, scope: Any) -> Any:
        if "." not in token:
            from reference_server.errors import StackError

            raise StackError("Internal server error")
        return await original(self, token, scope)

    jwt_provider.OAuth2TokenProvider.authenticate = authenticate


def no_www_authenticate() -> None:
    _jwt, _custom, middleware = _auth()
    import json as json_module

    async def refuse(send: Any, status: int, message: str) -> None:
        body = json_module.dumps({"error": {"message": message}}).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    middleware.refuse = refuse


def keys_fetched_once() -> None:
    """Keys fetched at the first token and never again, whatever key_recheck_period says."""
    jwt_provider, _custom, _middleware = _auth()
    original_init = jwt_provider.OAuth2TokenProvider.__init__

    def init(self: Any, config: Any) -> None:
        original_init(self, config)
        self.jwks = self.jwks.model_copy(update={"key_recheck_period": 10**9})

    jwt_provider.OAuth2TokenProvider.__init__ = init
    jwt_provider.OAuth2TokenProvider._may_refetch_for_unknown_kid = lambda self: False


def jwks_token_not_sent() -> None:
    """jwks.token is read and never sent: the key fetch goes out without Authorization."""
    jwt_provider, _custom, _middleware = _auth()
    original_init = jwt_provider.OAuth2TokenProvider.__init__

    def init(self: Any, config: Any) -> None:
        original_init(self, config)
        self.jwks = self.jwks.model_copy(update={"token": None})

    jwt_provider.OAuth2TokenProvider.__init__ = init


def tls_cafile_ignored() -> None:
    """The issuer is verified against the system's CAs whatever tls_cafile says."""
    jwt_provider, _custom, _middleware = _auth()
    original_init = jwt_provider.OAuth2TokenProvider.__init__

    def init(self: Any, config: Any) -> None:
        original_init(self, config.model_copy(update={"tls_cafile": None}))

    jwt_provider.OAuth2TokenProvider.__init__ = init


def tls_certificate_ignored() -> None:
    """tls_certfile / tls_keyfile are read and then plain HTTP is served."""
    from reference_server import cli

    original = cli.serve

    def serve(app: Any, sock: Any, ready_line: str, **options: Any) -> None:
        plain = {k: v for k, v in options.items() if not k.startswith("ssl_")}
        original(app, sock, ready_line.replace("https://", "http://"), **plain)

    cli.serve = serve


def issuer_outage_is_500() -> None:
    from reference_server.auth.errors import AuthUnavailable

    AuthUnavailable.status = 500


def forgets_keys_on_outage() -> None:
    """Drop the keys when the re-fetch after key_recheck_period fails (llama-stack 0.2.12's way):
    a check that does not wait out the period cannot see it."""
    jwt_provider, _custom, _middleware = _auth()
    original_init = jwt_provider.OAuth2TokenProvider.__init__
    original_fetch = jwt_provider.OAuth2TokenProvider._fetch

    def init(self: Any, config: Any) -> None:
        original_init(self, config)
        self._verdicts = {}

    async def fetch(self: Any) -> None:
        self._keys = {}
        await original_fetch(self)

    jwt_provider.OAuth2TokenProvider.__init__ = init
    jwt_provider.OAuth2TokenProvider._fetch = fetch
    jwt_provider.CACHE_SIZE = 0


def custom_params_not_lists() -> None:
    _jwt, custom, _middleware = _auth()
    from urllib.parse import parse_qs

    custom.parse_qs = lambda query, keep_blank_values: {k: v[-1] for k, v in parse_qs(query, keep_blank_values).items()}


def custom_refusals_pass() -> None:
    _jwt, custom, _middleware = _auth()
    from reference_server.auth.principal import Principal
    from reference_server.errors import StackError

    original = custom.CustomAuthProvider.authenticate

    async def authenticate(self: Any, token: str, scope: Any) -> Any:
        try:
            return await original(self, token, scope)
        except StackError:
            return Principal("anonymous")

    custom.CustomAuthProvider.authenticate = authenticate


def validator_waited_out() -> None:
    """Wait a minute for the validator: a slow answer is taken, however late."""
    _jwt, custom, _middleware = _auth()
    original_init = custom.CustomAuthProvider.__init__

    def init(self: Any, config: Any) -> None:
        original_init(self, config.model_copy(update={"timeout_s": 60}))

    custom.CustomAuthProvider.__init__ = init


def one_namespace_for_all_tokens() -> None:
    """Tokens without attributes all land in one namespace instead of one each."""
    _jwt, custom, _middleware = _auth()
    custom.token_digest = lambda token: "token-sha256:everyone"


def public_routes(extra: frozenset[tuple[str, str]], replace: bool = False) -> Callable[[], None]:
    def apply() -> None:
        _jwt, _custom, middleware = _auth()
        middleware.PUBLIC = extra if replace else middleware.PUBLIC | extra

    return apply


def everyone_sees_everything() -> None:
    from reference_server.resources import registry

    registry.can_see = lambda viewer, owner: True


def listing_cached_for_everyone() -> None:
    """The encoded listing is cached once for whoever asks first, until the next change."""
    from reference_server.resources.registry import ResourceRegistry

    original = ResourceRegistry.listing_body

    def listing_body(self: Any, viewer: Any = None) -> bytes:
        body = self._bodies.get("*")
        if body is None:
            body = self._bodies["*"] = original(self, viewer)
        return body  # type: ignore[no-any-return]

    ResourceRegistry.listing_body = listing_body  # type: ignore[method-assign]


def owner_only() -> None:
    """Only the principal who registered a resource sees it; shared attributes count for nothing."""
    from reference_server.resources import registry

    registry.can_see = lambda viewer, owner: owner is None or viewer is None or viewer.id == owner.get("principal")


def delete_ignores_owner() -> None:
    from reference_server.resources.registry import ModelRegistry

    original = ModelRegistry.unregister
    ModelRegistry.unregister = lambda self, identifier, viewer=None: original(self, identifier, None)  # type: ignore[method-assign]


# ---------------------------------------------------------------- quota defects


TOO_MANY_REQUESTS = b'{"error": {"message": "Too Many Requests"}}'


def quota_before_auth() -> None:
    """Upstream's order: the quota sees no principal, so it keys by IP with the anonymous limit."""
    from reference_server.auth.middleware import AuthMiddleware
    from reference_server.quota.middleware import QuotaMiddleware

    original = app_module.create_app

    def create_app(stack: Any) -> Any:
        app = original(stack)
        layers = app.user_middleware
        kinds = [m.cls for m in layers]
        if AuthMiddleware in kinds and QuotaMiddleware in kinds:
            auth, quota = kinds.index(AuthMiddleware), kinds.index(QuotaMiddleware)
            layers[auth], layers[quota] = layers[quota], layers[auth]
        return app

    app_module.create_app = create_app


class _MemoryCounter:
    def __init__(self, racy: bool) -> None:
        self.counts: dict[str, int] = {}
        self.racy = racy

    async def increment(self, key: str, expires_at: int) -> int:
        import asyncio

        value = self.counts.get(key, 0)
        if self.racy:
            await asyncio.sleep(0.005)  # the defect: read, yield, write back (a lost update)
        self.counts[key] = value + 1
        return value + 1

    async def aclose(self) -> None:
        return None


def memory_counter(racy: bool) -> Callable[[], None]:
    def apply() -> None:
        import reference_server.stack as stack_module

        stack_module.build_counter = lambda config: _MemoryCounter(racy)

    return apply


def quota_without_retry_after() -> None:
    import reference_server.quota.middleware as quota

    original = quota._answer
    quota._answer = lambda send, status, message, headers: original(send, status, message, [])


def retry_after_an_hour() -> None:
    """A plausible Retry-After that is not the end of the day window."""
    import reference_server.quota.middleware as quota

    original = quota._answer
    quota._answer = lambda send, status, message, headers: original(
        send, status, message, [(b"retry-after", b"3600")] if headers else []
    )


def quota_dropped() -> None:
    """The quota section is read and ignored (OGX 1.x's server config has no such field)."""
    from reference_server.quota.middleware import QuotaMiddleware

    original = app_module.create_app

    def create_app(stack: Any) -> Any:
        app = original(stack)
        app.user_middleware = [m for m in app.user_middleware if m.cls is not QuotaMiddleware]
        return app

    app_module.create_app = create_app


def quota_keyed(rekey: Callable[[dict[str, Any]], None]) -> Callable[[], None]:
    """The quota sees a rewritten scope: who a caller is, for counting only."""

    def apply() -> None:
        from reference_server.quota.middleware import QuotaMiddleware

        original = QuotaMiddleware.__call__

        async def call(self: Any, scope: Any, receive: Any, send: Any) -> None:
            counted = dict(scope)
            rekey(counted)
            await original(self, counted, receive, send)

        QuotaMiddleware.__call__ = call  # type: ignore[method-assign]

    return apply


def _one_anonymous_client(scope: dict[str, Any]) -> None:
    scope["client"] = ("anonymous", 0)


def _counted_per_token(scope: dict[str, Any]) -> None:
    from reference_server.auth.principal import Principal

    header = next((v for k, v in scope.get("headers", []) if k == b"authorization"), b"")
    if isinstance(scope.get("principal"), Principal):
        scope["principal"] = Principal(f"token:{hash(header)}", scope["principal"].attributes)


def quota_one_early() -> None:
    """An off-by-one limit: the last request of the budget is already refused."""
    from reference_server.quota.middleware import QuotaMiddleware

    original = QuotaMiddleware.__init__

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self.anonymous -= 1
        self.authenticated -= 1

    QuotaMiddleware.__init__ = init  # type: ignore[method-assign]


def health_counted() -> None:
    import reference_server.quota.middleware as quota

    quota.EXEMPT = frozenset()


# ---------------------------------------------------------------- vector IO and safety defects


def _registry(name: str) -> Any:
    from reference_server.resources import registry

    return getattr(registry, name)


def _failing_get(label: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """An unknown id escapes as a bare exception: the 500 a client cannot act on."""

    def replacement(original: Callable[..., Any]) -> Callable[..., Any]:
        def get(self: Any, identifier: str, viewer: Any = None) -> Any:
            if self.find(identifier, viewer) is None:
                raise RuntimeError(f"{label} lookup failed")
            return original(self, identifier, viewer)

        return get

    return replacement


def _vector_registration(edit: Callable[[dict[str, Any]], dict[str, Any]]) -> Callable[[], None]:
    """Change the arguments the vector-db route builds a registration from."""

    def apply() -> None:
        from reference_server.api import vectors

        original = vectors.build_vector_db
        vectors.build_vector_db = lambda **kwargs: original(**edit(kwargs))

    return apply


def _assume_embedding_model(kwargs: dict[str, Any]) -> dict[str, Any]:
    from reference_server.resources.models import Model

    find = kwargs["find_model"]

    def find_or_invent(model_id: str) -> Any:
        return find(model_id) or Model(
            identifier=model_id,
            provider_resource_id=model_id,
            provider_id="ollama",
            model_type="embedding",
            metadata={"embedding_dimension": kwargs.get("embedding_dimension") or 384},
        )

    return {**kwargs, "find_model": find_or_invent}


def faiss_not_reloaded() -> None:
    from reference_server.vector_io import faiss_provider

    original = faiss_provider.FaissVectorIO.attach

    def attach(self: Any, db: Any) -> None:
        original(self, db)
        self._indexes[db.identifier] = faiss_provider._Index(self._faiss.IndexFlatIP(db.embedding_dimension))

    faiss_provider.FaissVectorIO.attach = attach  # type: ignore[method-assign]


def backend_chat_edited(edit: Callable[[dict[str, Any]], dict[str, Any]]) -> Callable[[], None]:
    """What a remote provider sends to its backend for a chat, changed on the way out."""

    def apply() -> None:
        from reference_server.providers.remote import RemoteInferenceProvider

        original = RemoteInferenceProvider.chat
        RemoteInferenceProvider.chat = lambda self, body: original(self, edit(body))  # type: ignore[method-assign]

    return apply


def faiss_saved_index_unreadable() -> None:
    """The saved index cannot be read back (llama-stack 0.2.12 writes it with np.savetxt and reads it
    as uint8, which numpy 2 refuses): every restart with stored chunks fails."""
    from reference_server.vector_io import faiss_provider

    original = faiss_provider.FaissVectorIO.attach

    def attach(self: Any, db: Any) -> None:
        if any(True for _ in self._store.items(self._prefix(db))):
            raise RuntimeError("could not convert string to uint8")
        original(self, db)

    faiss_provider.FaissVectorIO.attach = attach  # type: ignore[method-assign]


def max_chunks_ignored() -> None:
    from reference_server.vector_io.faiss_provider import FaissVectorIO
    from reference_server.vector_io.sqlite_vec_provider import SqliteVecVectorIO

    def unbounded(original: Callable[..., Any]) -> Callable[..., Any]:
        return lambda self, db, vector, limit: original(self, db, vector, 100)

    for kind in (FaissVectorIO, SqliteVecVectorIO):
        kind.query = unbounded(kind.query)  # type: ignore[method-assign]


def chunk_needs_document_id() -> None:
    """Read every chunk's metadata["document_id"] before storing it (llama-stack 0.2.12's router)."""
    from reference_server.vector_io.faiss_provider import FaissVectorIO
    from reference_server.vector_io.sqlite_vec_provider import SqliteVecVectorIO

    def reading(original: Callable[..., Any]) -> Callable[..., Any]:
        def insert(self: Any, db: Any, chunks: list[dict[str, Any]], vectors: Any) -> Any:
            _ids = [chunk["metadata"]["document_id"] for chunk in chunks]
            return original(self, db, chunks, vectors)

        return insert

    for kind in (FaissVectorIO, SqliteVecVectorIO):
        kind.insert = reading(kind.insert)  # type: ignore[method-assign]


def vector_providers_edited(edit: Callable[[list[Any]], list[Any]]) -> Callable[[], None]:
    def apply() -> None:
        from reference_server.config import loader

        original = loader._check_providers
        loader._check_providers = lambda run: edit(original(run))

    return apply


def _sqlite_vec_always(providers: list[Any]) -> list[Any]:
    """The starter before the seed's change: sqlite-vec is there whatever ENABLE_SQLITE_VEC says."""
    from reference_server.config.loader import ProviderInstanceConfig
    from reference_server.providers.catalog import SqliteVecConfig

    if any(p.provider_type == "inline::sqlite-vec" for p in providers):
        return providers
    faiss = [p for p in providers if p.provider_type == "inline::faiss"]
    if not faiss:
        return providers
    folder = faiss[0].config.kvstore.db_path.rsplit("/", 1)[0]
    config = SqliteVecConfig(db_path=f"{folder}/sqlite_vec.db")
    return [*providers, ProviderInstanceConfig("vector_io", "sqlite-vec", "inline::sqlite-vec", config, {})]


def verdict_defect(edit: Callable[[Any], Any]) -> Callable[[], None]:
    def apply() -> None:
        from reference_server.safety import llama_guard

        original = llama_guard.read_verdict
        llama_guard.read_verdict = lambda answer, model, excluded: edit(original(answer, model, excluded))

    return apply


def _everything_flagged(_verdict: Any) -> Any:
    return {"violation_level": "error", "user_message": "blocked", "metadata": {"violation_type": "S1"}}


def _category_dropped(verdict: Any) -> Any:
    return None if verdict is None else {**verdict, "metadata": {}}


def shield_checks_skipped() -> None:
    """Register any shield, whatever its model: upstream finds out on the first run-shield."""
    from reference_server.safety import llama_guard

    llama_guard.require_guard_model = lambda shield, find_model: None


def shield_name_checked_only() -> None:
    """Take one of Meta's guard names on trust, registered or not (llama-stack 0.2.12's
    register_shield checks only the name): a made-up name is still refused, a real one never."""
    from reference_server.safety import llama_guard

    guard_names = {f"meta-llama/Llama-Guard-3-{size}" for size in ("1B", "8B", "11B-Vision")}
    checked = llama_guard.require_guard_model

    def by_name(shield: Any, find_model: Any) -> None:
        if shield.provider_resource_id not in guard_names:
            checked(shield, find_model)

    llama_guard.require_guard_model = by_name


def config_shields_dropped() -> None:
    from reference_server.resources.registry import ShieldRegistry

    ShieldRegistry.adopt_config = lambda self, items: None  # type: ignore[method-assign]


def judge_on_first_provider() -> None:
    from reference_server.stack import Stack

    async def judge(self: Any, model_id: str, messages: list[Any]) -> str:
        model = self.models.get(model_id)
        first = next(p for p in self.providers if p.api == "inference")
        return await first.chat_text(model.provider_resource_id, messages)  # type: ignore[no-any-return]

    Stack.judge = judge  # type: ignore[method-assign]


class EchoingMiddleware:
    """Answers /v1/health with the request's Authorization header in the body."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != "/v1/health":
            await self.app(scope, receive, send)
            return
        seen = dict(scope["headers"]).get(b"authorization", b"").decode("latin-1")
        body = json.dumps({"status": f"OK for {seen}"}).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def echoes_credentials() -> None:
    """A hostile target for the secrets test: it logs its secret environment at start-up and
    echoes every caller's credentials, so a run that did not mask them would write them out."""
    import os

    for name, value in sorted(os.environ.items()):
        if name.endswith("_TOKEN"):
            print(f"echoes-credentials: {name}={value}", file=sys.stderr, flush=True)
    original = app_module.create_app

    def create_app(stack: Any) -> Any:
        app = original(stack)
        app.add_middleware(EchoingMiddleware)
        return app

    app_module.create_app = create_app


def dies_after_the_probe() -> None:
    """Answers the suite's start-of-run probe (GET /v1/version), then exits on the next request
    without answering it: a deployment that goes away while the checks run."""
    import os

    original = app_module.create_app

    def create_app(stack: Any) -> Any:
        app = original(stack)
        answered: list[str] = []

        async def dying(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] == "http" and answered:
                os._exit(0)
            await app(scope, receive, send)
            if scope["type"] == "http" and scope["path"] == "/v1/version":
                answered.append(scope["path"])

        return dying

    app_module.create_app = create_app


@dataclass(frozen=True)
class Defect:
    requirements: tuple[str, ...]
    apply: Callable[[], None]
    # True only where failing to start *is* the defect's real-world face (upstream 0.2.12
    # expanding a disabled provider's config); elsewhere a scenario that does not start would
    # make the checks fail for the wrong reason, and the negative-control test rejects that.
    breaks_startup: bool = False


def _missing_model(status: int) -> Defect:
    rule = json_rule(lambda m, p, c: m == "GET" and p.startswith("/v1/models/") and c == 404, lambda body: body, status)
    return Defect(("CORE-ERR-001",) if status >= 500 else ("CORE-ERR-002",), rewrite_api(rule))


DEFECTS: dict[str, Defect] = {
    # No requirement of its own: the target of tests/suite/test_secrets.py.
    "echoes-credentials": Defect((), echoes_credentials),
    "dies-after-the-probe": Defect((), dies_after_the_probe),  # tests/suite/test_bad_targets.py
    "none": Defect((), lambda: None),
    # tests/suite/test_negative_controls.py: the checks that need a quota to exist say inconclusive
    "quota-dropped": Defect((), quota_dropped),
    # Not a defect of a requirement: every API request is refused for lack of credentials, the
    # situation in which the suite must answer "inconclusive", never "pass" (tests/suite/test_plugin.py).
    "auth-wall": Defect(
        (),
        rewrite_api(
            lambda m, p, c, b: (
                (401, b'{"error": {"message": "Authentication required"}}', "application/json")
                if p != "/v1/health"
                else None
            )
        ),
    ),
    # core
    "health-not-ok": Defect(
        ("CORE-HEALTH-001",), rewrite_api(json_rule(get("/v1/health"), lambda b: {"status": "Error"}))
    ),
    "version-missing": Defect(("CORE-VERSION-001",), rewrite_api(json_rule(get("/v1/version"), lambda b: {}))),
    "providers-without-health": Defect(
        ("CORE-PROVIDERS-001",), rewrite_api(json_rule(get("/v1/providers"), each_entry(drop("health"))))
    ),
    # No suite requirement: the negative control of the example provider package's
    # ACME-PROVIDER-001 (tests/suite/test_extensions.py).
    "provider-unhealthy": Defect(
        (), rewrite_api(json_rule(get("/v1/providers/ollama"), lambda b: {**b, "health": {"status": "Error"}}))
    ),
    "unknown-provider-200": Defect(
        ("CORE-PROVIDERS-002",),
        rewrite_api(
            json_rule(lambda m, p, c: p.startswith("/v1/providers/") and c == 404, lambda b: {"provider_id": "x"}, 200)
        ),
    ),
    "routes-without-health": Defect(
        ("CORE-ROUTES-001",),
        rewrite_api(
            json_rule(
                get("/v1/inspect/routes"), lambda b: {"data": [r for r in b["data"] if r["route"] != "/v1/health"]}
            )
        ),
    ),
    "models-without-type": Defect(
        ("CORE-MODELS-001",), rewrite_api(json_rule(get("/v1/models"), each_entry(drop("type"))))
    ),
    "models-foreign-provider": Defect(
        ("CORE-MODELS-003",),
        rewrite_api(json_rule(get("/v1/models"), each_entry(lambda m: {**m, "provider_id": "ghost"}))),
    ),
    "unregister-answers-200-without-deleting": Defect(
        ("CORE-MODELS-004",),
        patch(
            __import__("reference_server.resources.registry", fromlist=["ModelRegistry"]).ModelRegistry,
            "unregister",
            lambda original: lambda self, identifier: None,
        ),
    ),
    "missing-model-500": _missing_model(500),
    "missing-model-400": _missing_model(400),
    "validation-422-unnamed": Defect(
        ("CORE-ERR-003",),
        rewrite_api(json_rule(lambda m, p, c: m == "POST" and c == 400, lambda b: {"detail": "Unprocessable"}, 422)),
    ),
    "unknown-route-html": Defect(
        ("CORE-ERR-004",),
        rewrite_api(
            lambda m, p, c, b: (
                (404, b"<html>Not Found</html>", "text/html") if c == 404 and "/models/" not in p else None
            )
        ),
    ),
    "detail-error-shape": Defect(
        ("CORE-ERR-005",), rewrite_api(json_rule(lambda m, p, c: c >= 400, lambda b: {"detail": b["error"]["message"]}))
    ),
    "sentinel-in-providers": Defect(("CORE-DISABLED-001", "CFG-GATE-002"), keep_disabled_providers),
    "placeholder-in-providers": Defect(
        ("CORE-PLACEHOLDER-001",),
        rewrite_api(
            json_rule(get("/v1/providers"), each_entry(lambda p: {**p, "config": {"url": "${env.OLLAMA_URL}"}}))
        ),
    ),
    # config
    "required-literal": Defect(("CFG-ENV-001",), placeholder_defect("required-literal")),
    "default-empty-is-set": Defect(("CFG-ENV-002",), placeholder_defect("default-empty-is-set")),
    "conditional-inverted": Defect(("CFG-ENV-003",), placeholder_defect("conditional-inverted")),
    "old-forms-literal": Defect(("CFG-ENV-004", "CFG-ENV-005"), placeholder_defect("old-forms-literal")),
    "old-conditional-literal": Defect(("CFG-ENV-005",), placeholder_defect("old-conditional-literal")),
    "first-placeholder-only": Defect(("CFG-ENV-006",), first_placeholder_only),
    "no-coercion": Defect(("CFG-ENV-007",), no_coercion),
    "coerce-plain-strings": Defect(("CFG-ENV-008",), coerce_plain_strings),
    "required-empty": Defect(("CFG-ENV-009",), placeholder_defect("required-empty")),
    "required-set-but-empty": Defect(("CFG-ENV-013",), placeholder_defect("required-set-but-empty")),
    "no-home-expansion": Defect(("CFG-ENV-010",), placeholder_defect("no-home")),
    "malformed-literal": Defect(("CFG-ENV-011",), placeholder_defect("malformed-literal")),
    "traceback-on-config-error": Defect(("CFG-ENV-012",), traceback_on_config_error),
    "disabled-config-expanded": Defect(("CFG-GATE-001",), expand_disabled_configs, breaks_startup=True),
    "empty-id-config-expanded": Defect(("CFG-GATE-006",), expand_empty_id_configs, breaks_startup=True),
    "disabled-provider-listed": Defect(("CFG-GATE-002",), keep_disabled_providers),
    # Upstream 0.7 registers such a model and then crashes at start-up on '__disabled__'.
    "provider-model-id-gate-ignored": Defect(
        ("CFG-GATE-003",), ignore_resource_gate("provider_model_id"), breaks_startup=True
    ),
    "provider-id-gate-ignored": Defect(
        ("CFG-GATE-004",), all_of(ignore_resource_gate("provider_id"), unknown_provider_falls_back)
    ),
    "empty-model-id-registered": Defect(("CFG-GATE-005",), ignore_resource_gate("model_id", stringify_empty=True)),
    "provider-model-id-not-defaulted": Defect(
        ("CFG-MODEL-001",),
        rewrite_api(
            json_rule(
                get("/v1/models"),
                each_entry(
                    lambda m: {**m, "provider_resource_id": None} if m["provider_resource_id"] == m["identifier"] else m
                ),
            )
        ),
    ),
    # startup
    "ollama-always-required": Defect(("START-OLLAMA-001",), ollama_required(True), breaks_startup=True),
    "phantom-ollama-model": Defect(
        ("START-OLLAMA-002",),
        rewrite_api(
            json_rule(
                get("/v1/models"),
                lambda b: {
                    "data": [
                        *b["data"],
                        {
                            "identifier": "ollama/phantom",
                            "provider_resource_id": "phantom",
                            "provider_id": "ollama",
                            "type": "model",
                            "metadata": {},
                            "model_type": "llm",
                        },
                    ]
                },
            )
        ),
    ),
    "unreachable-is-500": Defect(("START-OLLAMA-003",), unreachable_is_500),
    "raise-on-connect-ignored": Defect(("START-OLLAMA-004", "START-OLLAMA-006"), ollama_required(False)),
    "ollama-optional-by-default": Defect(("START-OLLAMA-006",), ollama_optional_by_default),
    "unreachable-is-sticky": Defect(("START-OLLAMA-005",), unreachable_is_sticky),
    # registration
    "config-models-named-by-backend-id": Defect(("REG-ENV-001", "REG-ENV-002"), config_models_named_by_backend_id),
    "runtime-registration-not-stored": Defect(("REG-RUNTIME-001",), registration_not_stored),
    "no-backend-check": Defect(("REG-MISSING-001", "REG-MISSING-002", "REG-MISSING-003"), no_backend_check),
    "vllm-token-dropped": Defect(("REG-TOKEN-001",), vllm_token_dropped),
    # inference
    "native-chat-role-user": Defect(
        ("INF-CHAT-001",),
        rewrite_api(
            on_path(
                "/v1/inference/chat-completion",
                _json_edit(lambda b: {**b, "completion_message": {**b["completion_message"], "role": "user"}}),
            )
        ),
    ),
    "native-stream-without-complete": Defect(
        ("INF-CHAT-002",), rewrite_api(on_path("/v1/inference/chat-completion", _drop_last_event))
    ),
    "models-listing-seed-shape-only": Defect(
        ("CORE-MODELS-005",),
        rewrite_api(json_rule(get("/v1/models"), lambda b: {"data": [_seed_fields(m) for m in b["data"]]})),
    ),
    "models-listing-without-object": Defect(
        ("CORE-MODELS-006",), rewrite_api(json_rule(get("/v1/models"), lambda b: {"data": b["data"]}))
    ),
    "openai-models-empty": Defect(
        ("INF-OPENAI-001",), rewrite_api(json_rule(get("/v1/openai/v1/models"), lambda b: {"data": []}))
    ),
    "openai-model-not-renamed": Defect(("INF-OPENAI-004",), renamed_is_identity),
    "openai-answer-as-user": Defect(
        ("INF-OPENAI-002",),
        rewrite_api(
            on_path(
                "/v1/openai/v1/chat/completions", _json_edit(lambda b: {**b, "choices": [_as_user(b["choices"][0])]})
            )
        ),
    ),
    "openai-stream-as-json": Defect(
        ("INF-OPENAI-003",), rewrite_api(on_path("/v1/openai/v1/chat/completions", _stream_as_json))
    ),
    "embeddings-truncated": Defect(
        ("INF-EMBED-001",),
        rewrite_api(
            on_path("/v1/inference/embeddings", _json_edit(lambda b: {"embeddings": [v[:-1] for v in b["embeddings"]]}))
        ),
    ),
    "v1-chat-role-user": Defect(
        ("INF-V1-CHAT-001",),
        rewrite_api(
            on_path("/v1/chat/completions", _json_edit(lambda b: {**b, "choices": [_as_user(b["choices"][0])]}))
        ),
    ),
    "v1-stream-as-json": Defect(("INF-V1-CHAT-002",), rewrite_api(on_path("/v1/chat/completions", _stream_as_json))),
    "v1-completion-without-text": Defect(
        ("INF-V1-COMPLETION-001",),
        rewrite_api(on_path("/v1/completions", _json_edit(lambda b: {**b, "choices": [{"index": 0, "text": None}]}))),
    ),
    "v1-embeddings-one-short": Defect(
        ("INF-V1-EMBED-001",),
        rewrite_api(on_path("/v1/embeddings", _json_edit(lambda b: {**b, "data": b["data"][:1]}))),
    ),
    # auth
    "jwt-rejects-everything": Defect(("AUTH-JWT-001",), rejects_everything("jwt", "Invalid JWT token")),
    "jwt-accepts-expired": Defect(("AUTH-JWT-002",), jwt_skips("verify_exp")),
    "jwt-echoes-the-token": Defect(("AUTH-JWT-002",), jwt_echoes_the_token),
    "jwt-algorithm-confusion": Defect(("AUTH-JWT-002",), jwt_algorithm_confusion),
    "jwt-signature-unchecked": Defect(("AUTH-JWT-002",), jwt_skips("verify_signature")),
    "garbage-token-is-500": Defect(("AUTH-JWT-002",), garbage_token_is_500),
    "no-www-authenticate": Defect(("AUTH-JWT-003",), no_www_authenticate),
    "keys-fetched-once": Defect(("AUTH-JWT-004",), keys_fetched_once),
    "issuer-outage-is-500": Defect(("AUTH-JWT-005",), issuer_outage_is_500),
    "jwks-token-not-sent": Defect(("AUTH-JWT-007",), jwks_token_not_sent),
    "tls-cafile-ignored": Defect(("AUTH-JWT-008",), tls_cafile_ignored),
    "tls-certificate-ignored": Defect(("CFG-TLS-001", "CORE-TLS-001"), tls_certificate_ignored),
    "forgets-keys-on-outage": Defect(("AUTH-JWT-006",), forgets_keys_on_outage),
    "custom-params-not-lists": Defect(("AUTH-CUSTOM-001",), custom_params_not_lists),
    "custom-rejects-everything": Defect(("AUTH-CUSTOM-002",), rejects_everything("custom", "Authentication failed")),
    "custom-refusals-pass": Defect(("AUTH-CUSTOM-003",), custom_refusals_pass),
    "validator-waited-out": Defect(("AUTH-CUSTOM-003",), validator_waited_out),
    "one-namespace-for-all-tokens": Defect(("AUTH-CUSTOM-004",), one_namespace_for_all_tokens),
    "probes-need-tokens": Defect(("AUTH-PUBLIC-001",), public_routes(frozenset(), replace=True)),
    "listing-is-public": Defect(("AUTH-PUBLIC-002",), public_routes(frozenset({("GET", "/v1/models")}))),
    "everyone-sees-everything": Defect(("ABAC-001", "ABAC-004", "ABAC-005"), everyone_sees_everything),
    "delete-ignores-owner": Defect(("ABAC-002",), delete_ignores_owner),
    "owner-only": Defect(("ABAC-003",), owner_only),
    # tests/suite/test_negative_controls_url.py: caught because the owner lists before the stranger
    "listing-cached-for-everyone": Defect(("ABAC-001",), listing_cached_for_everyone),
    # quota
    "quota-body-wrong": Defect(
        ("QUOTA-001",),
        rewrite_api(lambda m, p, c, b: (429, TOO_MANY_REQUESTS, "application/json") if c == 429 else None),
    ),
    "quota-before-auth": Defect(("QUOTA-002", "QUOTA-003"), quota_before_auth),
    "quota-in-memory": Defect(("QUOTA-004",), memory_counter(racy=False)),
    "quota-lost-updates": Defect(("QUOTA-005",), memory_counter(racy=True)),
    "quota-without-retry-after": Defect(("QUOTA-006",), quota_without_retry_after),
    "retry-after-an-hour": Defect(("QUOTA-006",), retry_after_an_hour),
    "health-counted": Defect(("QUOTA-007",), health_counted),
    "quota-one-early": Defect(("QUOTA-001", "QUOTA-002"), quota_one_early),
    "one-anonymous-budget": Defect(("QUOTA-008",), quota_keyed(_one_anonymous_client)),
    "quota-per-token": Defect(("QUOTA-009",), quota_keyed(_counted_per_token)),
    "unknown-model-500": Defect(
        ("INF-ERR-001", "INF-V1-ERR-001"),
        rewrite_api(
            json_rule(
                lambda m, p, c: p in ("/v1/openai/v1/chat/completions", "/v1/chat/completions") and c == 404,
                lambda b: {"error": {"message": "oops"}},
                500,
            )
        ),
    ),
    # vector IO
    "vector-db-delete-keeps-it": Defect(
        ("VEC-DB-001",), patch(_registry("VectorDBRegistry"), "unregister", lambda original: lambda *a, **k: None)
    ),
    "vector-db-unknown-model-accepted": Defect(("VEC-DB-002",), _vector_registration(_assume_embedding_model)),
    # Upstream takes the request's dimension on trust.
    "vector-db-dimension-ignored": Defect(
        ("VEC-DB-003",), _vector_registration(lambda kwargs: {**kwargs, "embedding_dimension": None})
    ),
    "query-worst-first": Defect(
        ("VEC-IO-001",),
        rewrite_api(
            on_path(
                "/v1/vector-io/query",
                _json_edit(lambda b: {"chunks": b["chunks"][::-1], "scores": b["scores"][::-1]}),
            )
        ),
    ),
    "max-chunks-ignored": Defect(("VEC-IO-002",), max_chunks_ignored),
    "chunk-needs-document-id": Defect(("VEC-IO-004",), chunk_needs_document_id),
    "sampling-dropped": Defect(
        ("INF-BACKEND-001",),
        backend_chat_edited(lambda body: {k: v for k, v in body.items() if k not in ("max_tokens", "temperature")}),
    ),
    "unknown-vector-db-500": Defect(
        ("VEC-IO-003",), patch(_registry("VectorDBRegistry"), "get", _failing_get("vector db"))
    ),
    "faiss-not-reloaded": Defect(("VEC-PERSIST-001",), faiss_not_reloaded),
    "faiss-saved-index-unreadable": Defect(("VEC-PERSIST-001",), faiss_saved_index_unreadable),
    "sqlite-vec-always-on": Defect(("VEC-STARTER-001",), vector_providers_edited(_sqlite_vec_always)),
    "enable-sqlite-vec-ignored": Defect(
        ("VEC-STARTER-002",),
        vector_providers_edited(lambda ps: [p for p in ps if p.provider_type != "inline::sqlite-vec"]),
    ),
    # safety
    "shield-listing-without-resource-id": Defect(
        ("SAFE-SHIELD-001",), rewrite_api(json_rule(get("/v1/shields"), each_entry(drop("provider_resource_id"))))
    ),
    "run-shield-without-violation": Defect(
        ("SAFE-RUN-001",), rewrite_api(on_path("/v1/safety/run-shield", _json_edit(lambda b: {"is_safe": True})))
    ),
    "violation-level-outside-the-enum": Defect(
        ("SAFE-RUN-001",),
        rewrite_api(
            on_path(
                "/v1/safety/run-shield",
                _json_edit(
                    lambda b: {"violation": {**b["violation"], "violation_level": "fatal"}} if b["violation"] else b
                ),
            )
        ),
    ),
    "guard-flags-everything": Defect(("SAFE-RUN-002",), verdict_defect(_everything_flagged)),
    "violation-without-category": Defect(("SAFE-RUN-003",), verdict_defect(_category_dropped)),
    "unknown-shield-500": Defect(("SAFE-RUN-004",), patch(_registry("ShieldRegistry"), "get", _failing_get("shield"))),
    "shield-model-unchecked": Defect(("SAFE-REG-001",), shield_checks_skipped),
    "shield-name-checked-only": Defect(("SAFE-REG-001",), shield_name_checked_only),
    "shield-registration-not-stored": Defect(
        ("SAFE-REG-002",),
        patch(_registry("ShieldRegistry"), "register", lambda original: lambda self, item, owner=None: item),
    ),
    "config-shields-dropped": Defect(("SAFE-GATE-001",), config_shields_dropped),
    "guard-on-first-provider": Defect(("SAFE-SEED-001",), judge_on_first_provider),
}


def main() -> int:
    if len(sys.argv) < 3 or sys.argv[1] not in DEFECTS:
        print(
            f"usage: serve.py DEFECT CONFIG [reference_server run options]; defects: {', '.join(DEFECTS)}",
            file=sys.stderr,
        )
        return 2
    DEFECTS[sys.argv[1]].apply()
    return cli.main(["run", *sys.argv[2:]])


if __name__ == "__main__":
    sys.exit(main())
