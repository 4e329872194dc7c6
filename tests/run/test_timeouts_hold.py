"""Timeouts hold even against code that fights them (issue 12, rule 5).

A tool, guardrail, verifier or event handler that catches the cancellation of its own
timeout and answers late, raises something else, keeps awaiting, or blocks the event
loop past its deadline has *timed out*: its late answer is discarded, never reaching the
model or the ``Result``, and the timeout is reported as any other. Sync code runs in a
worker thread that is abandoned at the deadline (the thread goes on; its result is
dropped), so the run continues at the timeout, not when the thread returns.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import Any

import anyio
import anyio.lowlevel
import pytest

import plait
from plait import Event
from plait._call import call_plugin
from plait.testing import ScriptedModel, call, complete, make_kernel

TIMEOUT = 0.05
SLOW = 2.0  # what the late code waits for; the run must not wait that long
LATE = "LATE-ANSWER"


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


# --- code that fights its timeout -------------------------------------------------------


async def returns_after_catching() -> str:
    try:
        await anyio.sleep(SLOW)
    except BaseException:
        return LATE
    return "slept"


async def catches_the_cancelled_class() -> str:
    try:
        await anyio.sleep(SLOW)
    except anyio.get_cancelled_exc_class():  # asyncio.CancelledError or trio.Cancelled
        return LATE
    return "slept"


async def raises_after_catching() -> str:
    try:
        await anyio.sleep(SLOW)
    except BaseException:
        raise ValueError(LATE) from None
    return "slept"


async def keeps_awaiting() -> str:
    with contextlib.suppress(BaseException):  # swallows the cancellation
        await anyio.sleep(SLOW)
    try:  # the scope is still cancelled: the next await is cancelled at once (level)
        await anyio.sleep(SLOW)
    except BaseException:
        return LATE
    return "slept twice"


async def blocks_the_loop() -> str:
    time.sleep(TIMEOUT * 3)  # noqa: ASYNC251 - the point: the deadline cannot fire
    return LATE


def blocks_its_thread() -> str:  # sync: runs in a worker thread, abandoned at the deadline
    time.sleep(SLOW)
    return LATE


FIGHTERS: list[Callable[[], Any]] = [
    returns_after_catching,
    catches_the_cancelled_class,
    raises_after_catching,
    keeps_awaiting,
    blocks_the_loop,
    blocks_its_thread,
]


def _as_tool(fighter: Callable[[], Any]) -> Any:
    async def fight_async() -> str:
        """Fight the timeout."""
        return str(await fighter())

    def fight_sync() -> str:
        """Fight the timeout."""
        return str(fighter())

    fight = fight_async if asyncio.iscoroutinefunction(fighter) else fight_sync
    return plait.tool(name="fight", timeout=TIMEOUT)(fight)


def _check_of(fighter: Callable[[], Any]) -> Callable[[Any], Any]:
    """A guardrail or verifier body that fights, then answers a late allow / pass."""

    async def late_async(subject: Any) -> bool:
        await fighter()
        return True

    def late_sync(subject: Any) -> bool:
        fighter()
        return True

    return late_async if asyncio.iscoroutinefunction(fighter) else late_sync


def _told(result: plait.Result[Any]) -> plait.ToolResultMessage:
    """What the model was told about the first tool call."""
    told = result.messages[2]
    assert isinstance(told, plait.ToolResultMessage)
    return told


# --- tools ----------------------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("fighter", FIGHTERS, ids=lambda f: f.__name__)
async def test_a_tool_fighting_its_timeout_timed_out(fighter: Callable[[], Any]) -> None:
    model = ScriptedModel([[call("fight", id="f1")], "carried on"])
    start = time.perf_counter()
    result = await plait.arun("go", model=model, tools=[_as_tool(fighter)], kernel=make_kernel())
    assert time.perf_counter() - start < SLOW  # the run went on at the timeout
    assert (result.status, result.output) == ("success", "carried on")
    told = _told(result)
    assert told.is_error
    assert told.content == f"Tool 'fight' timed out after {TIMEOUT:g}s."  # as any timeout
    assert LATE not in repr(result.messages) and LATE not in repr(model.requests)


@pytest.mark.anyio
async def test_the_tool_end_event_says_timed_out_not_the_late_value() -> None:
    events: list[Event] = []
    model = ScriptedModel([[call("fight", id="f1")], "ok"])
    await plait.arun(
        "go", model=model, tools=[_as_tool(returns_after_catching)], kernel=make_kernel(),
        handlers=[events.append],
    )  # fmt: skip
    (end,) = [e for e in events if e.kind == "tool.end"]
    assert end.data["ok"] is False and end.data["error"] == "TimeoutError"
    assert end.data["result"] is None and LATE not in repr(end.data)


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])  # trio.Cancelled cannot be made
async def test_a_cancellation_raised_by_the_tool_itself_after_its_deadline(
    anyio_backend: str,
) -> None:
    @plait.tool(timeout=TIMEOUT)
    async def fight() -> str:
        """Swallow the cancellation, then raise a fresh one of its own."""
        with contextlib.suppress(BaseException):
            await anyio.sleep(SLOW)
        raise asyncio.CancelledError

    model = ScriptedModel([[call("fight", id="f1")], "carried on"])
    result = await plait.arun("go", model=model, tools=[fight], kernel=make_kernel())
    assert (result.status, result.output) == ("success", "carried on")
    assert _told(result).content == f"Tool 'fight' timed out after {TIMEOUT:g}s."


# --- guardrails and verifiers (fail closed) -------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize(
    "fighter", [returns_after_catching, keeps_awaiting, blocks_its_thread], ids=lambda f: f.__name__
)
async def test_a_guardrail_fighting_its_timeout_blocks(fighter: Callable[[], Any]) -> None:
    allow = plait.guardrail(name="allow", timeout=TIMEOUT)(_check_of(fighter))
    start = time.perf_counter()
    result = await plait.arun(
        "hi", model=ScriptedModel(["never"]), guardrails=[allow],
        kernel=make_kernel(), raise_on_failure=False,
    )  # fmt: skip
    assert time.perf_counter() - start < SLOW
    assert result.status == "blocked"
    assert result.guardrails[0].action == "block" and result.guardrails[0].error == "timed out"


@pytest.mark.anyio
async def test_a_guardrail_raising_after_its_deadline_still_blocks() -> None:
    @plait.guardrail(timeout=TIMEOUT)
    async def allow(text: str) -> bool:
        await raises_after_catching()
        return True

    result = await plait.arun(
        "hi", model=ScriptedModel(["never"]), guardrails=[allow], kernel=make_kernel(),
        raise_on_failure=False,
    )  # fmt: skip
    assert result.status == "blocked" and result.guardrails[0].action == "block"
    assert result.guardrails[0].error == "timed out"  # the late error is not its answer


@pytest.mark.anyio
@pytest.mark.parametrize(
    "fighter", [returns_after_catching, keeps_awaiting, blocks_its_thread], ids=lambda f: f.__name__
)
async def test_a_verifier_fighting_its_timeout_fails(fighter: Callable[[], Any]) -> None:
    passes = plait.verifier(name="passes", timeout=TIMEOUT)(_check_of(fighter))
    start = time.perf_counter()
    result = await plait.arun(
        "x", model=ScriptedModel([complete(result=1)] * 3), output=int,
        verifiers=[passes], kernel=make_kernel(),
        raise_on_failure=False, limits=plait.Limits(output_retries=0, verifier_retries=0),
    )  # fmt: skip
    assert time.perf_counter() - start < SLOW
    assert (result.status, result.stop_reason) == ("failed", "verifier")
    assert result.verdicts[0].passed is False and result.verdicts[0].error == "timed out"


# --- event handlers ---------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize(
    "fighter", [returns_after_catching, keeps_awaiting], ids=lambda f: f.__name__
)
async def test_a_handler_fighting_its_timeout_is_reported(
    fighter: Callable[[], Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("plait._run._emit.HANDLER_TIMEOUT", TIMEOUT)
    seen: list[Event] = []

    async def fight(event: Event) -> None:
        if event.kind == "run.start":
            await fighter()

    result = await plait.arun(
        "hi", model=ScriptedModel(["fine"]), handlers=[fight, seen.append], kernel=make_kernel()
    )
    assert (result.status, result.output) == ("success", "fine")
    errors = [e.data["error"] for e in seen if e.kind == "plugin.error"]
    assert errors == ["event handler 'fight' timed out on 'run.start'"]


# --- the rule itself, in the one place that calls plugin code -------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("fighter", FIGHTERS[:-1], ids=lambda f: f.__name__)
async def test_call_plugin_discards_whatever_comes_after_the_deadline(
    fighter: Callable[[], Any],
) -> None:
    info = await call_plugin("tool", "fight", fighter, seconds=TIMEOUT)
    assert info.timed_out and isinstance(info.error, TimeoutError) and info.value is None
    assert LATE not in str(info.error)


@pytest.mark.anyio
async def test_an_answer_in_time_is_kept() -> None:
    async def quick() -> str:
        await anyio.lowlevel.checkpoint()
        return "in time"

    info = await call_plugin("tool", "quick", quick, seconds=5)
    assert (info.ok, info.value, info.timed_out) == (True, "in time", False)


@pytest.mark.anyio
async def test_the_runs_own_cancellation_still_propagates() -> None:
    """An outer cancel (the run's) is never turned into the plugin's timeout."""
    reached: list[str] = []

    async def fight() -> str:
        with contextlib.suppress(BaseException):
            await anyio.sleep(SLOW)
        if anyio.get_cancelled_exc_class() is asyncio.CancelledError:
            raise asyncio.CancelledError  # a fresh one, as a confused plugin might
        await anyio.sleep(SLOW)  # trio: re-delivered here
        return LATE

    with anyio.CancelScope() as outer:
        outer.cancel()
        await call_plugin("tool", "fight", fight, seconds=TIMEOUT)
        reached.append("after")  # pragma: no cover - the cancel must propagate
    assert outer.cancelled_caught and reached == []


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])  # asyncio's own cancellation
async def test_a_native_task_cancel_still_propagates(anyio_backend: str) -> None:
    """asyncio's own ``Task.cancel()`` (``asyncio.timeout``, ``wait_for``) is the caller's."""

    async def fight() -> str:
        with contextlib.suppress(BaseException):
            await anyio.sleep(SLOW)
        raise asyncio.CancelledError  # swallowed the caller's cancel, raises a fresh one

    task = asyncio.ensure_future(call_plugin("tool", "fight", fight, seconds=5))
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert task.cancelled()


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])  # trio.Cancelled cannot be made
async def test_a_cancellation_a_tool_raises_unasked_is_its_failure(anyio_backend: str) -> None:
    """Nobody cancelled the run: a ``CancelledError`` the tool raises does not end it."""

    @plait.tool
    async def confused() -> str:
        """Raise a cancellation nobody asked for."""
        raise asyncio.CancelledError

    model = ScriptedModel([[call("confused", id="c1")], "carried on"])
    result = await plait.arun("go", model=model, tools=[confused], kernel=make_kernel())
    assert (result.status, result.output) == ("success", "carried on")
    assert "failed (CancelledError)" in _told(result).content
