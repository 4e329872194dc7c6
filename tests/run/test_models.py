"""The test models and the built-in ``test`` provider, console printer and CallInfo policy."""

from __future__ import annotations

import io

import pytest

import plait
from plait import Event, RequestParams, ResponseDone, TextDelta, ToolCallDelta, UserMessage
from plait._builtins.console import ConsolePrinter
from plait._call import call_plugin, decision_from, verdict_from
from plait._config import PlaitConfig
from plait.testing import FunctionModel, ScriptedModel, Turn, call, make_kernel

MSGS = [UserMessage(content="hi")]


@pytest.mark.anyio
async def test_scripted_model_streams_in_chunks() -> None:
    model = ScriptedModel([Turn(text="abcdef", calls=(call("f", x=1),))], chunk_size=4)
    events = [e async for e in model.stream(MSGS, RequestParams())]
    assert [type(e) for e in events] == [
        TextDelta,
        TextDelta,
        ToolCallDelta,
        ToolCallDelta,
        ResponseDone,
    ]
    first_call = events[2]
    assert isinstance(first_call, ToolCallDelta) and first_call.name == "f"
    done = events[-1]
    assert isinstance(done, ResponseDone)
    assert done.response.message.tool_calls[0].arguments == '{"x": 1}'


@pytest.mark.anyio
async def test_scripted_model_running_out_is_a_clear_error() -> None:
    model = ScriptedModel(["only"])
    await model.request(MSGS, RequestParams())
    with pytest.raises(plait.ProviderError, match="ran out of turns"):
        await model.request(MSGS, RequestParams())


@pytest.mark.anyio
async def test_function_model_sync_and_async() -> None:
    async def afn(messages: list[plait.Message], params: RequestParams) -> str:
        return f"{len(messages)} messages"

    assert (await FunctionModel(afn).request(MSGS, RequestParams())).message.text == "1 messages"
    model = FunctionModel(lambda m, p: call("x"))
    response = await model.request(MSGS, RequestParams())
    assert response.finish_reason == "tool_calls" and len(model.requests) == 1


def test_test_provider_models() -> None:
    kernel = make_kernel()
    assert kernel.model("test:echo").name == "test:echo"
    scripted = kernel.model("test:scripted", turns=["a", "b"])
    assert plait.run("x", model=scripted, kernel=kernel).output == "a"
    fn = kernel.model("test:function", fn=lambda m, p: "f")
    assert plait.run("x", model=fn, kernel=kernel).output == "f"
    with pytest.raises(plait.ModelNotFound):
        kernel.model("test:nope")


def test_console_printer_is_opt_in() -> None:
    assert make_kernel().event_handlers() == []
    kernel = make_kernel(config=PlaitConfig(plugin={"console": {"enabled": True}}))
    assert [h.name for h in kernel.event_handlers()] == ["console"]


def test_console_printer_output() -> None:
    out = io.StringIO()
    plait.run(
        "x",
        model=ScriptedModel([call("f"), "done"]),
        tools=[lambda: "ok"],
        handlers=[ConsolePrinter(out)],
        kernel=make_kernel(),
        raise_on_failure=False,
    )
    text = out.getvalue()
    assert "▶ run" in text and "turn 1: calls" in text and "■" in text


@pytest.mark.anyio
async def test_call_info_becomes_a_fail_closed_decision_and_verdict() -> None:
    async def boom() -> None:
        raise ValueError("secret")

    info = await call_plugin("guardrail", "g", boom, seconds=1)
    assert not info.ok and info.duration >= 0
    decision = decision_from(info, "g", "input")
    assert decision.action == "block" and "secret" not in (decision.reason or "")
    verdict = verdict_from(info, "v")
    assert not verdict.passed and verdict.error == "raised ValueError"
    assert verdict_from(await call_plugin("verifier", "v", _value(None), seconds=1), "v").passed
    odd = verdict_from(await call_plugin("verifier", "v", _value(3), seconds=1), "v")
    assert not odd.passed


def _value(v: object):  # type: ignore[no-untyped-def]
    async def f() -> object:
        return v

    return f


def test_event_round_trip() -> None:
    e = Event("run.start", "r", 0, 1.0, data={"a": 1})
    assert Event.from_dict(e.to_dict()) == e
