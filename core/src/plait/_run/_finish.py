"""The steps that check and end a run: verify, output guardrails, limits, end.

Also the two helpers every step relies on: ``next_turn`` (go back to the model, unless
the run is winding down) and ``repair`` (never leave a tool call without its result in
the history, whatever interrupted the turn).
"""

from __future__ import annotations

import time
from time import perf_counter
from typing import Any

import anyio

from .._contracts import Completion
from .._errors import GuardrailTripped, LimitExceeded, ProviderError, RunFailed
from .._messages import AssistantMessage, ToolResultMessage, Usage, UserMessage
from ._checks import run_guardrails, run_verifiers
from ._completion import COMPLETE
from ._model_turn import drop_answer, show_answer, usage_data
from ._result import Result, Step
from ._state import Phase, RunState

__all__ = [
    "FINAL_ANSWER_GRACE",
    "build_result",
    "next_turn",
    "on_limit",
    "raise_for_outcome",
    "repair",
    "step_end",
    "step_output",
    "step_verify",
]

FINAL_ANSWER_GRACE = 30.0
"""Seconds the one final answer may take after the run's time limit passed."""


def next_turn(st: RunState) -> Phase:
    """Back to the model, unless the run was cancelled or is on its final answer."""
    if st.cancel_requested is not None:
        return st.finish("cancelled", "cancelled")
    if st.final_answer:
        return st.finish("incomplete")
    return "model"


def repair(st: RunState, reason: str) -> None:
    """Give every tool call of the last assistant message a result (an error if missing)."""
    messages = st.messages
    for idx in range(len(messages) - 1, st.new_from - 1, -1):
        msg = messages[idx]
        if isinstance(msg, AssistantMessage):
            break
    else:
        return
    have = {m.tool_call_id for m in messages[idx + 1 :] if isinstance(m, ToolResultMessage)}
    for c in msg.tool_calls:
        if c.id not in have:
            messages.append(
                ToolResultMessage(
                    tool_call_id=c.id, name=c.name, is_error=True, content=f"Not run: {reason}."
                )
            )


def on_limit(st: RunState, which: str) -> tuple[Phase, Step]:
    """A limit was reached: raise (at the end), return partial, or ask for a final answer."""
    policy = st.spec.on_limit or "raise"
    st.emitter.emit("limit", {"limit": which, "on_limit": policy})
    st.stop_reason = f"limit:{which}"
    if policy == "final_answer" and not st.final_answer:
        st.final_answer = True
        if which == "seconds":
            st.deadline = anyio.current_time() + FINAL_ANSWER_GRACE
        what = (
            f"call `{COMPLETE}` now with the best result you have"
            if st.completion_mode != "off"
            else "give your final answer now"
        )
        st.messages.append(
            UserMessage(
                content=(f"The run reached its {which} limit. Do not call any other tool; {what}.")
            )
        )
        return "model", Step("limit", st.turns)
    if st.plan.is_text and st.output is None:
        last = next((m for m in reversed(st.messages) if isinstance(m, AssistantMessage)), None)
        st.output = last.text if last is not None and last.text else None
    return st.finish("incomplete"), Step("limit", st.turns)


async def step_verify(st: RunState) -> tuple[Phase, Step]:
    """Run the verifiers on the completion; a failure goes back to the model (own budget)."""
    if not st.verifiers:
        return "output", Step("verify", st.turns)
    completion = st.completion or Completion(result=st.output)
    verdicts = await run_verifiers(st.verifiers, completion, st.context())
    now = time.time()
    verdicts = [v.model_copy(update={"at": now}) for v in verdicts]
    st.verdicts += tuple(verdicts)
    for v in verdicts:
        st.emitter.emit(
            "verdict",
            {"verifier": v.verifier, "passed": v.passed, "reason": v.reason, "error": v.error},
        )
    st.verified = all(v.passed for v in verdicts)
    step = Step("verify", st.turns, verdicts=tuple(verdicts))
    if st.verified:
        return "output", step
    st.verifier_retries += 1
    if st.verifier_retries > st.limits.verifier_retries:
        return st.finish("failed", "verifier", "verification kept failing"), step
    reasons = "\n".join(f"- {v.verifier}: {v.reason or 'failed'}" for v in verdicts if not v.passed)
    again = f"call `{COMPLETE}` again" if st.completion_mode != "off" else "answer again"
    st.messages.append(
        UserMessage(
            content=(
                f"Your result did not pass verification:\n{reasons}\nFix the problems and {again}."
            )
        )
    )
    st.completion = st.output = None
    return next_turn(st), step


async def step_output(st: RunState) -> tuple[Phase, Step]:
    """Output guardrails: allow, block, rewrite the output, or send the model back."""
    guards = st.guardrails.get("output")
    if not guards or st.output is None:
        return st.finish(st.outcome), Step("output", st.turns)
    action, value, decisions = await run_guardrails(guards, "output", st.output, st.context())
    st.record(decisions)
    step = Step("output", st.turns, decisions=tuple(decisions))
    if action == "block":
        return st.finish("blocked", "guardrail"), step
    if action == "retry":
        st.output_retries += 1
        if st.output_retries > st.limits.output_retries or st.final_answer:
            why = "output guardrails kept asking for a retry"
            return st.finish("failed", "output_retries", why), step
        reason = value.reason or "it was not acceptable"
        st.messages.append(UserMessage(content=f"Your answer was rejected ({reason}). Try again."))
        st.completion = st.output = None
        return next_turn(st), step
    show_answer(st, value, replaced=value is not st.output)  # held for the guardrails
    st.output = value
    if st.completion is not None:
        st.completion = st.completion.model_copy(update={"result": value})
    return st.finish(st.outcome), step


def build_result(st: RunState) -> Result[Any]:
    """The ``Result`` of a finished run."""
    u = st.usage
    usage = (
        u
        if u.tool_calls == st.tool_calls
        else Usage(
            requests=u.requests,
            input_tokens=u.input_tokens,
            output_tokens=u.output_tokens,
            cache_read_tokens=u.cache_read_tokens,
            cache_write_tokens=u.cache_write_tokens,
            reasoning_tokens=u.reasoning_tokens,
            tool_calls=st.tool_calls,
        )
    )
    messages = list(st.messages)
    status = st.status or "failed"
    planning = st.planning
    return Result(
        output=st.output if status in ("success", "skipped", "incomplete") else None,
        status=status,
        stop_reason=st.stop_reason or "cancelled",
        run_id=st.run_id,
        usage=usage,
        completion=None if status == "blocked" else st.completion,  # never the blocked value
        verified=st.verified,
        verdicts=tuple(st.verdicts),
        guardrails=tuple(st.decisions),
        messages=messages,
        new_messages=messages[st.new_from :],
        duration=perf_counter() - st.started,
        turns=st.turns,
        agent=st.spec.name,
        last_agent=st.active.name if st.active is not None else st.spec.name,
        parent_run_id=st.parent_run_id,
        thread_id=st.thread_id,
        error=st.error,
        plan=planning.current if planning is not None else None,
        plan_revisions=planning.revisions if planning is not None else (),
        pending=tuple(st.approvals.pending) if status == "paused" else (),
    )


async def step_end(st: RunState) -> tuple[Phase, Step]:
    """Build the result and announce the end of the run."""
    if st.emitter.answer_held:  # the held answer never passed the output guardrails
        drop_answer(st)
    result = build_result(st)
    st.result = result
    st.emitter.emit(
        "run.end",
        {
            "status": result.status,
            "stop_reason": result.stop_reason,
            "usage": usage_data(st),
            "duration": result.duration,
            "error": result.error,
        },
    )
    return "done", Step("end", st.turns, result=result)


def raise_for_outcome(st: RunState, result: Result[Any]) -> Result[Any]:
    """Return ``result``, or raise what the caller asked for (``raise_on_failure``, limits)."""
    status = result.status
    if (
        status == "incomplete"
        and st.spec.on_limit in (None, "raise")
        and result.stop_reason.startswith("limit:")
    ):
        raise LimitExceeded(
            f"run {st.run_id} reached its {result.stop_reason[6:]} limit", result=result
        )
    if st.spec.raise_on_failure is False:
        return result
    if status == "blocked":
        blocking = [d for d in result.guardrails if d.action in ("block", "ask")]
        why = blocking[-1].reason if blocking else None
        raise GuardrailTripped(f"a guardrail blocked the run: {why or 'blocked'}", result=result)
    if status == "failed":
        if isinstance(st.exception, ProviderError):
            raise st.exception
        raise RunFailed(
            f"run failed ({result.stop_reason}): {result.error or ''}".rstrip(": "), result=result
        )
    return result
