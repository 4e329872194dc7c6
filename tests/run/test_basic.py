"""The run: sync and async entry points, history, usage, settings, deps, Result fields."""

from __future__ import annotations

import json
import threading

import pytest

import plait
from plait import Context, ModelSettings, Usage, UserMessage
from plait._kernel import Kernel
from plait.testing import FunctionModel, ScriptedModel, Turn, call


def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


def test_run_answers_with_a_tool(kernel: Kernel) -> None:
    model = ScriptedModel([call("add", a=2, b=3), "It is 5."])
    result = plait.run("2+3?", model=model, tools=[add], kernel=kernel)
    assert result.status == "success"
    assert result.stop_reason == "answer"
    assert result.output == "It is 5."
    assert result.turns == 2
    tool_msg = result.messages[2]
    assert tool_msg.role == "tool" and tool_msg.content == "5" and not tool_msg.is_error
    # the second request saw the tool result
    assert model.requests[1].messages[-1].content == "5"
    assert [m.role for m in result.new_messages] == ["user", "assistant", "tool", "assistant"]
    assert result.run_id and result.duration > 0
    assert result.verified is None and result.verdicts == () and result.guardrails == ()


def test_usage_is_summed_across_turns(kernel: Kernel) -> None:
    def u(i: int, o: int) -> Usage:
        return Usage(requests=1, input_tokens=i, output_tokens=o, cache_read_tokens=1)

    model = ScriptedModel(
        [
            Turn(calls=(call("add", a=1, b=1),), usage=u(100, 7)),
            Turn(calls=(call("add", a=2, b=2),), usage=u(120, 9)),
            Turn(text="done", usage=u(140, 2)),
        ]
    )
    result = plait.run("go", model=model, tools=[add], kernel=kernel)
    assert result.usage == Usage(
        requests=3, input_tokens=360, output_tokens=18, cache_read_tokens=3, tool_calls=2
    )


@pytest.mark.anyio
async def test_arun_and_instructions(kernel: Kernel) -> None:
    model = ScriptedModel(["hi"])
    result = await plait.arun("hello", model=model, instructions="Be brief.", kernel=kernel)
    assert result.output == "hi"
    sent = model.requests[0].messages
    assert sent[0].role == "system" and sent[0].content == "Be brief."
    assert sent[1].content == "hello"


def test_message_history_continues_a_conversation(kernel: Kernel) -> None:
    first = plait.run(
        "my name is Ada", model=ScriptedModel(["noted"]), kernel=kernel, instructions="sys"
    )
    model = ScriptedModel(["Ada"])
    second = plait.run(
        "my name?", model=model, kernel=kernel, instructions="sys", message_history=first.messages
    )
    roles = [m.role for m in model.requests[0].messages]
    assert roles == ["system", "user", "assistant", "user"]  # one system message, not two
    assert [m.role for m in second.new_messages] == ["user", "assistant"]
    # dicts (stored JSON) are accepted too
    raw = [json.loads(m.model_dump_json()) for m in first.messages]
    third = plait.run(None, model=ScriptedModel(["again"]), message_history=raw, kernel=kernel)
    assert third.output == "again"


def test_a_run_needs_a_task_or_history(kernel: Kernel) -> None:
    with pytest.raises(ValueError, match="task"):
        plait.run(None, model=ScriptedModel(["x"]), kernel=kernel)


def test_deps_reach_tools_through_context(kernel: Kernel) -> None:
    seen: dict[str, object] = {}

    def lookup(ctx: Context[dict[str, int]], key: str) -> int:
        """Look a key up in the deps."""
        seen["run_id"] = ctx.run_id
        seen["call"] = ctx.tool_call_id
        return ctx.deps[key]

    model = ScriptedModel([call("lookup", key="x"), "ok"])
    result = plait.run("x?", model=model, tools=[lookup], deps={"x": 42}, kernel=kernel)
    assert result.messages[2].content == "42"
    assert seen["run_id"] == result.run_id and seen["call"] == "call_1_0"


def test_settings_are_passed_to_the_model(kernel: Kernel) -> None:
    model = ScriptedModel(["ok"])
    settings = ModelSettings(temperature=0.2, max_tokens=50, seed=1)
    plait.run("x", model=model, settings=settings, kernel=kernel)
    assert model.requests[0].params.settings == settings


def test_model_by_name_through_the_test_provider(kernel: Kernel) -> None:
    result = plait.run("echo me", model="test:echo", kernel=kernel)
    assert result.output == "echo me"


def test_a_fresh_kernel_is_built_and_closed_when_none_is_given(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PLAIT_DISABLE_PLUGIN_AUTOLOAD", "1")
    model = ScriptedModel(["ok"])
    assert plait.run("x", model=model).output == "ok"


@pytest.mark.anyio
async def test_run_inside_a_running_event_loop(kernel: Kernel) -> None:
    threads: list[str] = []

    def fn(messages: list[plait.Message], params: plait.RequestParams) -> str:
        threads.append(threading.current_thread().name)
        return "from a worker loop"

    result = plait.run("x", model=FunctionModel(fn), kernel=kernel)
    assert result.output == "from a worker loop"
    assert threads[0].startswith("plait-run")


def test_unknown_option_is_a_type_error(kernel: Kernel) -> None:
    with pytest.raises(TypeError, match="unknown run option"):
        plait.run("x", model=ScriptedModel(["x"]), kernel=kernel, temprature=1)  # type: ignore[call-overload]


def test_provider_error_is_raised_or_reported(kernel: Kernel) -> None:
    err = plait.QuotaExceeded("out of credit", provider="test", status_code=402)
    with pytest.raises(plait.QuotaExceeded):
        plait.run("x", model=ScriptedModel([err]), kernel=kernel)
    result = plait.run("x", model=ScriptedModel([err]), kernel=kernel, raise_on_failure=False)
    assert result.status == "failed" and result.stop_reason == "model_error"
    assert "QuotaExceeded" in (result.error or "")


def test_retryable_provider_errors_are_retried_by_the_kernel(kernel: Kernel) -> None:
    from plait._retry import RetryPolicy

    model = ScriptedModel([plait.ServerError("boom", provider="test"), "fine"])
    result = plait.run(
        "x", model=model, kernel=kernel, retry_policy=RetryPolicy(attempts=2, base_delay=0.0)
    )
    assert result.output == "fine" and len(model.requests) == 2


def test_result_messages_round_trip_as_json(kernel: Kernel) -> None:
    result = plait.run(
        "x", model=ScriptedModel([call("add", a=1, b=2), "3"]), tools=[add], kernel=kernel
    )
    assert isinstance(result.messages[0], UserMessage)
    from pydantic import TypeAdapter

    adapter = TypeAdapter(list[plait.Message])
    dumped = adapter.dump_json(list(result.messages))
    assert adapter.validate_json(dumped) == list(result.messages)


def test_limit_error_pickles_with_its_result(kernel: Kernel) -> None:
    import pickle

    with pytest.raises(plait.LimitExceeded) as info:
        plait.run(
            "x",
            model=ScriptedModel([call("add", a=1, b=1)] * 3),
            tools=[add],
            max_turns=1,
            kernel=kernel,
        )
    again = pickle.loads(pickle.dumps(info.value))
    assert again.result.stop_reason == "limit:turns"
    assert again.result.messages == info.value.result.messages


@pytest.mark.anyio
async def test_a_run_started_by_a_tool_is_a_sub_run(kernel: Kernel) -> None:
    inner: list[plait.Result[str]] = []

    async def delegate(ctx: Context, question: str) -> str:
        """Ask a helper agent."""
        result = await plait.arun(question, model=ScriptedModel(["helper says hi"]), kernel=kernel)
        inner.append(result)
        return result.output

    model = ScriptedModel([call("delegate", question="hi?"), "done"])
    outer = await plait.arun("x", model=model, tools=[delegate], kernel=kernel)
    assert inner[0].parent_run_id == outer.run_id
    assert outer.messages[2].content == "helper says hi"


def test_runaway_nesting_ends_in_a_defined_way(kernel: Kernel) -> None:
    depth: list[int] = []

    def recurse() -> str:
        """Calls an agent that calls this tool again (a loop)."""
        depth.append(1)
        model = ScriptedModel([call("recurse"), "unwound"])
        return plait.run("again", model=model, tools=[recurse], kernel=kernel).output

    result = plait.run(
        "x", model=ScriptedModel([call("recurse"), "top"]), tools=[recurse], kernel=kernel
    )
    assert result.output == "top"
    assert len(depth) == 9  # the top run plus 8 nested levels, then LimitExceeded


def test_a_sub_run_ends_with_its_parents_time_limit(kernel: Kernel) -> None:
    import time

    async def slow_helper() -> str:
        """Starts a run that would take a minute."""

        async def wait(messages: list[plait.Message], params: plait.RequestParams) -> str:
            import anyio

            await anyio.sleep(60)
            return "late"

        result = await plait.arun("x", model=FunctionModel(wait), kernel=kernel, on_limit="partial")
        return result.stop_reason

    start = time.perf_counter()
    result = plait.run(
        "x",
        model=ScriptedModel([call("slow_helper"), "done"]),
        tools=[slow_helper],
        kernel=kernel,
        on_limit="partial",
        limits=plait.Limits(seconds=0.3, tool_timeout=120),
    )
    assert time.perf_counter() - start < 5
    assert result.stop_reason == "limit:seconds"


def test_a_history_with_an_unanswered_tool_call_is_repaired(kernel: Kernel) -> None:
    from plait import AssistantMessage, ToolCall

    broken = [
        UserMessage(content="do it"),
        AssistantMessage(
            tool_calls=[
                ToolCall(id="a", name="add", arguments="{}"),
                ToolCall(id="b", name="add", arguments="{}"),
            ]
        ),
        plait.ToolResultMessage(tool_call_id="a", name="add", content="1"),
    ]
    model = ScriptedModel(["ok"])
    plait.run("next", model=model, message_history=broken, kernel=kernel)
    sent = model.requests[0].messages
    assert [m.role for m in sent] == ["user", "assistant", "tool", "tool", "user"]
    assert sent[3].tool_call_id == "b" and sent[3].is_error
    assert len(broken) == 3  # the caller's list is not changed


def test_settings_timeout_is_the_request_deadline(kernel: Kernel) -> None:
    import anyio

    async def slow(messages: list[plait.Message], params: plait.RequestParams) -> str:
        await anyio.sleep(30)
        return "late"

    with pytest.raises(plait.RequestTimeout):
        plait.run(
            "x", model=FunctionModel(slow), settings=ModelSettings(timeout=0.05), kernel=kernel
        )
