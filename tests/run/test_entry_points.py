"""plait.stream (async and sync), plait.iter and plait.start."""

from __future__ import annotations

import threading

import anyio
import pytest
from pydantic import BaseModel

import plait
from plait._kernel import Kernel
from plait.testing import ScriptedModel, Turn, call, complete


class Story(BaseModel):
    title: str
    lines: list[str] = []


def add(a: int, b: int) -> int:
    """Add."""
    return a + b


@pytest.mark.anyio
async def test_stream_events_text_and_result(kernel: Kernel) -> None:
    model = ScriptedModel(["Hello there, world"], chunk_size=5)
    async with plait.stream("hi", model=model, kernel=kernel) as s:
        chunks = [c async for c in s.text()]
        result = await s.result()
    assert chunks == ["Hello", " ther", "e, wo", "rld"]
    assert result.output == "Hello there, world"
    assert s.partial() == "Hello there, world"


@pytest.mark.anyio
async def test_partial_structured_output_grows_and_validates(kernel: Kernel) -> None:
    done = complete(result={"title": "Dawn", "lines": ["one", "two", "three"]})
    model = ScriptedModel([Turn(calls=(done,), delay=0.02)], chunk_size=12)
    partials: list[object] = []
    async with plait.stream("story", model=model, output=Story, kernel=kernel) as s:
        async for event in s:
            if event.kind == "tool_call.delta":
                partials.append(s.partial())
        result = await s.result()
    assert result.output == Story(title="Dawn", lines=["one", "two", "three"])
    seen = [p for p in partials if p is not None]
    assert seen, "a partial output was available before the end"
    assert all(isinstance(p, Story) for p in seen)
    assert len(seen[0].lines) < 3 <= len(seen[-1].lines)  # grew as it arrived


@pytest.mark.anyio
async def test_stream_result_raises_like_arun(kernel: Kernel) -> None:
    async with plait.stream(
        "password", model=ScriptedModel(["x"]), kernel=kernel, guardrails=[lambda t: "no"]
    ) as s:
        with pytest.raises(plait.GuardrailTripped):
            await s.result()


@pytest.mark.anyio
async def test_leaving_a_stream_early_cancels_the_run(kernel: Kernel) -> None:
    model = ScriptedModel([Turn(text="a" * 100, delay=0.01)], chunk_size=1)
    async with plait.stream("x", model=model, kernel=kernel) as s:
        async for event in s:
            if event.kind == "text.delta":
                break
    result = await s.result()
    assert result.status == "cancelled"


@pytest.mark.anyio
async def test_cancel_mid_stream(kernel: Kernel) -> None:
    model = ScriptedModel([Turn(text="a" * 1000, delay=0.01)], chunk_size=1)
    with anyio.fail_after(5):
        async with plait.stream("x", model=model, kernel=kernel) as s:
            async for event in s:
                if event.kind == "text.delta":
                    s.cancel()
            result = await s.result()
    assert result.status == "cancelled" and result.stop_reason == "cancelled"
    assert [m.role for m in result.messages] == ["user"]  # the cut answer is not history


def test_sync_stream_for_scripts(kernel: Kernel) -> None:
    model = ScriptedModel(["one two"], chunk_size=3)
    with plait.stream("x", model=model, kernel=kernel) as s:
        text = "".join(s.text())
        result = s.result()
    assert text == "one two" and result.output == "one two"


@pytest.mark.anyio
async def test_iter_yields_one_step_at_a_time(kernel: Kernel) -> None:
    model = ScriptedModel([call("add", a=1, b=2), "3"])
    steps = []
    async with plait.iter("x", model=model, tools=[add], kernel=kernel) as it:
        async for step in it:
            steps.append(step)
            if step.kind == "model":
                # nothing runs ahead of the consumer
                assert len(model.requests) == step.turn
    assert [s.kind for s in steps] == [
        "start",
        "model",
        "tools",
        "model",
        "answer",
        "verify",
        "output",
        "end",
    ]
    assert steps[1].response is not None and steps[1].response.message.tool_calls
    assert steps[2].tool_results[0].content == "3"
    assert steps[-1].result is not None and steps[-1].result.output == "3"
    assert it.result is steps[-1].result


@pytest.mark.anyio
async def test_iter_stopped_early_is_cancelled(kernel: Kernel) -> None:
    model = ScriptedModel([call("add", a=1, b=2), "3"])
    async with plait.iter("x", model=model, tools=[add], kernel=kernel) as it:
        async for step in it:
            if step.kind == "model":
                break
    assert it.result is not None and it.result.status == "cancelled"
    # the unanswered tool call was answered in history
    assert it.result.messages[-1].role == "tool"


@pytest.mark.anyio
async def test_start_in_the_background(kernel: Kernel) -> None:
    gate = anyio.Event()

    async def wait_for_gate() -> str:
        """Waits."""
        await gate.wait()
        return "open"

    model = ScriptedModel([call("wait_for_gate"), "done"])
    handle = plait.start("x", model=model, tools=[wait_for_gate], kernel=kernel)
    assert handle.status in ("pending", "running")
    async for event in handle.events:  # follow live until the tool started
        if event.kind == "tool.start":
            break
    assert handle.status == "running" and not handle.done
    gate.set()
    result = await handle.wait()
    assert result.output == "done" and handle.status == "success"
    assert handle.events[-1].kind == "run.end"


@pytest.mark.anyio
async def test_handle_events_can_be_followed_live(kernel: Kernel) -> None:
    handle = plait.start(
        "x", model=ScriptedModel([Turn(text="abc", delay=0.01)], chunk_size=1), kernel=kernel
    )
    kinds = [e.kind async for e in handle.events]
    assert kinds[0] == "run.start" and kinds[-1] == "run.end" and "text.delta" in kinds


@pytest.mark.anyio
async def test_cancel_now_during_a_tool_call(kernel: Kernel) -> None:
    started = anyio.Event()

    async def forever() -> str:
        """Never returns."""
        started.set()
        await anyio.sleep(60)
        return "never"

    handle = plait.start(
        "x", model=ScriptedModel([call("forever"), "x"]), tools=[forever], kernel=kernel
    )
    await started.wait()
    with anyio.fail_after(5):
        handle.cancel("now")
        result = await handle.wait()
    assert result.status == "cancelled"
    tool_msg = result.messages[-1]
    assert tool_msg.role == "tool" and tool_msg.is_error  # no call without a result


@pytest.mark.anyio
async def test_cancel_after_turn(kernel: Kernel) -> None:
    started = anyio.Event()
    release = anyio.Event()

    async def slowish() -> str:
        """Finishes when released."""
        started.set()
        await release.wait()
        return "finished"

    model = ScriptedModel([call("slowish"), "more", "never"])
    handle = plait.start("x", model=model, tools=[slowish], kernel=kernel)
    await started.wait()
    handle.cancel("after_turn")
    release.set()
    result = await handle.wait()
    assert result.status == "cancelled"
    assert result.messages[-1].content == "finished"  # the turn's work was kept
    assert len(model.requests) == 1


def test_start_from_sync_code_runs_in_a_thread(kernel: Kernel) -> None:
    handle = plait.start("x", model=ScriptedModel(["bg"]), kernel=kernel)
    result = handle.result(timeout=10)
    assert result.output == "bg" and handle.status == "success"


def test_cancel_from_another_thread(kernel: Kernel) -> None:
    entered = threading.Event()

    async def hang() -> str:
        """Hangs."""
        entered.set()
        await anyio.sleep(60)
        return "x"

    handle = plait.start("x", model=ScriptedModel([call("hang"), "x"]), tools=[hang], kernel=kernel)
    assert entered.wait(10)
    handle.cancel()
    assert handle.result(timeout=10).status == "cancelled"


@pytest.mark.anyio
async def test_a_sync_tool_sees_the_cancellation_through_its_context(kernel: Kernel) -> None:
    started = threading.Event()
    noticed = threading.Event()

    def long_job(ctx: plait.Context) -> str:
        """Works until told to stop."""
        started.set()
        for _ in range(1000):
            if ctx.cancelled():
                noticed.set()
                return "stopped"
            threading.Event().wait(0.01)
        return "finished"

    handle = plait.start(
        "x", model=ScriptedModel([call("long_job"), "x"]), tools=[long_job], kernel=kernel
    )
    await anyio.to_thread.run_sync(started.wait, 5)
    handle.cancel("now")
    result = await handle.wait()
    assert result.status == "cancelled"
    assert await anyio.to_thread.run_sync(noticed.wait, 5)
