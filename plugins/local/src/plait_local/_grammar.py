"""Constrained decoding: a llama.cpp grammar (GBNF) built from the request's tools and output.

A 135M model cannot be trusted to write a valid tool call on its own, so the sampler is
constrained: every token must keep the output inside the grammar. The grammar accepts,
depending on ``tool_choice`` and ``RequestParams.output``:

* a tool call — ``<tool_call>\\n{"name": "<tool>", "arguments": <args>}\\n</tool_call>``,
  where ``<args>`` follows that tool's JSON schema;
* plain text that does not start with ``<`` (so text and calls cannot be confused);
* or, when an output schema is given, one JSON value that follows it.

JSON schemas are turned into GBNF by llama-cpp-python's converter. Objects that do not
say otherwise are closed (``additionalProperties: false``): a value with only the
declared properties still validates, and the model cannot wander off into made-up keys.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass
from typing import Any

from plait import Rejected, RequestParams, ToolSpec

__all__ = ["CALL_CLOSE", "CALL_OPEN", "Plan", "call_prefix", "plan"]

CALL_OPEN = "<tool_call>\n"
CALL_CLOSE = "\n</tool_call>"
_TEXT_RULE = r"[^<] [^\x00]*"
_HEX4 = " ".join(["[0-9a-fA-F]"] * 4)
_STRICT_CHAR = rf'char ::= [^"\\\x7F\x00-\x1F] | "\\" (["\\/bfnrt] | "u" {_HEX4})'


@dataclass(frozen=True, slots=True)
class Plan:
    """What the sampler may produce for one request.

    ``grammar`` is GBNF text (``None``: unconstrained text); ``tools`` are the names a call
    may use; ``json_output`` tells that the non-call branch is the output schema's JSON;
    ``free_text`` that it is plain text, so once the first character rules out a call the
    grammar can be dropped (checking every token against it costs about a fifth of the
    speed).
    """

    grammar: str | None
    tools: tuple[str, ...] = ()
    json_output: bool = False
    free_text: bool = False


def call_prefix(name: str) -> str:
    """The fixed text every call of tool ``name`` starts with, up to its arguments."""
    return f'{CALL_OPEN}{{"name": {json.dumps(name)}, "arguments": '


def plan(
    params: RequestParams,
    *,
    max_string_length: int | None = None,
    max_array_items: int | None = None,
) -> Plan:
    """Choose the grammar for ``params``; raises ``Rejected`` for an impossible request.

    ``max_string_length`` caps strings whose schema sets no length, enum, const, format
    or pattern, and ``max_array_items`` arrays without ``maxItems`` (shorter values still
    validate; a tiny model otherwise rambles on until the token limit cuts the call).
    """
    tools = _callable_tools(params.tools, params.settings.tool_choice)
    output = params.output
    if not tools and output is None:
        return Plan(grammar=None)
    rules = _Rules(_Caps(max_string_length, max_array_items))
    alternatives: list[str] = []
    if tools:
        alternatives.append(rules.tool_call(tools))
    forced = bool(tools) and params.settings.tool_choice not in (None, "auto", "none")
    if not forced:
        alternatives.append(rules.schema(output.schema, "output") if output else "text")
    rules.add("root", " | ".join(alternatives))
    if "text" in alternatives:
        rules.add("text", _TEXT_RULE)
    names = tuple(t.name for t in tools)
    return Plan(
        grammar=rules.render(),
        tools=names,
        json_output=output is not None,
        free_text="text" in alternatives,
    )


def _callable_tools(tools: Sequence[ToolSpec], choice: str | None) -> list[ToolSpec]:
    if choice == "none":
        return []
    if choice in (None, "auto"):
        return list(tools)
    if not tools:
        raise Rejected(f"tool_choice={choice!r} but the request offers no tools", provider="local")
    if choice == "required":
        return list(tools)
    chosen = [t for t in tools if t.name == choice]
    if not chosen:
        offered = ", ".join(t.name for t in tools)
        raise Rejected(
            f"tool_choice names {choice!r}, which is not among the offered tools ({offered})",
            provider="local",
        )
    return chosen


class _Rules:
    """Collects GBNF rules from several JSON schemas without name clashes."""

    def __init__(self, caps: _Caps) -> None:
        self._caps = caps
        from llama_cpp import llama_grammar  # heavy: loads libllama; untyped

        converter: Any = llama_grammar.SchemaConverter
        self._converter = converter(
            prop_order={}, allow_fetch=False, dotall=False, raw_pattern=False
        )
        self._extra: dict[str, str] = {}

    def add(self, name: str, rule: str) -> None:
        self._extra[name] = rule

    def schema(self, schema: Mapping[str, Any], name: str) -> str:
        """Add the rules of one JSON schema under ``name``; returns the rule to reference."""
        closed = _tighten(copy.deepcopy(dict(schema)), self._caps)
        try:
            resolved = self._converter.resolve_refs(closed, name)
            return str(self._converter.visit(resolved, name))
        except (AssertionError, KeyError, ValueError, TypeError, NotImplementedError) as exc:
            raise Rejected(
                f"the JSON schema of {name!r} cannot be turned into a grammar: {exc}",
                provider="local",
            ) from exc

    def tool_call(self, tools: Sequence[ToolSpec]) -> str:
        calls = []
        for i, tool in enumerate(tools):
            args = self.schema(tool.parameters or {"type": "object"}, f"args{i}")
            head = _literal(call_prefix(tool.name).removeprefix(CALL_OPEN))
            self.add(f"call{i}", f'{head} {args} "}}"')
            calls.append(f"call{i}")
        self.add("tool-call", f"{_literal(CALL_OPEN)} ({' | '.join(calls)}) {_literal(CALL_CLOSE)}")
        return "tool-call"

    def render(self) -> str:
        rules = [f"{name} ::= {rule}" for name, rule in self._extra.items()]
        converted = str(self._converter.format_grammar()).splitlines()
        # The converter's string characters admit raw control characters, which are not
        # valid JSON; replace that rule with the strict one.
        converted = [_STRICT_CHAR if line.startswith("char ::= ") else line for line in converted]
        return "\n".join([*rules, *converted]) + "\n"


def _literal(text: str) -> str:
    """A GBNF string literal for ``text``."""
    escaped = (
        text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    )
    return f'"{escaped}"'


_FREE_STRING_KEYS = frozenset({"maxLength", "enum", "const", "format", "pattern"})


@dataclass(frozen=True, slots=True)
class _Caps:
    string: int | None
    items: int | None


def _tighten(node: Any, caps: _Caps) -> Any:
    """Close open objects (``additionalProperties: false``); cap free strings and arrays."""
    if isinstance(node, dict):
        for value in node.values():
            _tighten(value, caps)
        if "properties" in node and "additionalProperties" not in node:
            node["additionalProperties"] = False
        kind = node.get("type")
        if kind == "string" and _fits(caps.string, node, "minLength", _FREE_STRING_KEYS):
            node["maxLength"] = caps.string
        if kind == "array" and _fits(caps.items, node, "minItems", {"maxItems"}):
            node["maxItems"] = caps.items
    elif isinstance(node, list):
        for value in node:
            _tighten(value, caps)
    return node


def _fits(cap: int | None, node: dict[str, Any], minimum: str, bounded: Set[str]) -> bool:
    """A cap applies: it is set, the node has no bound of its own, and its minimum fits."""
    return cap is not None and not bounded & node.keys() and node.get(minimum, 0) <= cap
