"""Nothing lost on interruption: a cancelled ``arun`` is recorded ``cancelled`` with what it
had, records what resume needs, and resumes with the task in the thread exactly once."""

from __future__ import annotations

from typing import Any

import anyio
import pytest

import plait
from plait import AssistantMessage, ToolResultMessage, UserMessage
from plait._store._sqlite import SQLiteStore
from plait.store import StoredRun as RecordedRun
from plait.testing import FunctionModel, ScriptedModel, Turn, call, make_kernel

pytestmark = pytest.mark.anyio

NOTES: list[str] = []


@plait.tool(idempotent=False)
def note(text: str) -> str:
    """Write a note."""
    NOTES.append(text)
    return "noted " + text


async def _recorded(db: str, run_id: str, thread: str) -> tuple[RecordedRun, list[Any]]:
    async with SQLiteStore().open(db) as store:
        state = await store.load_run(run_id)
        history = await store.load_messages(thread)
    assert state is not None
    return state, list(history.messages)


def _hanging_model(hang_on: int, asked: anyio.Event) -> FunctionModel:
    """Turn 1 calls ``note``; request ``hang_on`` never answers in time (it is cancelled)."""

    def answer(messages: list[Any], params: Any) -> Any:
        turn = sum(isinstance(m, AssistantMessage) for m in messages) + 1
        if turn == hang_on:
            asked.set()
            return Turn(text="too late", delay=600)
        return call("note", text="a", id="c1")

    return FunctionModel(answer)


async def _cancel_arun(db: str, hang_on: int) -> None:
    """Start ``plait.arun(..., thread=, store=)`` in a task group and cancel it mid-request."""
    asked = anyio.Event()
    model = _hanging_model(hang_on, asked)

    async def go() -> None:
        await plait.arun("please note a", model=model, tools=[note], thread="t", store=db,
                         run_id="r1", kernel=make_kernel())  # fmt: skip

    with anyio.fail_after(30):
        async with anyio.create_task_group() as tg:
            tg.start_soon(go)
            await asked.wait()  # the model request is in flight
            tg.cancel_scope.cancel()


@pytest.mark.parametrize("hang_on", [1, 2])
async def test_cancelled_arun_keeps_everything_and_resumes(db: str, hang_on: int) -> None:
    NOTES.clear()
    await _cancel_arun(db, hang_on)

    state, thread = await _recorded(db, "r1", "t")
    assert state.run.status == "cancelled"
    done_before = ["model_response", "tool_started", "tool_result"] if hang_on == 2 else []
    assert [s.kind for s in state.steps] == [*done_before, "completion"]
    assert state.steps[-1].payload["stop_reason"] == "interrupted"
    assert thread[0] == UserMessage(content="please note a")
    assert len(thread) == (3 if hang_on == 2 else 1)  # task, call, result: nothing lost

    # resume: only what was not done runs; the task is in the thread exactly once
    rest = ["done"] if hang_on == 2 else [call("note", text="a", id="c1"), "done"]
    result = await plait.aresume("r1", store=db, model=ScriptedModel(rest), tools=[note],
                                 kernel=make_kernel())  # fmt: skip
    assert result.status == "success" and result.output == "done"
    assert NOTES == ["a"]
    state, thread = await _recorded(db, "r1", "t")
    assert state.run.status == "success"
    assert [type(m) for m in thread] == [
        UserMessage, AssistantMessage, ToolResultMessage, AssistantMessage,
    ]  # fmt: skip
    assert thread[0] == UserMessage(content="please note a")
    assert thread[-1].text == "done"
    assert [m for m in thread if isinstance(m, UserMessage)] == [thread[0]]


async def test_a_cancel_requested_by_the_caller_still_finishes_the_run(db: str) -> None:
    """``cancel()`` is a decision, not an interruption: the run ends and is not resumed."""
    asked = anyio.Event()
    handle = plait.start("hi", model=_hanging_model(1, asked), store=db, run_id="r2",
                         kernel=make_kernel())  # fmt: skip
    with anyio.fail_after(30):
        await asked.wait()
        handle.cancel()
        result = await handle.wait()
    assert result.status == "cancelled" and result.stop_reason == "cancelled"
    again = await plait.aresume("r2", store=db, kernel=make_kernel())
    assert again.status == "cancelled" and again.stop_reason == "cancelled"


async def test_a_resumed_run_does_not_need_its_model_named_again(db: str) -> None:
    """The model is recorded as 'provider:model-id' when the run used a name, the default,
    or an object the kernel resolved from a name (what `plait run` passes)."""
    kernel = make_kernel(model="test:echo")
    runs = {
        "by-name": "test:echo",
        "by-default": None,
        "resolved": kernel.model("test:slow"),
    }
    for run_id, model in runs.items():
        await plait.arun("hi", model=model, store=db, run_id=run_id, kernel=kernel)
    async with SQLiteStore().open(db) as store:
        recorded = {r: (await store.load_run(r)) for r in runs}
    options = {r: s.run.options for r, s in recorded.items() if s is not None}
    assert {r: o["model"] for r, o in options.items()} == {
        "by-name": "test:echo",
        "by-default": "test:echo",
        "resolved": "test:slow",
    }
    assert not any(o["model_object"] for o in options.values())
    await kernel.aclose()


async def test_a_run_killed_before_its_first_step_resumes_with_its_task_in_the_thread(
    db: str, crash_kernel: Any
) -> None:
    """Killed before anything was recorded: the resumed run records the task (it used to
    append only the answer, and the thread lost the user's message)."""
    kernel = crash_kernel("model_response", 1, "before")
    with pytest.raises(BaseException, match="before model_response"):
        await plait.arun("hello", model=ScriptedModel(["hi"]), thread="t", store="crash+" + db,
                         run_id="r3", kernel=kernel)  # fmt: skip
    state, thread = await _recorded(db, "r3", "t")
    assert state.run.status == "running" and state.steps == [] and thread == []
    result = await plait.aresume("r3", store=db, model=ScriptedModel(["hi"]), kernel=make_kernel())
    assert result.status == "success"
    _, thread = await _recorded(db, "r3", "t")
    assert thread == [UserMessage(content="hello"), thread[1]]
    assert isinstance(thread[1], AssistantMessage) and thread[1].text == "hi"
