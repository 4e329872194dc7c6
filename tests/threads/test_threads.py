"""Threads on every entry point: history loaded, steps recorded, never interleaved."""

from __future__ import annotations

from typing import Any

import anyio
import pytest

import plait
from plait import AssistantMessage, SystemMessage, Thread, ThreadConflict, ToolCall, UserMessage
from plait._kernel import Kernel
from plait._store._sqlite import SQLiteStore
from plait.testing import FunctionModel, ScriptedModel, Turn, call, make_kernel


async def _thread_messages(url: str, thread: str) -> list[Any]:
    async with SQLiteStore().open(url) as conn:
        return list((await conn.load_messages(thread)).messages)


async def _steps(url: str, run_id: str) -> list[Any]:
    async with SQLiteStore().open(url) as conn:
        state = await conn.load_run(run_id)
    assert state is not None
    return state.steps


@pytest.mark.anyio
async def test_a_thread_continues_across_runs(db: str, kernel: Kernel) -> None:
    first = await plait.arun(
        "My name is Ada.", model=ScriptedModel(["Hello Ada."]), thread="support-42",
        store=db, kernel=kernel, instructions="Be brief.",
    )  # fmt: skip
    assert first.thread_id == "support-42"
    model = ScriptedModel(["Your name is Ada."])
    second = await plait.arun(
        "What is my name?", model=model, thread="support-42", store=db, kernel=kernel,
        instructions="Be brief.",
    )  # fmt: skip
    sent = model.requests[0].messages
    assert isinstance(sent[0], SystemMessage)  # the run's instructions, not stored ones
    assert [type(m).__name__ for m in sent[1:]] == [
        "UserMessage", "AssistantMessage", "UserMessage"
    ]  # fmt: skip
    assert sent[2].text == "Hello Ada."
    stored = await _thread_messages(db, "support-42")
    assert stored == list(second.messages[1:])  # no system message in the thread
    assert list(second.new_messages) == stored[2:]


@pytest.mark.anyio
async def test_thread_object_store_and_metadata(tmp_path: Any, kernel: Kernel) -> None:
    url = f"sqlite:///{tmp_path}/own.db"
    thread = Thread("t-1", store=url, metadata={"customer": 7})
    result = await plait.arun("hi", model=ScriptedModel(["hello"]), thread=thread, kernel=kernel)
    assert result.thread_id == "t-1"
    async with SQLiteStore().open(url) as conn:
        record = await conn.get_thread("t-1")
    assert record is not None and record.metadata == {"customer": 7} and record.head == 2
    messages = await thread.amessages(kernel=kernel)
    assert [m.role for m in messages] == ["user", "assistant"]
    assert await thread.adelete(kernel=kernel) is True
    assert await thread.amessages(kernel=kernel) == []


@pytest.mark.anyio
async def test_configured_store_is_the_default(tmp_path: Any) -> None:
    url = f"sqlite:///{tmp_path}/configured.db"
    kernel = make_kernel(store=url)
    result = await plait.arun("hi", model=ScriptedModel(["hello"]), thread="c", kernel=kernel)
    assert [m.role for m in await _thread_messages(url, "c")] == ["user", "assistant"]
    assert result.thread_id == "c"


@pytest.mark.anyio
async def test_thread_and_message_history_are_ambiguous(db: str, kernel: Kernel) -> None:
    with pytest.raises(ValueError, match=r"either thread= .* or message_history="):
        await plait.arun(
            "hi", model=ScriptedModel(["x"]), thread="t", store=db, kernel=kernel,
            message_history=[UserMessage(content="earlier")],
        )  # fmt: skip


@pytest.mark.anyio
async def test_each_step_is_recorded_with_its_messages(db: str, kernel: Kernel) -> None:
    def add(a: int, b: int) -> int:
        return a + b

    seen: list[Any] = []
    model = ScriptedModel([call("add", a=1, b=2, id="c1"), "3"])
    result = await plait.arun(
        "add", model=model, tools=[add], thread="math", store=db, kernel=kernel,
        verifiers=[lambda completion: seen.append(completion) or True],
    )  # fmt: skip
    steps = await _steps(db, result.run_id)
    assert [s.kind for s in steps] == [
        "model_response", "tool_started", "tool_result", "model_response", "check", "completion"
    ]  # fmt: skip
    assert [s.seq for s in steps] == [1, 2, 3, 4, 5, 6]
    key = f"{result.run_id}:c1"
    assert steps[1].idempotency_key == steps[2].idempotency_key == key
    assert steps[0].payload["response"]["response_id"] == "resp_1"  # server state kept
    assert [m["role"] for m in steps[0].payload["messages"]] == ["user", "assistant"]
    assert steps[2].payload["messages"][0]["content"] == "3"
    assert steps[5].payload["status"] == "success" and steps[5].payload["output"] == "3"
    async with SQLiteStore().open(db) as conn:
        run = await conn.load_run(result.run_id)
    assert run is not None and run.run.status == "success" and run.run.thread_id == "math"


@pytest.mark.anyio
async def test_two_runs_on_one_thread_never_interleave(db: str, kernel: Kernel) -> None:
    """Both read head 0; the first to record wins, the other fails with ThreadConflict."""

    def slow(delay: float) -> FunctionModel:
        return FunctionModel(lambda messages, params: Turn(text=f"after {delay}", delay=delay))

    outcomes: dict[str, Any] = {}

    async def one(name: str, delay: float) -> None:
        try:
            outcomes[name] = await plait.arun(
                name, model=slow(delay), thread="shared", store=db, kernel=kernel
            )
        except ThreadConflict as exc:
            outcomes[name] = exc

    async with anyio.create_task_group() as tg:
        tg.start_soon(one, "fast", 0.01)
        tg.start_soon(one, "slow", 0.2)
    assert isinstance(outcomes["fast"], plait.Result)
    conflict = outcomes["slow"]
    assert isinstance(conflict, ThreadConflict)
    assert (conflict.thread_id, conflict.expected, conflict.actual) == ("shared", 0, 2)
    stored = await _thread_messages(db, "shared")
    assert stored == list(outcomes["fast"].messages)  # only the winner's, in order
    async with SQLiteStore().open(db) as conn:
        runs = await conn.list_runs(thread_id="shared")
    assert sorted(r.status for r in runs) == ["failed", "success"]


@pytest.mark.anyio
async def test_every_entry_point_takes_a_thread(db: str, kernel: Kernel) -> None:
    opts: dict[str, Any] = {"thread": "all", "store": db, "kernel": kernel}
    async with plait.stream("one", model=ScriptedModel(["1"]), **opts) as s:
        assert (await s.result()).thread_id == "all"
    async with plait.iter("two", model=ScriptedModel(["2"]), **opts) as steps:
        async for _ in steps:
            pass
    handle = plait.start("three", model=ScriptedModel(["3"]), **opts)
    assert (await handle.wait()).thread_id == "all"
    agent: plait.Agent[str] = plait.Agent("helper", model=ScriptedModel(["4"]), kernel=kernel)
    assert (await agent.arun("four", thread="all", store=db)).thread_id == "all"
    texts = [m.text for m in await _thread_messages(db, "all") if isinstance(m, AssistantMessage)]
    assert texts == ["1", "2", "3", "4"]


def test_sync_run_with_a_thread(db: str, kernel: Kernel) -> None:
    plait.run("a", model=ScriptedModel(["b"]), thread="sync", store=db, kernel=kernel)
    plait.run("c", model=ScriptedModel(["d"]), thread="sync", store=db, kernel=kernel)
    assert [m.role for m in Thread("sync", store=db).messages()] == ["user", "assistant"] * 2


@pytest.mark.anyio
async def test_a_dangling_call_in_a_thread_is_repaired(db: str, kernel: Kernel) -> None:
    async with SQLiteStore().open(db) as conn:
        dangling = AssistantMessage(tool_calls=[ToolCall(id="x1", name="t", arguments="{}")])
        await conn.append_messages("broken", [UserMessage(content="go"), dangling], expected_head=0)
    model = ScriptedModel(["fine"])
    await plait.arun("again", model=model, thread="broken", store=db, kernel=kernel)
    sent = model.requests[0].messages
    assert [m.role for m in sent] == ["user", "assistant", "tool", "user"]
    assert sent[2].tool_call_id == "x1" and sent[2].is_error


@pytest.mark.anyio
async def test_runs_without_a_store_touch_no_store(kernel: Kernel, monkeypatch: Any) -> None:
    monkeypatch.setattr(Kernel, "stores", lambda self: pytest.fail("store opened"))
    result = await plait.arun("hi", model=ScriptedModel(["hello"]), kernel=kernel)
    assert result.thread_id is None


@pytest.mark.anyio
async def test_server_side_state_gets_the_last_response_id(db: str, kernel: Kernel) -> None:
    """A model that declares ``server_state_key = "previous_response_id"`` receives the
    thread's last response id in ``settings.extra["previous_response_id"]``; others
    (the contract's default, ``None``) never do."""

    def noop() -> str:
        return "ok"

    plain = ScriptedModel([call("noop", id="p1"), "one"])
    await plait.arun("a", model=plain, tools=[noop], thread="srv", store=db, kernel=kernel)
    assert all("previous_response_id" not in r.params.settings.extra for r in plain.requests)

    stateful = ScriptedModel([call("noop", id="n1"), "three"])
    stateful.server_state_key = "previous_response_id"  # type: ignore[attr-defined]
    await plait.arun("b", model=stateful, tools=[noop], thread="srv", store=db, kernel=kernel)
    first, second = (r.params.settings.extra for r in stateful.requests)
    assert first["previous_response_id"] == "resp_2"  # the previous run's last response
    assert second["previous_response_id"] == "resp_1"  # this run's first response
