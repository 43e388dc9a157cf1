"""The two ways a defect changes the reference server: replace one of its names, or rewrite its answers.

Rewriting answers (a middleware outside the whole app) needs no knowledge of the server's insides
and is preferred wherever the defect shows on the wire only. Replacing a name reaches inside; a
replaced private name is a seam, listed in seams.py and marked where it is defined.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

import reference_server.api.app as app_module

# A rewrite rule sees (method, path, status, body) and returns the new (status, body, content type).
Rewrite = Callable[[str, str, int, bytes], tuple[int, bytes, str] | None]
Apply = Callable[[], None]


def patch(owner: Any, name: str, replacement: Callable[[Any], Any]) -> Apply:
    """Replace ``owner.name`` (a module's or a class's) with ``replacement(original)`` when applied."""

    def apply() -> None:
        setattr(owner, name, replacement(getattr(owner, name)))

    return apply


def arguments_edited(
    owner: Any, name: str, names: tuple[str, ...], edit: Callable[[dict[str, Any]], dict[str, Any]]
) -> Apply:
    """``owner.name(self, viewer, *args)`` called with its ``args`` (named ``names``) edited: what
    a route's query meant, misread on the way to the store (a listing's order or cursor)."""

    def replacement(original: Callable[..., Any]) -> Callable[..., Any]:
        def edited(self: Any, viewer: Any, *args: Any) -> Any:
            return original(self, viewer, **edit(dict(zip(names, args, strict=True))))

        return edited

    return patch(owner, name, replacement)


def does_nothing(owner: Any, name: str, echo: bool = False) -> Apply:
    """Replace an async method with one that answers at once and does nothing: a registration
    kept nowhere (``echo``: it answers with what it was given), a delete that deletes nothing."""

    async def stand_in(self: Any, *args: Any, **kwargs: Any) -> Any:
        return args[0] if echo else None

    return patch(owner, name, lambda original: stand_in)


def all_of(*steps: Apply) -> Apply:
    def apply() -> None:
        for step in steps:
            step()

    return apply


def wrap_app(edit: Callable[[Any], Any]) -> Apply:
    """Pass every app the server builds through ``edit`` (which may return another ASGI app)."""
    return patch(app_module, "create_app", lambda original: lambda stack: edit(original(stack)))


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


def rewrite_api(rule: Rewrite) -> Apply:
    def with_rewriting(app: Any) -> Any:
        app.add_middleware(RewritingMiddleware, rule=rule)
        return app

    return wrap_app(with_rewriting)


def rewrite_headers(status: int, edit: Callable[[list[tuple[bytes, bytes]]], list[tuple[bytes, bytes]]]) -> Apply:
    """Edit the headers of every answer with ``status``; the body passes through untouched."""

    def with_edited_headers(app: Any) -> Any:
        async def edited(scope: Scope, receive: Receive, send: Send) -> None:
            async def forward(message: Message) -> None:
                if message["type"] == "http.response.start" and message["status"] == status:
                    message = {**message, "headers": edit(list(message.get("headers", [])))}
                await send(message)

            await app(scope, receive, forward)

        return edited

    return wrap_app(with_edited_headers)


def rewrite_requests(paths: tuple[str, ...], edit: Callable[[dict[str, Any]], dict[str, Any]]) -> Apply:
    """Edit the JSON body of every POST to one of ``paths`` before the server reads it: a field
    dropped on the way in is the server ignoring it, a field changed is the server misreading it."""

    def with_edited_requests(app: Any) -> Any:
        async def edited(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] not in paths:
                await app(scope, receive, send)
                return
            chunks = []
            while True:
                message = await receive()
                chunks.append(message.get("body", b""))
                if not message.get("more_body"):
                    break
            body = json.dumps(edit(json.loads(b"".join(chunks) or b"{}"))).encode()
            headers = [(k, v) for k, v in scope["headers"] if k.lower() != b"content-length"]
            headers.append((b"content-length", str(len(body)).encode()))
            replayed = [{"type": "http.request", "body": body, "more_body": False}]

            async def replay() -> Message:
                return replayed.pop() if replayed else await receive()

            await app({**scope, "headers": headers}, replay, send)

        return edited

    return wrap_app(with_edited_requests)


def without(*fields: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda body: {k: v for k, v in body.items() if k not in fields}


def json_rule(match: Callable[[str, str, int], bool], edit: Callable[[Any], Any], status: int | None = None) -> Rewrite:
    def rule(method: str, path: str, code: int, body: bytes) -> tuple[int, bytes, str] | None:
        if not match(method, path, code):
            return None
        return (status or code), json.dumps(edit(json.loads(body or b"null"))).encode(), "application/json"

    return rule


def on_path(path: str, edit: Callable[[bytes], bytes | None]) -> Rewrite:
    """Edit successful answers on ``path``; an edit that starts with ``data:`` is served as an event stream."""

    def rule(method: str, actual: str, code: int, body: bytes) -> tuple[int, bytes, str] | None:
        if actual != path or code != 200:
            return None
        changed = edit(body)
        if changed is None:
            return None
        kind = "text/event-stream" if changed.startswith(b"data:") else "application/json"
        return code, changed, kind

    return rule


def json_edit(edit: Callable[[Any], Any]) -> Callable[[bytes], bytes | None]:
    """An ``on_path`` edit of JSON answers; event streams pass through."""
    return lambda body: None if body.startswith(b"data:") else json.dumps(edit(json.loads(body))).encode()


def get(path: str) -> Callable[[str, str, int], bool]:
    return lambda method, actual, _code: method == "GET" and actual == path


def each_entry(edit: Callable[[dict[str, Any]], dict[str, Any]]) -> Callable[[Any], Any]:
    return lambda body: {**body, "data": [edit(dict(entry)) for entry in body["data"]]}


def drop(key: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda entry: {k: v for k, v in entry.items() if k != key}


def workers_without_shared_state(created: str) -> Apply:
    """Two workers behind a round-robin balancer, each knowing only what it created itself
    (upstream #5008: vector stores "not found" right after creation with several workers).
    Request n goes to worker n % 2 (the suite opens a connection per request, and a balancer
    spreads connections); a GET naming an id the other worker created (by a POST to a path
    matching ``created``) is answered 404 naming it."""
    creating = re.compile(created)

    def with_workers(app: Any) -> Any:
        count = 0
        made_by: dict[str, int] = {}

        async def routed(scope: Scope, receive: Receive, send: Send) -> None:
            nonlocal count
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            worker, count = count % 2, count + 1
            unknown = [part for part in scope["path"].split("/") if made_by.get(part, worker) != worker]
            if scope["method"] == "GET" and unknown:
                body = json.dumps({"error": {"message": f"{unknown[0]!r} not found"}}).encode()
                headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
                await send({"type": "http.response.start", "status": 404, "headers": headers})
                await send({"type": "http.response.body", "body": body})
                return
            if scope["method"] != "POST" or not creating.match(scope["path"]):
                await app(scope, receive, send)
                return
            status, chunks = 0, []

            async def seen(message: Message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = message["status"]
                elif message["type"] == "http.response.body":
                    chunks.append(message.get("body", b""))
                await send(message)

            await app(scope, receive, seen)
            if status == 200:
                ident = json.loads(b"".join(chunks)).get("id")
                if isinstance(ident, str):
                    made_by[ident] = worker

        return routed

    return wrap_app(with_workers)
