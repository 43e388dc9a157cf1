"""Tool calling on the native chat route: the seed era's tool shapes, in OpenAI's form and back.

Both remote backends (Ollama's /v1, vLLM) take OpenAI's ``tools`` and answer ``tool_calls``, so the
native request's ``ToolDefinition``s, its tool choice and the conversation's earlier calls and tool
answers are translated on the way out, and the backend's calls on the way back: ``call_id``,
``tool_name``, ``arguments`` (an object) and ``arguments_json``, as upstream's inference.py at
v0.2.12 defines them. A call whose arguments are not a JSON object cannot be given in that
shape; streamed, it is reported with ``parse_status: failed`` as upstream does.
"""

# Requirements (conformance/catalog.yaml): INF-TOOLS-001, INF-TOOLS-002

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from reference_server.content import content_text
from reference_server.errors import InvalidRequest

ToolChoice = Literal["auto", "required", "none"]


class ToolParamDefinition(BaseModel):
    model_config = ConfigDict(extra="ignore")

    param_type: str
    description: str | None = None
    required: bool = True
    default: Any = None


class ToolDefinition(BaseModel):
    model_config = ConfigDict(extra="ignore")

    tool_name: str = Field(min_length=1)
    description: str | None = None
    parameters: dict[str, ToolParamDefinition] | None = None


class ToolConfig(BaseModel):
    model_config = ConfigDict(extra="ignore")

    # ``auto``, ``required``, ``none``, or the name of the one tool to call
    tool_choice: str | None = "auto"
    tool_prompt_format: Literal["json", "function_tag", "python_list"] | None = None
    system_message_behavior: Literal["append", "replace"] | None = "append"


def openai_tools(tools: list[ToolDefinition]) -> list[dict[str, Any]]:
    result = []
    for tool in tools:
        properties: dict[str, Any] = {}
        required = []
        for name, param in (tool.parameters or {}).items():
            properties[name] = {"type": param.param_type}
            if param.description:
                properties[name]["description"] = param.description
            if param.default is not None:
                properties[name]["default"] = param.default
            if param.required:
                required.append(name)
        function = {
            "name": tool.tool_name,
            "description": tool.description or "",
            "parameters": {"type": "object", "properties": properties, "required": required},
        }
        result.append({"type": "function", "function": function})
    return result


def openai_tool_choice(choice: str | None, tools: list[ToolDefinition]) -> Any:
    """OpenAI's tool_choice for the native one: a tool's name becomes "call this function"."""
    if choice in (None, "auto", "required", "none"):
        return choice or "auto"
    if choice not in {tool.tool_name for tool in tools}:
        raise InvalidRequest(f"tool_choice: {choice!r} is neither auto, required, none nor one of the tools")
    return {"type": "function", "function": {"name": choice}}


def openai_message(message: dict[str, Any]) -> dict[str, Any]:
    """One native message in OpenAI's form: an assistant's earlier calls and a tool's answer included."""
    role = message.get("role")
    text = content_text(message.get("content"))
    if role == "tool":
        return {"role": "tool", "tool_call_id": str(message.get("call_id") or ""), "content": text}
    if role == "assistant" and message.get("tool_calls"):
        calls = [
            {
                "id": str(call.get("call_id") or ""),
                "type": "function",
                "function": {"name": str(call.get("tool_name")), "arguments": _arguments_json(call)},
            }
            for call in message["tool_calls"]
            if isinstance(call, dict)
        ]
        return {"role": "assistant", "content": text or None, "tool_calls": calls}
    return {"role": role, "content": text}


def _arguments_json(call: dict[str, Any]) -> str:
    if isinstance(call.get("arguments_json"), str):
        return str(call["arguments_json"])
    arguments = call.get("arguments")
    return arguments if isinstance(arguments, str) else json.dumps(arguments or {})


def native_tool_call(identifier: Any, name: Any, arguments: str) -> dict[str, Any] | None:
    """Upstream's ToolCall, or None when the arguments are not a JSON object."""
    try:
        parsed = json.loads(arguments or "{}")
    except ValueError:
        return None
    if not isinstance(parsed, dict):
        return None
    return {"call_id": str(identifier or ""), "tool_name": str(name), "arguments": parsed, "arguments_json": arguments}


def native_tool_calls(openai_calls: Any) -> list[dict[str, Any]]:
    calls = []
    for call in openai_calls if isinstance(openai_calls, list) else []:
        function = call.get("function") if isinstance(call, dict) else None
        if not isinstance(function, dict):
            continue
        arguments = function.get("arguments")
        text = arguments if isinstance(arguments, str) else json.dumps(arguments or {})
        native = native_tool_call(call.get("id"), function.get("name"), text)
        if native is not None:
            calls.append(native)
    return calls


def choice_index(value: Any) -> int:
    """A streamed choice's or tool call's ``index`` from a backend; anything but an integer is 0."""
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


@dataclass
class _Pending:
    identifier: str = ""
    name: str = ""
    arguments: str = ""


@dataclass
class StreamedCalls:
    """Tool calls arriving in pieces (OpenAI's ``delta.tool_calls``), told whole at the end."""

    pending: dict[int, _Pending] = field(default_factory=dict)

    def take(self, delta: Any) -> bool:
        """Add a chunk's pieces; whether the chunk carried any."""
        pieces = delta.get("tool_calls") if isinstance(delta, dict) else None
        if not isinstance(pieces, list) or not pieces:
            return False
        for piece in pieces:
            if not isinstance(piece, dict):
                continue
            call = self.pending.setdefault(choice_index(piece.get("index")), _Pending())
            call.identifier += str(piece.get("id") or "")
            function = piece.get("function") or {}
            call.name += str(function.get("name") or "")
            call.arguments += str(function.get("arguments") or "")
        return True

    def events(self) -> list[dict[str, Any]]:
        """Upstream's ToolCallDelta events: ``succeeded`` with the call, or ``failed`` with its text."""
        events = []
        for _, call in sorted(self.pending.items()):
            native = native_tool_call(call.identifier, call.name, call.arguments)
            if native is not None:
                delta = {"type": "tool_call", "tool_call": native, "parse_status": "succeeded"}
            else:
                text = f"{call.name}({call.arguments})"
                delta = {"type": "tool_call", "tool_call": text, "parse_status": "failed"}
            events.append({"event": {"event_type": "progress", "delta": delta}})
        return events
