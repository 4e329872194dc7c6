"""Run the tool calls of one model turn.

Calls run concurrently; a tool with ``sequential=True`` is a barrier (it runs alone,
after the calls before it). Every outcome becomes a ``ToolResultMessage``: unknown
tools, invalid JSON, invalid arguments, ``plait.Retry``, timeouts and crashes are told
to the model as a corrective message (never the exception's text) and count against
the tool's retry budget. Tool-call and tool-result guardrails run around each call.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Sequence
from time import perf_counter
from typing import Any

import anyio

from .._approval import ApprovalRequest, ask_approver, canonical_arguments
from .._call import call_plugin
from .._contracts import Decision
from .._messages import Message, ToolCall, ToolResultMessage
from .._parts import media_summary
from ._budget import charge_tool_call
from ._checks import _apply as apply_decision
from ._checks import run_guardrails
from ._media import MEDIA_RESULTS, tool_output, with_media
from ._state import RunState
from ._tool_text import cap, decode, detail, error_message, keep_detail, serialise

__all__ = ["exhausted_tool", "run_tool_calls"]


def _segments(st: RunState, calls: Sequence[ToolCall]) -> list[list[int]]:
    """Indices grouped into batches; a sequential tool forms a batch of its own."""
    groups: list[list[int]] = []
    current: list[int] = []
    for i, c in enumerate(calls):
        t = st.tools.get(c.name)
        if t is not None and getattr(t, "sequential", False):
            if current:
                groups.append(current)
                current = []
            groups.append([i])
        else:
            current.append(i)
    if current:
        groups.append(current)
    return groups


def _fail(st: RunState, name: str) -> None:
    st.count_failure(name)


def _budget(st: RunState, name: str) -> int:
    t = st.tools.get(name)
    retries = getattr(t, "retries", None) if t is not None else None
    return st.limits.tool_retries if retries is None else int(retries)


def exhausted_tool(st: RunState) -> str | None:
    """The name of a tool whose failures went beyond its retry budget, if any."""
    for name, count in (st.tool_failures or {}).items():
        if count > _budget(st, name):
            return name
    return None


class _Batch:
    """The calls of one turn and the results gathered so far."""

    def __init__(self, st: RunState, calls: Sequence[ToolCall]) -> None:
        self.st = st
        self.calls = calls
        self.results: list[ToolResultMessage | None] = [None] * len(calls)
        self.asked: dict[int, Decision] = {}  # calls a guardrail wants approved ("ask")
        # a cancel scope is only needed to stop the batch when a guardrail blocks
        self.scope: anyio.CancelScope | contextlib.nullcontext[None] = (
            anyio.CancelScope()
            if "tool_call" in st.guardrails or "tool_result" in st.guardrails
            else contextlib.nullcontext()
        )

    def error(self, i: int, text: str) -> None:
        c = self.calls[i]
        _fail(self.st, c.name)
        self.results[i] = ToolResultMessage(
            tool_call_id=c.id, name=c.name, content=text, is_error=True
        )

    def block(self) -> None:
        self.st.finish("blocked", "guardrail")
        assert isinstance(self.scope, anyio.CancelScope)
        self.scope.cancel()

    async def check_call(self, i: int, args: dict[str, Any]) -> dict[str, Any] | None:
        """Tool-call guardrails: the (possibly replaced) arguments, or ``None`` to skip.

        An ``ask`` (with an approver) marks the call for approval and the guardrails after
        it still run: the approver sees the arguments every guardrail has passed.
        """
        st, c = self.st, self.calls[i]
        guards = st.guardrails["tool_call"]
        original = subject = ToolCall(id=c.id, name=c.name, arguments=json.dumps(args))
        done = 0
        while True:
            action, value, decisions = await run_guardrails(
                guards[done:], "tool_call", subject, st.context(c.id)
            )
            st.record(decisions)
            if not (action == "block" and value.action == "ask" and st.spec.approve is not None):
                break
            self.asked.setdefault(i, value)  # the approver decides (in ``run``)
            for d in decisions[:-1]:  # redactions and replacements before the ``ask``
                if d.action in ("redact", "replace"):
                    subject = apply_decision(d, subject)
            done += len(decisions)
        if action == "block":
            self.block()
            return None
        if action == "retry":
            self.error(i, f"The call was refused: {value.reason or 'not allowed'}.")
            return None
        if value is original:
            return args
        new = decode(value.arguments if isinstance(value, ToolCall) else value, st.limits)
        if isinstance(new, str):
            self.error(i, f"A guardrail replaced the arguments with unusable ones: {new}.")
            return None
        return new

    async def check_result(self, i: int, content: str) -> str | None:
        st, c = self.st, self.calls[i]
        action, value, decisions = await run_guardrails(
            st.guardrails["tool_result"], "tool_result", content, st.context(c.id)
        )
        st.record(decisions)
        if action == "block":
            self.block()
            return None
        if action == "retry":
            self.error(i, f"The result was withheld: {value.reason or 'not allowed'}.")
            return None
        if isinstance(value, str):
            return value
        try:
            return serialise(value)
        except TypeError:
            return str(value)

    def repeated(self, i: int, args: dict[str, Any]) -> bool:
        """Answer a call made too often with the same arguments instead of running it.

        Loop protection (``Limits.repeated_tool_calls``): the model is told to use the
        earlier result, and the tool is not offered on the next turn.
        """
        st, c = self.st, self.calls[i]
        allowed = st.limits.repeated_tool_calls
        if allowed is None:
            return False
        key = c.name + "\x00" + json.dumps(args, sort_keys=True, default=str)
        if st.seen_calls is None:
            st.seen_calls = {}
        count, last_id = st.seen_calls.get(key, (0, ""))
        if count < allowed:
            st.seen_calls[key] = (count + 1, c.id)
            return False
        if st.withheld is None:
            st.withheld = set()
        st.withheld.add(c.name)
        earlier = _earlier_result(st.messages, last_id)
        note = (
            f"Not run: {c.name!r} was already called {count} time(s) with these exact "
            "arguments in this run, and its result is above. Use that result, or finish."
            if earlier is None
            else earlier
        )
        self.results[i] = ToolResultMessage(tool_call_id=c.id, name=c.name, content=note)
        st.emitter.emit("tool.skipped", {"id": c.id, "name": c.name, "reason": "repeated"})
        return True

    async def run(self, i: int) -> None:
        st, c = self.st, self.calls[i]
        rec = st.recorder
        if rec is not None and c.id in rec.replay:  # recorded before an interruption: reused
            self.results[i] = rec.replay.pop(c.id)
            return
        t = st.tools.get(c.name)
        if t is None:
            known = ", ".join(sorted(st.tools)) or "none"
            self.error(i, f"Unknown tool {c.name!r}. Available tools: {known}.")
            return
        args = decode(c.arguments, st.limits)
        if isinstance(args, str):
            self.error(i, f"Tool {c.name!r} was not run: {args}.")
            return
        if self.repeated(i, args):
            return
        if "tool_call" in st.guardrails:
            checked = await self.check_call(i, args)
            if checked is None:
                return
            args = checked
        asked = self.asked.pop(i, None)
        if asked is not None or getattr(t, "requires_approval", False):
            approved = await self.approve(i, args, asked)
            if approved is None:
                return
            args = approved
        await self.call(i, t, args)

    async def approve(
        self, i: int, args: dict[str, Any], asked: Decision | None
    ) -> dict[str, Any] | None:
        """The arguments the call may run with, or ``None`` (denied: told to the model;
        or pending: the run pauses). A decision given at resume comes first, then
        ``approve="pause"``, then the run's approver (see ``_pause``)."""
        st, c = self.st, self.calls[i]
        pause = st.approvals
        decided = pause.decisions.get(c.id) if pause is not None else None
        if st.spec.approve is None and decided is None:
            self.error(i, f"Tool {c.name!r} requires approval, which was not given.")
            return None
        try:
            arguments = canonical_arguments(args)
        except (TypeError, ValueError):
            self.error(i, f"Tool {c.name!r} was not run: its arguments cannot be approved.")
            return None
        request = ApprovalRequest(
            st.run_id,
            c.name,
            c.id,
            arguments,
            reason=(asked.reason if asked is not None else None) or "the tool requires approval",
            guardrail=asked.guardrail if asked is not None else None,
            agent=st.spec.name,
        )
        emit = st.emitter.emit
        data = {"id": c.id, "name": c.name, "arguments": arguments, "reason": request.reason}
        if decided is not None:
            answer = decided if decided.binds(request) else request.deny(_OTHER_ARGUMENTS)
        elif st.spec.approve == "pause":  # nobody is asked: the run pauses after the batch
            from ._pause import hold

            hold(st, request)
            emit("approval.pending", data)
            return None
        else:
            emit("approval.request", data)
            answer = await ask_approver(st.spec.approve, request)
        emit(
            "approval.decision",
            {
                "id": c.id,
                "name": c.name,
                "approved": answer.approved,
                "reason": answer.reason,
                "edited": answer.edited,
            },
        )
        if not answer.approved:
            why = f": {answer.reason}" if answer.reason else ""
            self.error(i, f"Tool {c.name!r} was not approved{why}.")
            return None
        return answer.args  # exactly what was approved (or edited), never anything else

    async def call(self, i: int, t: Any, args: dict[str, Any]) -> None:
        st, c = self.st, self.calls[i]
        emit = st.emitter.emit
        emit("tool.start", {"id": c.id, "name": c.name, "arguments": args})
        own = getattr(t, "timeout", None)
        timeout = own if own is not None else st.limits.tool_timeout
        ctx = st.context(c.id, st.failures(c.name))
        start = perf_counter()
        rec = st.recorder
        if rec is not None and not getattr(t, "idempotent", False):
            await rec.tool_started(c)  # recorded first: a crash now leaves the outcome unknown
        charge_tool_call(st)  # counted when it starts: a sub-run inside it sees the call
        info = await call_plugin("tool", c.name, lambda: t.call(args, ctx), seconds=timeout)
        content: str | None = None
        media: list[Any] | None = None
        redact = st.redact
        if info.error is None:
            value = info.value
            if value.__class__ in MEDIA_RESULTS and (split := tool_output(value)) is not None:
                value, media = split  # images, documents, audio: sent beside the text
            try:
                content = cap(serialise(value), st.limits.tool_output_chars)
            except TypeError as exc:
                info.error = exc
            else:
                if redact is not None:  # secrets never reach the model
                    content = redact(content)
        if info.error is not None:
            self.error(i, error_message(c.name, info, timeout))
            keep_detail(st, c, info.error)
        elif "tool_result" in st.guardrails and content is not None:
            content = await self.check_result(i, content)
        if content is not None and self.results[i] is None:
            result = ToolResultMessage(tool_call_id=c.id, name=c.name, content=content)
            self.results[i] = with_media(st, result, media) if media else result
        if rec is not None and (done := self.results[i]) is not None:
            await rec.tool_result(c, done, called=True)  # one transaction, with its message
        err = info.error
        emit(
            "tool.end",
            {
                "id": c.id,
                "name": c.name,
                "ok": err is None,
                "error": None if err is None else type(err).__name__,
                # the text too, for whoever watches: redacted first, then cut (§8)
                "message": None if err is None else detail(st, err)[:ERROR_PREVIEW],
                # what the model was shown, cut short: events are for watching, not storage
                "result": None if content is None else content[:RESULT_PREVIEW],
                "duration": perf_counter() - start,
                **({"parts": [media_summary(p) for p in media]} if media else {}),
            },
        )


def _earlier_result(messages: Sequence[Message], call_id: str) -> str | None:
    """The result of the identical call that last ran, if it succeeded."""
    for m in reversed(messages):
        if isinstance(m, ToolResultMessage) and m.tool_call_id == call_id:
            return None if m.is_error else m.content
    return None


_OTHER_ARGUMENTS = "the decision given was for other arguments than the call has now"

RESULT_PREVIEW = ERROR_PREVIEW = 500
"""Characters of a tool's result (or its error's text) shown in its ``tool.end`` event."""


async def run_tool_calls(st: RunState, calls: Sequence[ToolCall]) -> list[ToolResultMessage | None]:
    """Run ``calls``; results in call order (``None`` where a block or cancel cut a call)."""
    batch = _Batch(st, calls)
    with batch.scope:
        for group in _segments(st, calls):
            if st.approvals is not None and st.approvals.pending:
                break  # a call waits for approval: what follows a barrier waits with it
            if len(group) == 1:
                await batch.run(group[0])
                continue
            async with anyio.create_task_group() as tg:
                for i in group:
                    tg.start_soon(batch.run, i)
    if st.approvals is not None and st.approvals.pending and not st.ended:
        from ._pause import pause

        pause(st, calls)  # the calls left without a result wait for resume
    return batch.results
