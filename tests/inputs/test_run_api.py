"""The run API with parts: a list task, ``attachments=``, agents, threads, streams and
events — and the plain text run left exactly as it was."""

from __future__ import annotations

import base64
from typing import Any

import pytest

import plait
from plait import Document, Image, Text, UserMessage
from plait.testing import FunctionModel, ScriptedModel

from ._wire import PDF, PNG

IMAGE = Image.from_bytes(PNG)
B64_PNG = base64.b64encode(PNG).decode()


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def sent(model: Any, index: int = 0) -> Any:
    """The content of the last user message of request ``index``."""
    messages = model.requests[index].messages
    return next(m for m in reversed(messages) if isinstance(m, UserMessage)).content


def test_a_list_task_reaches_the_model_as_parts() -> None:
    model = ScriptedModel(["A cat."])
    result = plait.run([Text("What is in this picture?"), IMAGE], model=model)
    assert result.output == "A cat."
    assert sent(model) == [Text("What is in this picture?"), IMAGE]


def test_str_items_are_text_and_attachments_come_after_the_text() -> None:
    model = ScriptedModel(["ok", "ok"])
    doc = Document.from_bytes(PDF)
    plait.run("What is in this picture?", attachments=[IMAGE, doc], model=model)
    assert sent(model) == [Text("What is in this picture?"), IMAGE, doc]
    plait.run(["Compare", IMAGE], attachments=[doc], model=model)
    assert sent(model, 1) == [Text("Compare"), IMAGE, doc]


@pytest.mark.parametrize(
    ("task", "options", "error", "match"),
    [
        (["Look", 42], {}, TypeError, "got int"),
        (b"\x89PNG", {}, TypeError, "a task is a str or a list of parts"),
        ([], {}, ValueError, "empty list"),
        ("Look", {"attachments": IMAGE}, TypeError, "attachments= takes a list"),
        (None, {"attachments": [IMAGE]}, ValueError, "needs a task"),
    ],
)
def test_bad_tasks_say_what_is_accepted(
    task: Any, options: dict[str, Any], error: type, match: str
) -> None:
    model = ScriptedModel(["never"])
    with pytest.raises(error, match=match):
        plait.run(task, model=model, **options)
    assert model.requests == []


def test_the_plain_text_run_is_unchanged() -> None:
    events: list[plait.Event] = []
    model = ScriptedModel(["hi"])
    plait.run("Hello", model=model, handlers=[events.append])
    assert sent(model) == "Hello"  # a str stays a str
    start = next(e for e in events if e.kind == "run.start")
    assert "inputs" not in start.data


def test_events_summarise_media_and_never_carry_their_bytes() -> None:
    events: list[plait.Event] = []
    plait.run(["What is this?", IMAGE], model=ScriptedModel(["A cat."]), handlers=[events.append])
    start = next(e for e in events if e.kind == "run.start")
    assert start.data["inputs"] == [{"type": "image", "media_type": "image/png", "bytes": len(PNG)}]
    assert all(B64_PNG not in e.to_json() for e in events)


def test_input_guardrails_read_the_text_and_a_rewrite_keeps_the_media() -> None:
    seen: list[Any] = []

    def polite(text: str) -> plait.Decision:
        seen.append(text)
        return plait.Decision(action="replace", replacement="Please describe it.")

    model = ScriptedModel(["A cat.", "A cat."])  # asked while the guardrail runs, then again
    plait.run(["describe!!", IMAGE], model=model, guardrails=[polite])
    assert seen == [f"describe!!\n\n[image image/png, {len(PNG)} bytes]"]
    assert sent(model, len(model.requests) - 1) == [Text("Please describe it."), IMAGE]


def test_an_agent_takes_parts() -> None:
    model = FunctionModel(lambda messages, params: messages[-1].text)
    agent = plait.Agent(model=model, name="looker")
    result = agent.run(["What is this?", IMAGE])
    assert result.output == f"What is this?\n\n[image image/png, {len(PNG)} bytes]"


def test_a_thread_keeps_the_parts_and_sends_them_again(tmp_path: Any) -> None:
    thread = plait.Thread("shelf", store=f"sqlite:///{tmp_path}/t.db")
    model = ScriptedModel(["A cat.", "Grey."])
    plait.run(["What is this?", IMAGE], model=model, thread=thread)
    stored = thread.messages()
    assert stored[0] == UserMessage(content=[Text("What is this?"), IMAGE])
    plait.run("What colour is it?", model=model, thread=thread)
    assert model.requests[1].messages[0] == UserMessage(content=[Text("What is this?"), IMAGE])
    assert model.requests[1].messages[-1] == UserMessage(content="What colour is it?")


@pytest.mark.anyio
async def test_arun_and_stream_take_parts() -> None:
    model = ScriptedModel(["A cat.", "A cat."], chunk_size=2)
    result = await plait.arun("What is this?", attachments=[IMAGE], model=model)
    assert result.output == "A cat."
    async with plait.stream(["What is this?", IMAGE], model=model) as stream:
        text = "".join([e.data["text"] async for e in stream if e.kind == "text.delta"])
    assert text == "A cat."
    assert sent(model, 1) == [Text("What is this?"), IMAGE]


def test_a_part_round_trips_through_json() -> None:
    message = UserMessage(
        content=[Text("What is this?"), IMAGE, Image.from_url("https://x.org/a.png")]
    )
    data = message.model_dump(mode="json")
    assert data["content"][1] == {
        "type": "image",
        "data": B64_PNG,
        "url": None,
        "blob": None,
        "media_type": "image/png",
        "name": None,
        "detail": None,
    }
    assert UserMessage.model_validate_json(message.model_dump_json()) == message
    assert "bytes>" in repr(IMAGE) and B64_PNG not in repr(IMAGE)
