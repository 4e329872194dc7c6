"""Events: one envelope, the same sequence for every entry point, isolated handlers."""

from __future__ import annotations

import json
import time
from typing import Any

import anyio
import pytest

import plait
from plait import Event, hookimpl
from plait._kernel import Kernel
from plait.testing import ScriptedModel, Turn, call, make_kernel


def add(a: int, b: int) -> int:
    """Add."""
    return a + b


def script() -> ScriptedModel:
    return ScriptedModel(
        [Turn(text="let me add", calls=(call("add", a=1, b=2),)), "3"], chunk_size=4
    )


EXPECTED = [
    "run.start",
    "model.request",
    "text.delta",
    "text.delta",
    "text.delta",
    "tool_call.delta",
    "tool_call.delta",
    "tool_call.delta",
    "tool_call.delta",
    "model.response",
    "tool.start",
    "tool.end",
    "model.request",
    "text.delta",
    "model.response",
    "run.end",
]


def test_envelope_is_versioned_and_json(kernel: Kernel) -> None:
    events: list[Event] = []
    result = plait.run("x", model=script(), tools=[add], handlers=[events.append], kernel=kernel)
    assert [e.kind for e in events] == EXPECTED
    assert [e.seq for e in events] == list(range(len(events)))
    for e in events:
        assert e.v == 1 and e.run_id == result.run_id
        raw = json.loads(e.to_json())
        assert set(raw) == {"v", "run_id", "parent_run_id", "seq", "ts", "kind", "agent", "data"}
        assert Event.from_dict(raw) == e
    assert events[-1].data["status"] == "success"
    assert events[11].data["ok"] is True


@pytest.mark.anyio
async def test_same_sequence_for_every_entry_point(kernel: Kernel) -> None:
    sequences: dict[str, list[str]] = {}

    def kinds(events: list[Event]) -> list[str]:
        return [e.kind for e in events]

    collected: list[Event] = []
    await plait.arun("x", model=script(), tools=[add], handlers=[collected.append], kernel=kernel)
    sequences["arun"] = kinds(collected)

    async with plait.stream("x", model=script(), tools=[add], kernel=kernel) as s:
        sequences["stream"] = kinds([e async for e in s])

    collected = []
    async for _ in plait.iter(
        "x", model=script(), tools=[add], handlers=[collected.append], kernel=kernel
    ):
        pass
    sequences["iter"] = kinds(collected)

    handle = plait.start("x", model=script(), tools=[add], kernel=kernel)
    await handle.wait()
    sequences["start"] = kinds(list(handle.events))

    collected = []
    plait.run("x", model=script(), tools=[add], handlers=[collected.append], kernel=kernel)
    sequences["run"] = kinds(collected)
    assert all(seq == EXPECTED for seq in sequences.values()), sequences


class Recorder:
    name = "recorder"

    def __init__(self) -> None:
        self.events: list[Event] = []

    async def handle(self, event: Event) -> None:
        self.events.append(event)


def test_handlers_sync_async_and_objects(kernel: Kernel) -> None:
    sync_seen: list[str] = []
    async_seen: list[str] = []

    async def on_event(e: Event) -> None:
        async_seen.append(e.kind)

    rec = Recorder()
    plait.run(
        "x",
        model=ScriptedModel(["hi"]),
        kernel=kernel,
        handlers=[lambda e: sync_seen.append(e.kind), on_event, rec],
    )
    assert sync_seen == async_seen == [e.kind for e in rec.events]
    assert sync_seen[-1] == "run.end"


def test_raising_handler_is_reported_and_the_run_goes_on(kernel: Kernel) -> None:
    def broken(e: Event) -> None:
        raise RuntimeError("handler bug")

    rec = Recorder()
    result = plait.run("x", model=ScriptedModel(["hi"]), handlers=[broken, rec], kernel=kernel)
    assert result.output == "hi"
    errors = [e for e in rec.events if e.kind == "plugin.error"]
    assert errors and errors[0].data["plugin"] == "broken"
    assert "RuntimeError" in errors[0].data["error"]


def test_slow_handler_does_not_slow_the_run(kernel: Kernel) -> None:
    async def slow(e: Event) -> None:
        await anyio.sleep(60)

    events: list[Event] = []
    start = time.perf_counter()
    plait.run(
        "x",
        model=ScriptedModel([call("add", a=1, b=1), "2"]),
        tools=[add],
        handlers=[slow, events.append],
        kernel=kernel,
    )
    # the run itself is not held up; only the bounded flush at the end waits
    assert time.perf_counter() - start < 4
    assert events[-1].kind == "run.end"


def test_plugin_registered_handlers_see_every_run() -> None:
    rec = Recorder()

    class Plugin:
        @hookimpl
        def plait_register_event_handlers(self) -> list[Any]:
            return [rec]

    kernel = make_kernel(Plugin())
    plait.run("x", model=ScriptedModel(["a"]), kernel=kernel)
    plait.run("y", model=ScriptedModel(["b"]), kernel=kernel)
    assert [e.kind for e in rec.events].count("run.end") == 2


def test_guardrail_verdict_and_completion_events(kernel: Kernel) -> None:
    events: list[Event] = []
    plait.run(
        "x",
        model=ScriptedModel([call("complete", {"status": "success", "summary": "s", "result": 1})]),
        output=int,
        guardrails=[lambda t: True],
        verifiers=[lambda c: True],
        handlers=[events.append],
        kernel=kernel,
    )
    kinds = [e.kind for e in events]
    assert {"guardrail", "verdict", "completion"} <= set(kinds)
    assert kinds.index("completion") < kinds.index("verdict")


def test_error_event_for_model_failure(kernel: Kernel) -> None:
    events: list[Event] = []
    plait.run(
        "x",
        model=ScriptedModel([plait.Rejected("bad request", provider="test")]),
        handlers=[events.append],
        kernel=kernel,
        raise_on_failure=False,
    )
    (err,) = [e for e in events if e.kind == "error"]
    assert err.data["type"] == "Rejected"


def test_blocking_sync_handler_runs_off_the_event_loop(kernel: Kernel) -> None:
    import threading

    threads: set[str] = set()

    def blocking(e: Event) -> None:
        threads.add(threading.current_thread().name)
        time.sleep(0.01)  # would stall every run on the loop if called there

    result = plait.run("x", model=ScriptedModel(["abc"]), handlers=[blocking], kernel=kernel)
    assert result.output == "abc"
    assert threads and threading.main_thread().name not in threads
