"""The steps that check and end a run: verify, output guardrails, limits, end.

Also the two helpers every step relies on: ``next_turn`` (go back to the model, unless
the run is winding down) and ``repair`` (never leave a tool call without its result in
the history, whatever interrupted the turn).
"""

from __future__ import annotations

from time import perf_counter
from typing import Any

import anyio

from .._contracts import Completion
from .._errors import GuardrailTripped, LimitExceeded, ProviderError, RunFailed
from .._messages import AssistantMessage, ToolResultMessage, Usage, UserMessage
from ._checks import run_guardrails, run_verifiers
from ._completion import COMPLETE
from ._model_turn import usage_data
from ._result import Result, Step
from ._state import RunState

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


def next_turn(st: RunState) -> None:
    """Go back to the model, unless the run was cancelled or is on its final answer."""
    if st.cancel_requested is not None:
        st.finish("cancelled", "cancelled")
    elif st.final_answer:
        st.finish("incomplete")
    else:
        st.phase = "model"


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


def on_limit(st: RunState, which: str) -> Step:
    """A limit was reached: raise (at the end), return partial, or ask for a final answer."""
    st.emitter.emit("limit", {"limit": which, "on_limit": st.on_limit})
    st.stop_reason = f"limit:{which}"
    if st.on_limit == "final_answer" and not st.final_answer:
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
        st.phase = "model"
    else:
        if st.plan.is_text and st.output is None:
            last = next((m for m in reversed(st.messages) if isinstance(m, AssistantMessage)), None)
            st.output = last.text if last is not None and last.text else None
        st.finish("incomplete")
    return Step("limit", st.turns)


async def step_verify(st: RunState) -> Step:
    """Run the verifiers on the completion; a failure goes back to the model (own budget)."""
    if not st.verifiers:
        st.phase = "output"
        return Step("verify", st.turns)
    completion = st.completion or Completion(result=st.output)
    verdicts = await run_verifiers(st.verifiers, completion, st.context())
    st.verdicts += tuple(verdicts)
    for v in verdicts:
        st.emitter.emit(
            "verdict",
            {"verifier": v.verifier, "passed": v.passed, "reason": v.reason, "error": v.error},
        )
    st.verified = all(v.passed for v in verdicts)
    if st.verified:
        st.phase = "output"
        return Step("verify", st.turns, verdicts=tuple(verdicts))
    st.verifier_retries += 1
    if st.verifier_retries > st.limits.verifier_retries:
        st.finish("failed", "verifier", "verification kept failing")
    else:
        reasons = "\n".join(
            f"- {v.verifier}: {v.reason or 'failed'}" for v in verdicts if not v.passed
        )
        again = f"call `{COMPLETE}` again" if st.completion_mode != "off" else "answer again"
        st.messages.append(
            UserMessage(
                content=(
                    f"Your result did not pass verification:\n{reasons}\n"
                    f"Fix the problems and {again}."
                )
            )
        )
        st.completion = st.output = None
        next_turn(st)
    return Step("verify", st.turns, verdicts=tuple(verdicts))


async def step_output(st: RunState) -> Step:
    """Output guardrails: allow, block, rewrite the output, or send the model back."""
    guards = st.guardrails.get("output")
    if not guards or st.output is None:
        st.finish(st.outcome)
        return Step("output", st.turns)
    action, value, decisions = await run_guardrails(guards, "output", st.output, st.context())
    st.record(decisions)
    if action == "block":
        st.finish("blocked", "guardrail")
    elif action == "retry":
        st.output_retries += 1
        if st.output_retries > st.limits.output_retries or st.final_answer:
            st.finish("failed", "output_retries", "output guardrails kept asking for a retry")
        else:
            reason = value.reason or "it was not acceptable"
            st.messages.append(
                UserMessage(content=f"Your answer was rejected ({reason}). Try again.")
            )
            st.completion = st.output = None
            next_turn(st)
    else:
        st.output = value
        if st.completion is not None:
            st.completion = st.completion.model_copy(update={"result": value})
        st.finish(st.outcome)
    return Step("output", st.turns, decisions=tuple(decisions))


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
    return Result(
        output=st.output if status in ("success", "skipped", "incomplete") else None,
        status=status,
        stop_reason=st.stop_reason or "cancelled",
        run_id=st.run_id,
        usage=usage,
        completion=st.completion,
        verified=st.verified,
        verdicts=tuple(st.verdicts),
        guardrails=tuple(st.decisions),
        messages=messages,
        new_messages=messages[st.new_from :],
        duration=perf_counter() - st.started,
        turns=st.turns,
        agent=st.agent,
        parent_run_id=st.parent_run_id,
        thread_id=st.thread_id,
        error=st.error,
    )


async def step_end(st: RunState) -> Step:
    """Build the result and announce the end of the run."""
    result = build_result(st)
    st.result = result
    st.phase = "done"
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
    return Step("end", st.turns, result=result)


def raise_for_outcome(st: RunState, result: Result[Any]) -> Result[Any]:
    """Return ``result``, or raise what the caller asked for (``raise_on_failure``, limits)."""
    status = result.status
    if (
        status == "incomplete"
        and st.on_limit == "raise"
        and result.stop_reason.startswith("limit:")
    ):
        raise LimitExceeded(
            f"run {st.run_id} reached its {result.stop_reason[6:]} limit", result=result
        )
    if not st.raise_on_failure:
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
