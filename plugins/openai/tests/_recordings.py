"""Recorded OpenAI traffic (tests/data/provider-traffic) and an independent extractor.

The extractor reads what a recorded response *says* (texts, tool calls, finish reasons,
usage) straight from its JSON or SSE text, with no code shared with plait-openai, so the
tests compare plait's parse against the recording rather than against itself.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TRAFFIC = Path(__file__).resolve().parents[3] / "tests" / "data" / "provider-traffic"


def recordings(api: str) -> list[Path]:
    return sorted((TRAFFIC / api).glob("*.json"))


@dataclass
class Expected:
    """What one recorded response contains."""

    text: str = ""
    calls: list[tuple[str | None, str, str]] = field(default_factory=list)  # id, name, arguments
    finish: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    cached_tokens: int | None = None
    reasoning_tokens: int | None = None
    error: bool = False


def sse_payloads(sse: str) -> list[dict[str, Any]]:
    out = []
    for line in sse.splitlines():
        if line.startswith("data:"):
            data = line[5:].strip()
            if data and data != "[DONE]":
                out.append(json.loads(data))
    return out


def _chat_usage(exp: Expected, usage: Any) -> None:
    if not isinstance(usage, dict):
        return
    exp.input_tokens = usage.get("prompt_tokens")
    exp.output_tokens = usage.get("completion_tokens")
    exp.cached_tokens = (usage.get("prompt_tokens_details") or {}).get("cached_tokens")
    exp.reasoning_tokens = (usage.get("completion_tokens_details") or {}).get("reasoning_tokens")


def expect_chat(response: dict[str, Any]) -> Expected:
    exp = Expected()
    if response["status"] >= 400:
        exp.error = True
        return exp
    if "sse" in response:
        calls: dict[int, list[Any]] = {}
        for chunk in sse_payloads(response["sse"]):
            if "error" in chunk:
                exp.error = True
            usage = chunk.get("usage") or (chunk.get("x_groq") or {}).get("usage")
            if usage:
                _chat_usage(exp, usage)
            for choice in chunk.get("choices") or []:
                delta = choice.get("delta") or {}
                if isinstance(delta.get("content"), str):
                    exp.text += delta["content"]
                for tc in delta.get("tool_calls") or []:
                    slot = calls.setdefault(tc.get("index", len(calls)), [None, "", ""])
                    slot[0] = slot[0] or tc.get("id")
                    slot[1] = slot[1] or (tc.get("function") or {}).get("name") or ""
                    slot[2] += (tc.get("function") or {}).get("arguments") or ""
                if choice.get("finish_reason"):
                    exp.finish = choice["finish_reason"]
        exp.calls = [tuple(calls[k]) for k in sorted(calls)]  # type: ignore[misc]
        return exp
    body = response["body"]
    if not body.get("choices"):
        exp.error = True
        return exp
    choice = body["choices"][0]
    message = choice.get("message") or {}
    content = message.get("content")
    exp.text = content if isinstance(content, str) else ""
    exp.calls = [
        (tc.get("id") or None, tc["function"]["name"], tc["function"].get("arguments") or "{}")
        for tc in message.get("tool_calls") or []
    ]
    exp.finish = choice.get("finish_reason")
    _chat_usage(exp, body.get("usage"))
    return exp


def _responses_body(exp: Expected, body: dict[str, Any]) -> None:
    for item in body.get("output") or []:
        if item.get("type") == "message":
            for part in item.get("content") or []:
                if part.get("type") == "output_text":
                    exp.text += part["text"]
        elif item.get("type") == "function_call":
            exp.calls.append((item["call_id"], item["name"], item.get("arguments") or "{}"))
    usage = body.get("usage") or {}
    exp.input_tokens = usage.get("input_tokens")
    exp.output_tokens = usage.get("output_tokens")
    exp.cached_tokens = (usage.get("input_tokens_details") or {}).get("cached_tokens")
    exp.reasoning_tokens = (usage.get("output_tokens_details") or {}).get("reasoning_tokens")
    exp.finish = body.get("status")


def expect_responses(response: dict[str, Any]) -> Expected:
    exp = Expected()
    if response["status"] >= 400:
        exp.error = True
        return exp
    if "sse" not in response:
        body = response["body"]
        if body.get("status") == "failed" or body.get("error"):
            exp.error = True
        _responses_body(exp, body)
        return exp
    final: dict[str, Any] = {}
    text = ""
    done_items: list[Any] = []
    for event in sse_payloads(response["sse"]):
        kind = event.get("type")
        if kind == "response.output_text.delta":
            text += event["delta"]
        elif kind == "response.output_item.done":
            done_items.append(event["item"])
        elif kind in ("response.completed", "response.incomplete"):
            final = event["response"]
        elif kind in ("error", "response.failed"):
            exp.error = True
    if final and not final.get("output"):
        final = {**final, "output": done_items}
    _responses_body(exp, final)
    exp.text = text or exp.text  # streamed deltas are the ground truth for the text
    return exp
