"""The steps of the run loop that talk to the model and run tools.

Each step is one function ``async (RunState) -> (next phase, Step)``: it does its work
and returns the phase that follows, ``start → model → tools | answer → ... → verify →
output → end`` (every transition is listed in ``_loop.STEPS``). Steps never raise for
failures the run can report (provider errors, blocks, limits); they record them with
``RunState.finish``, which returns ``"end"``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import anyio

from .._contracts import RequestParams, ToolSpec
from .._errors import ProviderError
from .._messages import (
    AssistantMessage,
    Message,
    ModelResponse,
    ToolCall,
    ToolResultMessage,
    UserMessage,
)
from .._settings import ModelSettings
from ._budget import charge_turn, limit_hit, tool_calls_over
from ._checks import run_guardrails
from ._completion import COMPLETE, parse_completion
from ._finish import next_turn, on_limit, repair
from ._model_turn import answered, ask_model
from ._result import Step
from ._state import Phase, RunState
from ._tools_exec import exhausted_tool, run_tool_calls

__all__ = ["step_answer", "step_model", "step_start", "step_tools"]


async def step_start(st: RunState) -> tuple[Phase, Step]:
    """Announce the run; input guardrails that may not run in parallel run now."""
    data = {
        "model": getattr(st.model, "name", None),
        "tools": list(st.tools),
        "output": getattr(st.plan.output, "__name__", str(st.plan.output)),
        "completion": st.completion_mode,
        "provenance": st.provenance,
    }
    if st.media:  # what media the run was given, never their bytes
        data["inputs"] = _inputs(st)
    st.emitter.emit("run.start", data)
    if st.spec.plan or st.spec.max_steps is not None:  # planning mode (``_planning``)
        from ._planning import start

        start(st)
    guards = st.guardrails.get("input")
    if guards and (st.task is None or any(not getattr(g, "parallel", True) for g in guards)):
        await _check_input(st)
    if st.status is not None:  # an input guardrail blocked
        return "end", Step("start", 0)
    return ("resume" if st.resuming is not None else "model"), Step("start", 0)


def _inputs(st: RunState) -> list[dict[str, Any]]:
    """What media the run was given: ``{type, media_type, bytes}`` each, never the bytes."""
    from .._parts import media_summary
    from ._media import media_parts

    return [media_summary(p) for p in media_parts(st.messages)]


async def _check_input(st: RunState) -> bool:
    """Run input guardrails; ``True`` when they changed the task (blocks end the run)."""
    st.input_checked = True
    if st.task is None:
        return False
    action, value, decisions = await run_guardrails(
        st.guardrails["input"], "input", st.task, st.context()
    )
    st.record(decisions)
    if action != "allow":  # retry has no meaning for the caller's input: it blocks
        st.finish("blocked", "guardrail")
        return False
    if value == st.task:
        return False
    st.task = value if isinstance(value, str) else str(value)
    content = getattr(st.messages[st.new_from], "content", "")
    if isinstance(content, str):
        st.messages[st.new_from] = UserMessage(content=st.task)
    else:  # the text was rewritten; the media parts stay, after it
        from .._parts import Text

        kept = [p for p in content if not isinstance(p, Text)]
        st.messages[st.new_from] = UserMessage(content=[Text(st.task), *kept])
    return True


def _final_params(st: RunState) -> RequestParams:
    specs = tuple(s for s in st.params.tools if s.name == COMPLETE)
    return _narrowed(st, specs)


def _turn_params(st: RunState) -> RequestParams:
    """The run's params, less tools withheld for this turn after a repeated call."""
    if not st.withheld:
        return st.params
    specs = tuple(s for s in st.params.tools if s.name not in st.withheld)
    st.withheld.clear()
    return _narrowed(st, specs)


def _narrowed(st: RunState, specs: tuple[ToolSpec, ...]) -> RequestParams:
    """Params offering only ``specs``; a ``tool_choice`` naming a tool no longer offered
    becomes ``required`` (or ``auto`` when nothing is offered) — never a dangling name."""
    settings = st.params.settings
    choice = settings.tool_choice
    offered = {s.name for s in specs}
    if choice not in (None, "auto", "none", "required") and choice not in offered:
        settings = settings.merge(ModelSettings(tool_choice="required" if specs else "auto"))
    return RequestParams(tools=specs, settings=settings, output=st.params.output)


def _decisions_only(kind: str) -> bool:
    return kind == "guardrail"


async def _ask_with_input_guard(st: RunState, params: RequestParams) -> ModelResponse | None:
    """First turn: the model is asked while input guardrails run; both must finish."""
    box: dict[str, Any] = {}

    async def guard() -> None:
        box["changed"] = await _check_input(st)
        if st.ended or box["changed"]:
            tg.cancel_scope.cancel()  # blocked or rewritten: the answer would be discarded

    # the turn's events wait for the guardrails: a blocked input shows no model output
    st.emitter.hold()
    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(guard)
            try:
                box["response"] = answered(st, await ask_model(st, _sent(st), params))
            except ProviderError as err:  # raised after the guardrails had their say
                box["error"] = err
    finally:
        blocked = st.ended or bool(box.get("changed"))
        st.emitter.release(_decisions_only if blocked else None)
    if st.ended:
        return None
    if "error" in box:
        raise box["error"]
    if box.get("changed"):
        return answered(st, await ask_model(st, _sent(st), params))
    response: ModelResponse = box["response"]
    return response


def _sent(st: RunState) -> list[Message]:
    """The messages the model is sent: the history, as the current agent sees it."""
    if st.active is None:
        return st.messages
    from ._handoffs import view

    return view(st)


async def step_model(st: RunState) -> tuple[Phase, Step]:
    """Ask the model for the next turn (after checking cancellation and limits)."""
    if st.cancel_requested is not None:
        repair(st, "the run was cancelled")
        return st.finish("cancelled", "cancelled"), Step("model", st.turns)
    if not st.final_answer and (which := limit_hit(st)) is not None:
        return on_limit(st, which)
    if st.planning is not None and not st.final_answer:
        from ._planning import before_turn

        if (stop := before_turn(st)) is not None:  # max_steps reached
            return stop
    st.turns += 1
    if st.parent is not None:
        charge_turn(st)  # a sub-run's turns count against its parents' limits
    params = _final_params(st) if st.final_answer else _turn_params(st)
    if st.media:  # URL parts the model needs as bytes are fetched first (fetch_urls=True)
        from ._media import prepare

        await prepare(st)
    try:
        if "input" in st.guardrails and not st.input_checked:
            response = await _ask_with_input_guard(st, params)
        else:
            response = answered(st, await ask_model(st, _sent(st), params))
        if response is None or st.status is not None:  # blocked (a cut turn is no history)
            return "end", Step("model", st.turns)
    except ProviderError as err:
        st.exception = err
        st.emitter.emit("error", {"type": type(err).__name__, "message": str(err)})
        why = f"{type(err).__name__}: {err}"
        return st.finish("failed", "model_error", why), Step("model", st.turns)
    st.messages.append(response.message)
    st.finish_reason = response.finish_reason
    if response.finish_reason != "length":
        st.cut_offs = 0
    phase: Phase = "tools" if response.message.tool_calls else "answer"
    return phase, Step("model", st.turns, response=response)


def _result(c: ToolCall, text: str, error: bool = True) -> ToolResultMessage:
    return ToolResultMessage(tool_call_id=c.id, name=c.name, content=text, is_error=error)


def _refuse_all(st: RunState, calls: list[ToolCall], why: str) -> list[ToolResultMessage]:
    for c in calls:
        st.count_failure(c.name)
    return [_result(c, why) for c in calls]


async def step_tools(st: RunState) -> tuple[Phase, Step]:
    """Run the tool calls of the last turn; a ``complete`` call ends the run."""
    msg = st.messages[-1]
    assert isinstance(msg, AssistantMessage)
    completing = st.completion_mode != "off"
    done = [c for c in msg.tool_calls if completing and c.name == COMPLETE]
    calls = [c for c in msg.tool_calls if not (completing and c.name == COMPLETE)]
    transfers: list[ToolCall] = []
    if st.handoffs and any(c.name in st.handoffs for c in calls):
        transfers = [c for c in calls if c.name in st.handoffs]
        calls = [c for c in calls if c.name not in st.handoffs]
    results: list[ToolResultMessage] = []
    if st.finish_reason == "length":
        st.cut_offs += 1
        return _cut_off(st, msg.tool_calls)
    _release_tool_choice(st, msg.tool_calls)
    if st.planning is not None and not st.final_answer:
        from ._planning import take_calls

        calls, results = take_calls(st, calls)  # update_plan: answered by the loop
    if st.final_answer and calls:
        results = _refuse_all(st, calls, "Not run: the run reached a limit; answer now.")
    elif calls:
        if tool_calls_over(st, len(calls)):  # this run's limit, or a parent run's
            st.messages.extend(results)  # update_plan's answers (planning mode)
            repair(st, "the tool-call limit was reached")
            return on_limit(st, "tool_calls")
        ran = await run_tool_calls(st, calls)
        results += [r for r in ran if r is not None]
        if st.ended:  # a guardrail blocked, or calls wait for approval (``_pause``)
            st.messages.extend(results)
            if st.status != "paused":  # a paused call's result comes when it is resumed
                repair(st, "a guardrail blocked the run")
            return "end", Step("tools", st.turns, tool_results=tuple(results))
    if transfers and not done and not st.final_answer:
        return await _hand_over(st, transfers, results)
    if transfers:  # the run is ending: no handoff now
        results += [_result(c, "Not transferred: the run is ending.") for c in transfers]
    phase: Phase | None = _complete(st, done, results) if done else None
    st.messages.extend(results)
    step = Step("tools", st.turns, tool_results=tuple(results))
    if phase is not None:
        return phase, step
    if (name := exhausted_tool(st)) is not None:
        why = f"tool {name!r} failed beyond its retry budget"
        return st.finish("failed", "tool_retries", why), step
    if st.planning is not None and calls and not st.final_answer:
        from ._planning import after_batch

        after_batch(st)  # one step done; a plan review every planning_interval steps
    return next_turn(st), step


async def _hand_over(
    st: RunState, transfers: list[ToolCall], results: list[ToolResultMessage]
) -> tuple[Phase, Step]:
    """The turn's other calls ran; take its first handoff and go on as the target."""
    from ._handoffs import announce, switch, take

    answered, taken = await take(st, transfers)
    results = results + answered
    st.messages.extend(results)
    step = Step("tools", st.turns, tool_results=tuple(results))
    if taken is not None:
        before = st.active.name if st.active is not None else st.spec.name
        call_id = next(c.id for c in transfers if c.name == taken.tool_name)
        switch(st, taken, len(st.messages) - 1)
        announce(st, before, taken, call_id)
    if (name := exhausted_tool(st)) is not None:
        why = f"tool {name!r} failed beyond its retry budget"
        return st.finish("failed", "tool_retries", why), step
    return next_turn(st), step


def _release_tool_choice(st: RunState, calls: list[ToolCall]) -> None:
    """A ``tool_choice`` naming a tool holds until that tool is called, then lets go.

    Forcing the same tool on every turn would only repeat the call; afterwards the model
    may call any tool (``required`` when the run ends through the completion tool) or
    answer (``auto``), as the OpenAI Agents SDK's ``reset_tool_choice`` does.
    """
    choice = st.params.settings.tool_choice
    if choice in (None, "auto", "none", "required") or all(c.name != choice for c in calls):
        return
    release = "required" if st.completion_mode == "required" else "auto"
    settings = st.params.settings.merge(ModelSettings(tool_choice=release))
    st.params = replace(st.params, settings=settings)


CUT_OFF_TURNS = 2
"""Turns in a row whose calls the token limit may cut before the run stops (``length``)."""


def _cut_off(st: RunState, calls: list[ToolCall]) -> tuple[Phase, Step]:
    """Calls cut off by the token limit are never run; the same cut twice ends the run.

    A cut call is not the tool's failure, so no tool's retry budget is charged. The model
    is asked once for a shorter call; when the next answer is cut as well, asking again
    would only repeat it (a seeded local model gives the same tokens), so the run fails
    with a message that names the setting to change.
    """
    why = "The call was cut off (the answer hit max_tokens); call it again, shorter."
    results = [_result(c, why) for c in calls]
    st.messages.extend(results)
    step = Step("tools", st.turns, tool_results=tuple(results))
    if st.cut_offs < CUT_OFF_TURNS:
        return next_turn(st), step
    limit = st.params.settings.max_tokens
    where = f"max_tokens={limit}" if limit else "the model's max_tokens"
    why = (
        f"the model's answer was cut off by the token limit ({where}) {st.cut_offs} turns "
        "in a row; raise ModelSettings.max_tokens or bound the output's strings and arrays"
    )
    return st.finish("failed", "length", why), step


def _complete(
    st: RunState, calls: list[ToolCall], results: list[ToolResultMessage]
) -> Phase | None:
    """Validate the first ``complete`` call (the rest are told they were ignored) and add
    the results; the next phase, or ``None`` when the model is asked again."""
    first, *extra = calls
    parsed = parse_completion(first.arguments, st.plan)
    if isinstance(parsed, str):
        results.append(_result(first, parsed))
        results.extend(_result(c, "Ignored: `complete` may be called once.") for c in extra)
        st.output_retries += 1
        if st.output_retries > st.limits.output_retries:  # say what was wrong, no values
            why = parsed.removesuffix(f"\nCall `{COMPLETE}` again with a valid result.")
            return st.finish("failed", "output_retries", f"the completion stayed invalid: {why}")
        return None
    completion, output = parsed
    results.append(_result(first, "Completed.", error=False))
    results.extend(_result(c, "Ignored: `complete` may be called once.") for c in extra)
    st.completion, st.output = completion, output
    if not st.final_answer:  # after a limit, the stop reason stays the limit
        st.stop_reason = "completion"
    st.emitter.emit("completion", {"status": completion.status, "summary": completion.summary})
    if completion.status == "failed":
        return st.finish("failed", "completion", completion.summary or "the model reported failure")
    st.outcome = "success"
    return "verify"


async def step_answer(st: RunState) -> tuple[Phase, Step]:
    """The model answered in text: accept it, or ask for the completion tool."""
    msg = st.messages[-1]
    assert isinstance(msg, AssistantMessage)
    step = Step("answer", st.turns)
    if msg.refusal and not msg.text:
        return st.finish("failed", "refusal", msg.refusal), step
    if st.completion_mode == "required":
        return _ask_for_completion(st), step
    st.output = msg.text if st.plan.is_text else None
    st.outcome = "skipped" if st.completion_mode == "optional" else "success"
    if st.stop_reason is None:
        st.stop_reason = "answer"
    return ("verify" if st.outcome == "success" else "output"), step


def _ask_for_completion(st: RunState) -> Phase:
    """A text answer where only the completion tool ends the run: ask for it."""
    st.output_retries += 1
    if st.final_answer:
        return st.finish("incomplete")
    if st.output_retries > st.limits.output_retries:
        return st.finish("failed", "output_retries", "the model never called `complete`")
    st.messages.append(
        UserMessage(
            content=(
                f"Finish by calling the `{COMPLETE}` tool with status, summary, result and "
                "evidence; the result must match its schema."
            )
        )
    )
    return next_turn(st)
