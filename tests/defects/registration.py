"""Defects of the registration profile (conformance/checks/test_registration.py): models from config and at run time."""

from __future__ import annotations

from typing import Any

from reference_server.config import loader
from reference_server.providers.ollama import OllamaProvider
from reference_server.providers.remote import RemoteInferenceProvider
from reference_server.providers.vllm import VLLMProvider
from reference_server.resources.registry import ModelRegistry
from tests.defects.patching import does_nothing
from tests.defects.registry import defect


@defect("config-models-named-by-backend-id", "REG-ENV-001", "REG-ENV-002")
def config_models_named_by_backend_id() -> None:
    original = loader.build_model

    def build(**kwargs: Any) -> Any:
        model = original(**kwargs)
        return model.model_copy(update={"identifier": model.provider_resource_id})

    loader.build_model = build


# A registration is answered with the model and kept nowhere.
defect("runtime-registration-not-stored", "REG-RUNTIME-001")(does_nothing(ModelRegistry, "register", echo=True))


@defect("no-backend-check", "REG-MISSING-001", "REG-MISSING-002", "REG-MISSING-003")
def no_backend_check() -> None:
    async def accept(self: Any, model: str) -> str:
        return model

    for kind in (OllamaProvider, VLLMProvider, RemoteInferenceProvider):
        kind.check_model = accept  # type: ignore[method-assign]


@defect("vllm-token-dropped", "REG-TOKEN-001")
def vllm_token_dropped() -> None:
    VLLMProvider.headers = lambda self: {}  # type: ignore[method-assign]
