"""What ``plait mcp serve`` offers an MCP client: an agent, and registered plait tools.

Each offer is one MCP tool with its ``types.Tool`` listing and an async ``call`` that
answers with a ``CallToolResult``; nothing here raises for a failed call — a bad
argument, a failed run, a tool that raised or timed out is an MCP *tool error*
(``isError``) whose text says what went wrong, so the client (often a model) can read it
and try again. Error texts pass through the kernel's redactor, as a run's tool errors do.

* ``AgentOffer``: one run of a ``plait.Agent`` per call, on the server's one kernel;
  input ``{"task": str, "thread": str?}``; the output as text, and as
  ``structuredContent`` (with an ``outputSchema``) when the agent has an output type.
* ``ToolOffer``: a registered plait tool called through its own ``Tool.call`` — which
  validates the arguments against its schema — under its timeout (``tool.timeout``, else
  plait's default ``Limits.tool_timeout``).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from typing import Any

import anyio
import mcp_types as types
from pydantic import TypeAdapter, ValidationError
from pydantic_core import to_jsonable_python

import plait

__all__ = ["AgentOffer", "ToolOffer", "error_result", "mcp_name"]

_NAME = re.compile(r"[^A-Za-z0-9_.-]")

AGENT_INPUT: Mapping[str, Any] = {
    "type": "object",
    "properties": {
        "task": {"type": "string", "description": "what the agent should do"},
        "thread": {
            "type": "string",
            "description": "a thread id: continue (or start) this conversation, kept in "
            "the server's store",
        },
    },
    "required": ["task"],
    "additionalProperties": False,
}


def mcp_name(name: str) -> str:
    """``name`` made a valid MCP tool name (letters, digits, ``_ . -``; 1-128 chars)."""
    return _NAME.sub("_", name)[:128] or "agent"


def error_result(text: str, meta: dict[str, Any] | None = None) -> types.CallToolResult:
    """An MCP tool error carrying ``text``."""
    return types.CallToolResult(
        content=[types.TextContent(text=text)], is_error=True, meta=meta or None
    )


def _redact(kernel: plait.Kernel, text: str) -> str:
    return kernel.default_redactor().redact(text)


def _validation_text(name: str, err: ValidationError) -> str:
    lines = [
        f"- {'.'.join(str(p) for p in e['loc']) or '(root)'}: {e['msg']}"
        for e in err.errors(include_url=False, include_input=False)[:8]
    ]
    return f"Invalid arguments for tool {name!r}:\n" + "\n".join(lines)


class _Output:
    """How an agent's output type is given to the client: its JSON schema (an object at
    the root, as MCP requires: other types are wrapped as ``{"result": ...}``)."""

    def __init__(self, output: Any) -> None:
        self.schema: dict[str, Any] | None = None
        self.wrapped = False
        if output is str or output is None:
            return
        try:
            self.adapter: TypeAdapter[Any] = TypeAdapter(output)
            schema = self.adapter.json_schema()
        except Exception:  # not a type pydantic describes (a plait OutputSpec, ...): as text
            return
        if schema.get("type") != "object":
            defs = schema.pop("$defs", None)
            schema = {"type": "object", "properties": {"result": schema}, "required": ["result"]}
            if defs:
                schema["$defs"] = defs
            self.wrapped = True
        self.schema = schema

    def result(self, value: Any, meta: dict[str, Any]) -> types.CallToolResult:
        if self.schema is None:
            text = value if isinstance(value, str) else json.dumps(to_jsonable_python(value))
            return types.CallToolResult(content=[types.TextContent(text=text)], meta=meta)
        data = self.adapter.dump_python(value, mode="json")
        structured = {"result": data} if self.wrapped else data
        return types.CallToolResult(
            content=[types.TextContent(text=json.dumps(data))],
            structured_content=structured,
            meta=meta,
        )


class AgentOffer:
    """A ``plait.Agent`` as one MCP tool: each call is one run on ``kernel``."""

    def __init__(
        self, agent: plait.Agent[Any], *, kernel: plait.Kernel, run_options: Mapping[str, Any]
    ) -> None:
        self.agent = agent
        self.kernel = kernel
        self.run_options = dict(run_options)
        self.name = mcp_name(agent.name or "agent")
        self.output = _Output(agent.output)
        self.spec = types.Tool(
            name=self.name,
            description=self._description(),
            input_schema=dict(AGENT_INPUT),
            output_schema=self.output.schema,
        )

    def _description(self) -> str:
        own = getattr(self.agent, "description", None)
        if isinstance(own, str) and own:
            return own
        instructions = self.agent.options.get("instructions")
        about = f" It is instructed: {instructions[:300]}" if isinstance(instructions, str) else ""
        return f"Run the plait agent {self.agent.name or self.name!r} on a task.{about}"

    def _arguments(self, arguments: Mapping[str, Any]) -> tuple[str, str | None] | str:
        """``(task, thread)``, or what is wrong with the arguments."""
        extra = sorted(set(arguments) - {"task", "thread"})
        task, thread = arguments.get("task"), arguments.get("thread")
        problems = [f"- {key}: not an argument of this tool" for key in extra]
        if not isinstance(task, str) or not task.strip():
            problems.append("- task: required, a non-empty string")
        if thread is not None and (not isinstance(thread, str) or not thread):
            problems.append("- thread: a non-empty string when given")
        if problems:
            return f"Invalid arguments for tool {self.name!r}:\n" + "\n".join(problems)
        return str(task), thread

    async def call(self, arguments: Mapping[str, Any]) -> types.CallToolResult:
        parsed = self._arguments(arguments)
        if isinstance(parsed, str):
            return error_result(parsed)
        task, thread = parsed
        options = {"kernel": self.kernel, "raise_on_failure": False, **self.run_options}
        if thread is not None:
            options["thread"] = thread
        try:
            result = await self.agent.arun(task, **options)
        except Exception as exc:  # refused before or while running (a thread conflict, ...)
            text = f"the run failed: {type(exc).__name__}: {exc}"
            return error_result(_redact(self.kernel, text))
        meta: dict[str, Any] = {"plait/run_id": result.run_id, "plait/status": result.status}
        if result.thread_id is not None:
            meta["plait/thread_id"] = result.thread_id
        if not result.ok:
            why = result.error or (result.completion.summary if result.completion else "")
            text = f"the run ended {result.status} ({result.stop_reason})"
            return error_result(f"{text}: {why}" if why else text, meta)
        return self.output.result(result.output, meta)


class ToolOffer:
    """A registered plait tool as an MCP tool, called through ``Tool.call``."""

    def __init__(self, tool: plait.Tool, *, kernel: plait.Kernel) -> None:
        self.tool = tool
        self.kernel = kernel
        self.name = tool.name
        own = getattr(tool, "timeout", None)
        self.timeout: float | None = own if own is not None else plait.Limits().tool_timeout
        self.spec = types.Tool(
            name=tool.name, description=tool.description, input_schema=dict(tool.parameters)
        )

    async def call(self, arguments: Mapping[str, Any]) -> types.CallToolResult:
        name = self.name
        ctx: plait.Context[Any] = plait.Context(run_id=f"mcp_{uuid.uuid4().hex}")
        try:
            with anyio.fail_after(self.timeout):
                value = await self.tool.call(dict(arguments), ctx)
        except ValidationError as exc:
            return error_result(_validation_text(name, exc))
        except plait.Retry as exc:
            return error_result(_redact(self.kernel, exc.message))
        except TimeoutError:
            return error_result(f"Tool {name!r} timed out after {self.timeout:g}s.")
        except Exception as exc:
            return error_result(_redact(self.kernel, f"Tool {name!r} failed: {exc!r}"))
        return self._result(value)

    def _result(self, value: Any) -> types.CallToolResult:
        try:
            data = value if isinstance(value, str) else to_jsonable_python(value)
        except Exception as exc:  # pydantic_core.PydanticSerializationError and the like
            return error_result(f"Tool {self.name!r} returned what cannot be sent: {exc}")
        text = data if isinstance(data, str) else json.dumps(data)
        shown = _redact(self.kernel, text)
        # structured content only when nothing was masked: it would carry the secret
        structured = data if isinstance(data, dict) and shown == text else None
        return types.CallToolResult(
            content=[types.TextContent(text=shown)], structured_content=structured
        )
