"""Streamed or not: a turn streams when the run is watched (or ``stream=True``), and is
one unstreamed request otherwise; watchers see the same events either way."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from typing import Any

import pytest
from pydantic import BaseModel

import plait
from plait import Event, ModelSettings, Redactor
from plait._contracts import RequestParams
from plait._kernel import Kernel
from plait._messages import Message, ModelResponse, StreamEvent
from plait.testing import ScriptedModel, Turn, call, complete

pytestmark = pytest.mark.anyio


def add(a: int, b: int) -> int:
    """Add."""
    return a + b


class Spy:
    """A model that records which of its two methods the loop used."""

    def __init__(self, inner: ScriptedModel) -> None:
        self.inner = inner
        self.name = inner.name
        self.used: list[str] = []

    async def request(self, messages: Sequence[Message], params: RequestParams) -> ModelResponse:
        self.used.append("request")
        return await self.inner.request(messages, params)

    def stream(
        self, messages: Sequence[Message], params: RequestParams
    ) -> AsyncIterator[StreamEvent]:
        self.used.append("stream")
        return self.inner.stream(messages, params)

    async def aclose(self) -> None:
        await self.inner.aclose()


def script() -> ScriptedModel:
    """Two turns; streamed, each piece arrives whole (one delta of each kind)."""
    return ScriptedModel([Turn(text="adding", calls=(call("add", a=1, b=2),)), "3"], chunk_size=99)


def spy() -> Spy:
    return Spy(script())


def test_an_unwatched_run_asks_unstreamed(kernel: Kernel) -> None:
    model = spy()
    result = plait.run("x", model=model, tools=[add], kernel=kernel)
    assert (result.output, model.used) == ("3", ["request", "request"])


def test_a_run_with_a_handler_streams(kernel: Kernel) -> None:
    model = spy()
    plait.run("x", model=model, tools=[add], handlers=[lambda e: None], kernel=kernel)
    assert model.used == ["stream", "stream"]


@pytest.mark.parametrize(("stream", "used"), [(True, "stream"), (False, "request")])
def test_the_setting_overrides_the_choice(kernel: Kernel, stream: bool, used: str) -> None:
    settings = ModelSettings(stream=stream)
    unwatched, watched = spy(), spy()
    plait.run("x", model=unwatched, tools=[add], settings=settings, kernel=kernel)
    plait.run("x", model=watched, tools=[add], settings=settings, handlers=[print], kernel=kernel)
    assert unwatched.used == watched.used == [used] * 2


async def test_plait_stream_streams_by_default(kernel: Kernel) -> None:
    model = spy()
    async with plait.stream("x", model=model, tools=[add], kernel=kernel) as s:
        assert (await s.result()).output == "3"
    assert model.used == ["stream", "stream"]


def _kinds(kernel: Kernel, stream: bool) -> list[tuple[str, dict[str, Any]]]:
    events: list[Event] = []
    plait.run(
        "x",
        model=script(),
        tools=[add],
        settings=ModelSettings(stream=stream),
        handlers=[events.append],
        kernel=kernel,
    )
    return [(e.kind, {k: v for k, v in e.data.items() if k != "duration"}) for e in events]


def test_watchers_see_the_same_events_streamed_or_not(kernel: Kernel) -> None:
    streamed, whole = _kinds(kernel, True), _kinds(kernel, False)
    assert whole == streamed
    assert ("text.delta", {"text": "adding"}) in whole
    deltas = [d for k, d in whole if k == "tool_call.delta"]
    assert [(d["index"], d["name"], json.loads(d["arguments"])) for d in deltas] == [
        (0, "add", {"a": 1, "b": 2})
    ]


async def test_an_unstreamed_answer_arrives_as_one_text_delta(kernel: Kernel) -> None:
    model = spy()
    settings = ModelSettings(stream=False)
    async with plait.stream("x", model=model, tools=[add], settings=settings, kernel=kernel) as s:
        pieces = [t async for t in s.text()]
    assert pieces == ["adding", "3"] and model.used == ["request", "request"]


class Point(BaseModel):
    x: int
    y: int


async def test_partial_output_of_an_unstreamed_turn_is_the_whole_result(kernel: Kernel) -> None:
    seen: list[Any] = []
    settings = ModelSettings(stream=False)
    model = ScriptedModel([complete(result={"x": 1, "y": 2})])
    async with plait.stream("x", model=model, output=Point, settings=settings, kernel=kernel) as s:
        async for e in s:
            if e.kind == "tool_call.delta":
                seen.append(s.partial())
        result = await s.result()
    assert result.output == Point(x=1, y=2)
    assert seen == [Point(x=1, y=2)]


def test_an_unstreamed_answer_is_redacted_before_watchers_see_it(kernel: Kernel) -> None:
    events: list[Event] = []
    secret = "correct horse battery staple"
    plait.run(
        "x",
        model=ScriptedModel([f"the password is {secret}"]),
        settings=ModelSettings(stream=False),
        redact=Redactor(secrets=[secret], env=False),
        handlers=[events.append],
        kernel=kernel,
    )
    shown = " ".join(str(e.data) for e in events)
    assert "the password is" in shown and secret not in shown
