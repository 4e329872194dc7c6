"""The prompt: plait messages rendered in the ChatML template that SmolLM2 was tuned on.

``<|im_start|>role\\ncontent<|im_end|>\\n`` per message, then ``<|im_start|>assistant\\n``.
The offered tools and the output schema are described in the system message (the grammar
enforces them; the description helps the model choose well). Tool results go back under
the ``tool`` role inside ``<tool_response>`` tags: data, never instructions.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

from plait import (
    AssistantMessage,
    Message,
    RequestParams,
    SystemMessage,
    Text,
    ToolResultMessage,
    UnsupportedInput,
    UserMessage,
)

from ._grammar import CALL_CLOSE, CALL_OPEN, Plan, call_prefix

__all__ = ["DEFAULT_SYSTEM", "render"]

DEFAULT_SYSTEM = "You are a helpful AI assistant named SmolLM, trained by Hugging Face"
"""SmolLM2's own default system prompt, used when the conversation has none."""


def render(messages: Sequence[Message], params: RequestParams, plan: Plan) -> str:
    """The full prompt text, ending where the assistant's answer begins."""
    system = [m.content for m in messages if isinstance(m, SystemMessage)]
    head = "\n\n".join(system) if system else DEFAULT_SYSTEM
    extra = list(_instructions(params, plan))
    parts = [_block("system", "\n\n".join([head, *extra]))]
    parts.extend(_render_one(m) for m in messages if not isinstance(m, SystemMessage))
    parts.append("<|im_start|>assistant\n")
    return "".join(parts)


def _instructions(params: RequestParams, plan: Plan) -> Iterable[str]:
    if plan.tools:
        offered = [t for t in params.tools if t.name in plan.tools]
        specs = "\n".join(
            json.dumps({"name": t.name, "description": t.description, "parameters": t.parameters})
            for t in offered
        )
        yield (
            "You can call these tools:\n<tools>\n"
            f"{specs}\n</tools>\n"
            "To call a tool, answer with exactly:\n"
            f'{CALL_OPEN}{{"name": "<tool name>", "arguments": {{...}}}}{CALL_CLOSE}'
        )
    if params.output is not None and plan.json_output:
        yield (
            "Give your final answer as one JSON value that follows this JSON schema:\n"
            f"{json.dumps(dict(params.output.schema))}"
        )


def _render_one(message: Message) -> str:
    if isinstance(message, UserMessage):
        content = message.content
        if not isinstance(content, str):  # parts: text only (the kernel refuses media first)
            if any(not isinstance(p, Text) for p in content):
                raise UnsupportedInput("the local model takes text only", part="image")
            content = "\n\n".join(p.text for p in content if isinstance(p, Text))
        return _block("user", content)
    if isinstance(message, AssistantMessage):
        return _block("assistant", _assistant_text(message))
    if isinstance(message, ToolResultMessage):
        return _block("tool", f"<tool_response>\n{message.content}\n</tool_response>")
    return _block(message.role, message.content)


def _assistant_text(message: AssistantMessage) -> str:
    calls = [_call_text(c.name, c.arguments) for c in message.tool_calls]
    return "\n".join(p for p in [message.text, *calls] if p)


def _block(role: str, content: str) -> str:
    return f"<|im_start|>{role}\n{content}<|im_end|>\n"


def _call_text(name: str, arguments: str) -> str:
    return f"{call_prefix(name)}{arguments or '{}'}}}{CALL_CLOSE}"
