"""A tool that returns an image or a document: its media reach the model as parts, the way
each API allows (Anthropic: in the tool_result; Responses: in function_call_output;
Chat Completions: a user message after the tool messages)."""

from __future__ import annotations

import base64

import pytest

import plait
from plait import Document, Image, Text, ToolCall, ToolResultMessage
from plait.testing import FunctionModel, ScriptedModel, call

from ._wire import PDF, PNG, Capture, recorded, shape

B64_PNG = base64.b64encode(PNG).decode()
B64_PDF = base64.b64encode(PDF).decode()
CALL = ToolCall(id="call_1", name="snapshot", arguments="{}")
STREAM = pytest.mark.parametrize("stream", [False, True], ids=["request", "stream"])


def snapshot() -> Image:
    """Take a picture of the shelf."""
    return Image.from_bytes(PNG)


def scan() -> list[object]:
    """Scan the contract."""
    return ["Page 1 of 1.", Document.from_bytes(PDF, name="contract.pdf")]


def run(api: str, stream: bool, tool: object = snapshot) -> Capture:
    capture = Capture(api, calls=[CALL.model_copy(update={"name": tool.__name__})])  # type: ignore[attr-defined]
    settings = plait.ModelSettings(stream=True) if stream else None
    result = plait.run(
        "What is on the shelf?", model=capture.model(), tools=[tool], settings=settings
    )
    assert result.output == "A cat."
    assert len(capture.bodies) == 2
    return capture


@STREAM
def test_chat_media_follow_the_tool_messages_in_a_user_message(stream: bool) -> None:
    messages = run("chat", stream).bodies[1]["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant", "tool", "user"]
    assert messages[2] == {
        "role": "tool",
        "tool_call_id": "call_1",
        "content": "[image image/png, 72 bytes]",
    }
    assert messages[3]["content"] == [
        {"type": "text", "text": "The snapshot tool (call_1) returned:"},
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{B64_PNG}"}},
    ]


@STREAM
def test_responses_media_go_in_the_function_call_output(stream: bool) -> None:
    items = run("responses", stream, scan).bodies[1]["input"]
    output = next(i for i in items if i.get("type") == "function_call_output")
    assert output["output"] == [
        {"type": "input_text", "text": "Page 1 of 1."},
        {
            "type": "input_file",
            "file_data": f"data:application/pdf;base64,{B64_PDF}",
            "filename": "contract.pdf",
        },
    ]
    body = recorded(
        "openai-responses",
        "models__test_multimodal_tool_returns__test_multimodal_tool_return_matrix[direct-binary-document-openai_responses]",
    )[1]
    assert shape(output["output"][1]) == shape(body["input"][-1]["output"][0])


@STREAM
def test_anthropic_media_go_in_the_tool_result_block(stream: bool) -> None:
    turn = run("anthropic", stream, scan).bodies[1]["messages"][-1]
    block = turn["content"][0]
    assert block["type"] == "tool_result" and block["tool_use_id"] == "call_1"
    document = {
        "type": "document",
        "source": {"type": "base64", "media_type": "application/pdf", "data": B64_PDF},
        "title": "contract.pdf",
    }
    assert block["content"] == [{"type": "text", "text": "Page 1 of 1."}, document]
    body = recorded(
        "anthropic-messages",
        "models__test_multimodal_tool_returns__test_multimodal_tool_return_matrix[direct-binary-document-anthropic]",
    )[1]
    recorded_doc = body["messages"][-1]["content"][0]["content"][0]
    assert shape({k: v for k, v in document.items() if k != "title"}) == shape(recorded_doc)


def test_the_result_message_keeps_text_in_content_and_media_in_parts() -> None:
    model = ScriptedModel([call("scan"), "done"])
    result = plait.run("Scan it", model=model, tools=[scan])
    message = next(m for m in result.messages if isinstance(m, ToolResultMessage))
    assert message.content == "Page 1 of 1."
    assert message.parts == [Document.from_bytes(PDF, name="contract.pdf")]
    seen = model.requests[1].messages[-1]
    assert isinstance(seen, ToolResultMessage) and seen.parts == message.parts


def test_a_tool_returning_text_parts_only_is_plain_text() -> None:
    def note() -> list[object]:
        """Notes."""
        return [Text("one"), "two"]

    model = ScriptedModel([call("note"), "done"])
    result = plait.run("Notes?", model=model, tools=[note])
    message = next(m for m in result.messages if isinstance(m, ToolResultMessage))
    assert message.content == "one\n\ntwo" and message.parts == []


def test_a_text_only_model_is_told_the_image_was_left_out() -> None:
    model = ScriptedModel([call("snapshot"), "done"], input_modalities={"text"})
    result = plait.run("What is on the shelf?", model=model, tools=[snapshot])
    seen = model.requests[1].messages[-1]
    assert isinstance(seen, ToolResultMessage)
    assert seen.parts == []
    assert "not shown" in seen.content and "cannot take image input" in seen.content
    assert result.output == "done"


def test_tool_end_event_summarises_the_media_never_the_bytes() -> None:
    events: list[plait.Event] = []
    model = FunctionModel(lambda m, p: call("snapshot") if len(m) == 1 else "done")
    plait.run("Shelf?", model=model, tools=[snapshot], handlers=[events.append])
    end = next(e for e in events if e.kind == "tool.end")
    assert end.data["parts"] == [{"type": "image", "media_type": "image/png", "bytes": len(PNG)}]
    assert all(B64_PNG not in e.to_json() for e in events)


def test_data_beside_media_is_json_text_and_the_media_stay_out_of_it() -> None:
    def chart() -> list[object]:
        """A chart and its numbers."""
        return [{"max": 3}, Image.from_bytes(PNG)]

    model = ScriptedModel([call("chart"), "done"])
    result = plait.run("Chart?", model=model, tools=[chart])
    message = next(m for m in result.messages if isinstance(m, ToolResultMessage))
    assert message.content == '{"max":3}'
    assert message.parts == [Image.from_bytes(PNG)]
