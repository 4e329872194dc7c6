"""Resuming interrupted runs: no repeated steps, the unknown-outcome policy, clear errors.

A crash is simulated by a store that raises a ``BaseException`` around a given step
(``conftest.CrashingStore``), as if the process died there; the run is then resumed
through the plain ``sqlite://`` URL of the same file.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from pydantic import BaseModel

import plait
from plait import Context, StoreError, tool
from plait._kernel import Kernel
from plait._run._resume import UNKNOWN_OUTCOME
from plait._store._sqlite import SQLiteStore
from plait.testing import ScriptedModel, call, complete

CrashKernel = Callable[..., Kernel]


def _tools(log: list[str], *, send_idempotent: bool = False) -> list[Any]:
    @tool(idempotent=send_idempotent, sequential=True)
    def send(ctx: Context[Any], to: str) -> str:
        """A side effect."""
        log.append(f"send {ctx.tool_call_id}")
        return f"sent to {to}"

    @tool(idempotent=True, sequential=True)
    def look(q: str) -> str:
        """Safe to repeat."""
        log.append(f"look {q}")
        return q.upper()

    return [send, look]


TURNS: list[Any] = [
    [call("send", to="a", id="s1"), call("look", q="x", id="l1"), call("send", to="b", id="s2")],
    "all done",
]


async def _crash(crash_kernel: CrashKernel, db: str, log: list[str], *where: Any,
                 thread: str | None = None, **opts: Any) -> str:  # fmt: skip
    kernel = crash_kernel(*where)
    extra = {"thread": thread} if thread else {}
    with pytest.raises(BaseException) as info:
        await plait.arun(
            "work", model=ScriptedModel(TURNS), tools=_tools(log), store="crash+" + db,
            run_id="r1", kernel=kernel, **extra, **opts,
        )  # fmt: skip
    assert "Crash" in repr(info.value)
    await kernel.aclose()
    return "r1"


async def _state(db: str, run_id: str) -> Any:
    async with SQLiteStore().open(db) as conn:
        return await conn.load_run(run_id)


@pytest.mark.anyio
async def test_recorded_results_are_not_repeated(
    crash_kernel: CrashKernel, db: str, kernel: Kernel
) -> None:
    log: list[str] = []
    await _crash(crash_kernel, db, log, "tool_result", 2, "after", thread="t")  # after l1
    assert log == ["send s1", "look x"]
    model = ScriptedModel(TURNS[1:])
    result = await plait.aresume("r1", store=db, model=model, tools=_tools(log), kernel=kernel)
    assert result.status == "success" and result.output == "all done"
    assert log == ["send s1", "look x", "send s2"]  # s1 and l1 were not called again
    assert len(model.requests) == 1  # the recorded model turn was not requested again
    sent = model.requests[0].messages
    assert [m.role for m in sent] == ["user", "assistant", "tool", "tool", "tool"]
    assert result.thread_id == "t"
    state = await _state(db, "r1")
    assert state.run.status == "success"
    assert [s.seq for s in state.steps] == list(range(1, len(state.steps) + 1))
    async with SQLiteStore().open(db) as conn:
        history = await conn.load_messages("t")
    assert history.messages == list(result.messages)


@pytest.mark.anyio
async def test_unknown_outcome_tells_the_model_by_default(
    crash_kernel: CrashKernel, db: str, kernel: Kernel
) -> None:
    log: list[str] = []
    # died after s2 was announced as started: it may or may not have happened
    await _crash(crash_kernel, db, log, "tool_started", 2, "after")
    assert log == ["send s1", "look x"]
    model = ScriptedModel(TURNS[1:])
    result = await plait.aresume("r1", store=db, model=model, tools=_tools(log), kernel=kernel)
    assert result.ok
    assert log == ["send s1", "look x"]  # s2 was not called again
    last = model.requests[0].messages[-1]
    assert last.tool_call_id == "s2" and last.is_error and last.content == UNKNOWN_OUTCOME
    state = await _state(db, "r1")
    assert state.recorded("r1:s2") is not None and not state.unfinished_calls()


@pytest.mark.anyio
async def test_unknown_outcome_can_fail_the_run(
    crash_kernel: CrashKernel, db: str, kernel: Kernel
) -> None:
    log: list[str] = []
    await _crash(crash_kernel, db, log, "tool_started", 2, "after")
    result = await plait.aresume(
        "r1", store=db, model=ScriptedModel([]), tools=_tools(log), kernel=kernel,
        on_unknown_outcome="fail", raise_on_failure=False,
    )  # fmt: skip
    assert result.status == "failed" and result.stop_reason == "unknown_outcome"
    assert "send (s2)" in (result.error or "")
    assert log == ["send s1", "look x"]
    assert (await _state(db, "r1")).run.status == "failed"


@pytest.mark.anyio
async def test_an_idempotent_call_is_retried(
    crash_kernel: CrashKernel, db: str, kernel: Kernel
) -> None:
    log: list[str] = []
    await _crash(crash_kernel, db, log, "tool_started", 2, "after")
    # the same tool, now declared idempotent: the interrupted call is simply made again
    tools = _tools(log, send_idempotent=True)
    result = await plait.aresume("r1", store=db, model=ScriptedModel(TURNS[1:]), tools=tools,
                                 kernel=kernel)  # fmt: skip
    assert result.ok and log == ["send s1", "look x", "send s2"]


@pytest.mark.anyio
async def test_crash_before_the_first_result(
    crash_kernel: CrashKernel, db: str, kernel: Kernel
) -> None:
    log: list[str] = []
    await _crash(crash_kernel, db, log, "tool_started", 1, "before")  # nothing ran
    assert log == []
    result = await plait.aresume(
        "r1", store=db, model=ScriptedModel(TURNS[1:]), tools=_tools(log), kernel=kernel
    )
    assert result.ok and log == ["send s1", "look x", "send s2"]


@pytest.mark.anyio
async def test_resuming_a_finished_run_returns_its_result(db: str, kernel: Kernel) -> None:
    first = await plait.arun("hi", model=ScriptedModel(["hello"]), store=db, kernel=kernel)
    again = await plait.aresume(first.run_id, store=db, kernel=kernel)  # no model needed
    assert (again.status, again.output, again.run_id) == ("success", "hello", first.run_id)
    assert again.messages == first.messages
    assert len((await _state(db, first.run_id)).steps) == 2  # nothing recorded again


class Answer(BaseModel):
    value: int


@pytest.mark.anyio
async def test_resume_checks_what_is_not_stored(
    crash_kernel: CrashKernel, db: str, kernel: Kernel
) -> None:
    log: list[str] = []
    await _crash(crash_kernel, db, log, "tool_result", 1, "after")
    with pytest.raises(ValueError, match=r"needs its tools again .*missing send, look"):
        await plait.aresume("r1", store=db, model=ScriptedModel([]), kernel=kernel)
    with pytest.raises(ValueError, match=r"used a model object \(test:scripted\).*pass model="):
        await plait.aresume("r1", store=db, tools=_tools(log), kernel=kernel)
    with pytest.raises(ValueError, match="pass no task"):
        await plait.arun("new task", resume="r1", store=db, kernel=kernel)
    with pytest.raises(ValueError, match="cannot be combined with thread"):
        await plait.arun(resume="r1", thread="x", store=db, kernel=kernel)
    with pytest.raises(StoreError, match="no run 'nope' is recorded"):
        await plait.aresume("nope", store=db, kernel=kernel)


@pytest.mark.anyio
async def test_typed_output_survives_a_resume(
    crash_kernel: CrashKernel, db: str, kernel: Kernel
) -> None:
    crashing = crash_kernel("model_response", 1, "after")
    with pytest.raises(BaseException, match=r"Crash|after"):
        await plait.arun(
            "n?", output=Answer, model=ScriptedModel([call("look", q="n", id="l1")]),
            tools=_tools([]), store="crash+" + db, run_id="typed", kernel=crashing,
        )  # fmt: skip
    await crashing.aclose()
    with pytest.raises(ValueError, match="returns Answer: pass output="):
        await plait.aresume("typed", store=db, model=ScriptedModel([]), tools=_tools([]),
                            kernel=kernel)  # fmt: skip
    result = await plait.aresume(
        "typed", output=Answer, store=db, model=ScriptedModel([complete({"value": 7})]),
        tools=_tools([]), kernel=kernel,
    )  # fmt: skip
    assert result.output == Answer(value=7)
    again = await plait.aresume("typed", output=Answer, store=db, kernel=kernel)
    assert again.output == Answer(value=7)


def test_sync_resume_with_the_configured_store(db: str) -> None:
    from plait.testing import make_kernel

    kernel = make_kernel(store=db)  # store=True: record the run in the configured store
    first = plait.run("hi", model=ScriptedModel(["hello"]), store=True, kernel=kernel)
    assert plait.resume(first.run_id, store=True, kernel=kernel).output == "hello"


@pytest.mark.anyio
async def test_a_streamed_resume_announces_itself(
    crash_kernel: CrashKernel, db: str, kernel: Kernel
) -> None:
    log: list[str] = []
    await _crash(crash_kernel, db, log, "model_response", 1, "after")
    kinds: list[str] = []
    async with plait.stream(
        resume="r1", store=db, model=ScriptedModel(TURNS[1:]), tools=_tools(log), kernel=kernel
    ) as s:
        async for event in s:
            kinds.append(event.kind)
        result = await s.result()
    assert result.ok and log == ["send s1", "look x", "send s2"]
    assert kinds[:2] == ["run.start", "run.resume"]
    assert kinds.count("model.request") == 1 and kinds[-1] == "run.end"


@pytest.mark.anyio
async def test_resuming_a_failed_run_raises_as_the_original_did(db: str, kernel: Kernel) -> None:
    failing = ScriptedModel([complete(status="failed", summary="cannot do it")])
    with pytest.raises(plait.RunFailed) as first:
        await plait.arun("x", output=int, model=failing, store=db, run_id="f1", kernel=kernel)
    assert first.value.result is not None and first.value.result.status == "failed"
    with pytest.raises(plait.RunFailed, match="cannot do it"):
        await plait.aresume("f1", output=int, store=db, kernel=kernel)
    again = await plait.aresume("f1", store=db, kernel=kernel, raise_on_failure=False)
    assert (again.status, again.stop_reason, again.error) == (
        "failed",
        "completion",
        "cannot do it",
    )


@pytest.mark.anyio
async def test_resume_is_a_step_of_the_loop(
    crash_kernel: CrashKernel, db: str, kernel: Kernel
) -> None:
    log: list[str] = []
    await _crash(crash_kernel, db, log, "model_response", 1, "after")
    steps = [
        s
        async for s in plait.iter(
            resume="r1", store=db, model=ScriptedModel(TURNS[1:]), tools=_tools(log), kernel=kernel
        )
    ]
    kinds = [s.kind for s in steps]
    # the recorded turn is not asked again: the resume step goes straight to its tools
    assert kinds[:3] == ["start", "resume", "tools"] and kinds[-1] == "end"
    assert steps[-1].result is not None and steps[-1].result.ok


@pytest.mark.anyio
async def test_a_finished_run_resumes_straight_to_its_end(db: str, kernel: Kernel) -> None:
    first = await plait.arun("hi", model=ScriptedModel(["hello"]), store=db, kernel=kernel)
    kinds = [s.kind async for s in plait.iter(resume=first.run_id, store=db, kernel=kernel)]
    assert kinds == ["start", "resume", "end"]
