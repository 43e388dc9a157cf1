"""Defects of the core profile (conformance/checks/test_core.py): probes, listings and the error shape."""

from __future__ import annotations

from typing import Any

from reference_server.resources.registry import ModelRegistry
from tests.defects.config import keep_disabled_providers
from tests.defects.patching import does_nothing, drop, each_entry, get, json_rule, rewrite_api
from tests.defects.registry import defect

defect("health-not-ok", "CORE-HEALTH-001")(rewrite_api(json_rule(get("/v1/health"), lambda b: {"status": "Error"})))
defect("version-missing", "CORE-VERSION-001")(rewrite_api(json_rule(get("/v1/version"), lambda b: {})))
defect("providers-without-health", "CORE-PROVIDERS-001")(
    rewrite_api(json_rule(get("/v1/providers"), each_entry(drop("health"))))
)
# No suite requirement: the negative control of the example provider package's ACME-PROVIDER-001
# (tests/suite/test_extensions.py).
defect("provider-unhealthy")(
    rewrite_api(json_rule(get("/v1/providers/ollama"), lambda b: {**b, "health": {"status": "Error"}}))
)
defect("unknown-provider-200", "CORE-PROVIDERS-002")(
    rewrite_api(
        json_rule(lambda m, p, c: p.startswith("/v1/providers/") and c == 404, lambda b: {"provider_id": "x"}, 200)
    )
)
defect("routes-without-health", "CORE-ROUTES-001")(
    rewrite_api(
        json_rule(get("/v1/inspect/routes"), lambda b: {"data": [r for r in b["data"] if r["route"] != "/v1/health"]})
    )
)
defect("models-without-type", "CORE-MODELS-001")(rewrite_api(json_rule(get("/v1/models"), each_entry(drop("type")))))
defect("models-foreign-provider", "CORE-MODELS-003")(
    rewrite_api(json_rule(get("/v1/models"), each_entry(lambda m: {**m, "provider_id": "ghost"})))
)

defect("unregister-answers-200-without-deleting", "CORE-MODELS-004")(does_nothing(ModelRegistry, "unregister"))


def _seed_fields(model: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in model.items() if k not in ("id", "object", "created", "owned_by")}


defect("models-listing-seed-shape-only", "CORE-MODELS-005")(
    rewrite_api(json_rule(get("/v1/models"), lambda b: {"data": [_seed_fields(m) for m in b["data"]]}))
)
defect("models-listing-without-object", "CORE-MODELS-006")(
    rewrite_api(json_rule(get("/v1/models"), lambda b: {"data": b["data"]}))
)


def _missing_model(status: int) -> Any:
    return rewrite_api(
        json_rule(lambda m, p, c: m == "GET" and p.startswith("/v1/models/") and c == 404, lambda body: body, status)
    )


defect("missing-model-500", "CORE-ERR-001")(_missing_model(500))
defect("missing-model-400", "CORE-ERR-002")(_missing_model(400))
defect("validation-422-unnamed", "CORE-ERR-003")(
    rewrite_api(json_rule(lambda m, p, c: m == "POST" and c == 400, lambda b: {"detail": "Unprocessable"}, 422))
)
defect("unknown-route-html", "CORE-ERR-004")(
    rewrite_api(
        lambda m, p, c, b: (404, b"<html>Not Found</html>", "text/html") if c == 404 and "/models/" not in p else None
    )
)
defect("detail-error-shape", "CORE-ERR-005")(
    rewrite_api(json_rule(lambda m, p, c: c >= 400, lambda b: {"detail": b["error"]["message"]}))
)
defect("sentinel-in-providers", "CORE-DISABLED-001", "CFG-GATE-002")(keep_disabled_providers)
defect("placeholder-in-providers", "CORE-PLACEHOLDER-001")(
    rewrite_api(json_rule(get("/v1/providers"), each_entry(lambda p: {**p, "config": {"url": "${env.OLLAMA_URL}"}})))
)
