"""Small structural assertions shared by checks; messages say what was expected and where."""

from __future__ import annotations

from typing import Any

from conformance.http import Response, require_authorised


def expect_fields(obj: Any, fields: dict[str, type | tuple[type, ...]], where: str) -> None:
    assert isinstance(obj, dict), f"{where}: expected a JSON object, got {type(obj).__name__}: {obj!r:.200}"
    for name, kind in fields.items():
        assert name in obj, f"{where}: field {name!r} is missing in {obj!r:.300}"
        assert isinstance(obj[name], kind), (
            f"{where}: field {name!r} should be {kind}, got {type(obj[name]).__name__} {obj[name]!r:.100}"
        )


def expect_data_list(body: Any, where: str) -> list[Any]:
    assert isinstance(body, dict) and isinstance(body.get("data"), list), (
        f'{where}: expected {{"data": [...]}}, got {body!r:.300}'
    )
    return list(body["data"])


def expect_json_error(response: Response, statuses: range | set[int], where: str) -> Any:
    if response.status not in statuses:
        require_authorised(response, statuses)
    assert response.status in statuses, f"{where}: expected a status in {statuses}, but {response.describe()}"
    content_type = response.headers.get("content-type", "")
    assert "json" in content_type, f"{where}: error body should be JSON, content-type is {content_type!r}"
    return response.json()


def is_seed_error_shape(body: Any) -> bool:
    return (
        isinstance(body, dict)
        and isinstance(body.get("error"), dict)
        and isinstance(body["error"].get("message"), str)
        and bool(body["error"]["message"])
    )


def model_provider(model: dict[str, Any]) -> Any:
    """The provider id of a listed model, in the 0.2 shape or the OpenAI list shape."""
    if "provider_id" in model:
        return model["provider_id"]
    return (model.get("custom_metadata") or {}).get("provider_id")
