"""What a model answers is not trusted: it is made safe to keep before anything uses it.

**Secrets** (``masked``): the run's redaction policy masks the answer's text, refusal and
tool-call arguments, so a key the model echoes (one it was told, or guessed from a
pattern) is never kept in ``Result.messages`` or a thread's store, nor sent back on the
next turn, nor passed to a tool (an exfiltration path). Reasoning is left as it is: its
signature would no longer match.

**Tool-call ids** (``unique_call_ids``): every call of a run gets an id of its own.

A model (or a proxy in front of it) may repeat an id within one answer, reuse an id of an
earlier turn, or send none at all. Left alone, two results would share an id on the wire
(the provider cannot tell them apart), a recorded run would hit its own step key twice
after the tool already ran, and one call's approval could be taken for another's. So
before anything looks at an answer's calls, an id already taken in the run's history, or
empty, is replaced by a fresh one (``<id>_<n>``: still the provider's alphabet); events,
approvals, results and the store all see the new id. Unique ids, the common case, cost
one set lookup per call.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from .._messages import AssistantMessage, Message, ModelResponse, ToolCall

__all__ = ["masked", "unique_call_ids", "used_call_ids"]


def masked(response: ModelResponse, policy: Callable[[str], str]) -> ModelResponse:
    """``response`` with ``policy`` applied to what the model wrote (the same object when
    nothing was masked, the common case: one scan per string)."""
    msg = response.message
    if not msg.tool_calls and not msg.refusal:  # the common answer: text only
        text = policy(msg.text) if msg.text else msg.text
        if text is msg.text or text == msg.text:
            return response
    update: dict[str, Any] = {}
    if msg.text and (text := policy(msg.text)) != msg.text:
        update["text"] = text
    if msg.refusal and (refusal := policy(msg.refusal)) != msg.refusal:
        update["refusal"] = refusal
    calls = msg.tool_calls
    for i, c in enumerate(calls):
        if (arguments := policy(c.arguments)) != c.arguments:
            calls = update.setdefault("tool_calls", list(calls))
            calls[i] = c.model_copy(update={"arguments": arguments})
    if not update:
        return response
    return response.model_copy(update={"message": msg.model_copy(update=update)})


def used_call_ids(messages: Iterable[Message]) -> set[str]:
    """Every tool-call id the assistant messages of ``messages`` carry."""
    return {c.id for m in messages if isinstance(m, AssistantMessage) for c in m.tool_calls}


def _fresh(base: str, taken: set[str]) -> str:
    stem = base or "call"
    n = 2
    while f"{stem}_{n}" in taken:
        n += 1
    return f"{stem}_{n}"


def unique_call_ids(response: ModelResponse, taken: set[str]) -> ModelResponse:
    """``response`` with every tool-call id not in ``taken`` (which it then joins).

    The same object comes back when no id had to change.
    """
    calls = response.message.tool_calls
    renamed: list[ToolCall] | None = None
    avoid: set[str] | None = None  # a new id never takes one a later call still brings
    for i, c in enumerate(calls):
        cid = c.id
        if cid and cid not in taken:
            taken.add(cid)
            continue
        if avoid is None:
            avoid = taken | {c.id for c in calls[i:]}
        cid = _fresh(cid, avoid)
        taken.add(cid)
        avoid.add(cid)
        if renamed is None:
            renamed = list(calls)
        renamed[i] = c.model_copy(update={"id": cid})
    if renamed is None:
        return response
    message = response.message.model_copy(update={"tool_calls": renamed})
    return response.model_copy(update={"message": message})
