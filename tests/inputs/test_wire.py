"""Each part type on each wire format: what plait sends, streamed and not, checked
against the APIs' documented shapes and the recorded traffic (tests/data/provider-traffic)."""

from __future__ import annotations

import base64
from typing import Any

import pytest

import plait
from plait import Audio, Document, Image

from ._wire import PDF, PNG, WAV, Capture, recorded, shape

B64_PNG = base64.b64encode(PNG).decode()
B64_PDF = base64.b64encode(PDF).decode()
B64_WAV = base64.b64encode(WAV).decode()
URL = "https://example.com/cat.png"
PDF_URL = "https://example.com/report.pdf"

STREAM = pytest.mark.parametrize("stream", [False, True], ids=["request", "stream"])


def ask(capture: Capture, part: Any, stream: bool, model_id: str | None = None) -> Any:
    settings = plait.ModelSettings(stream=True) if stream else None
    result = plait.run(["What is this?", part], model=capture.model(model_id), settings=settings)
    assert result.output == "A cat."
    return capture.user_content()


# --- Chat Completions -------------------------------------------------------------------


@STREAM
def test_chat_image_bytes_go_as_a_data_url(stream: bool) -> None:
    content = ask(Capture("chat"), Image.from_bytes(PNG, detail="low"), stream)
    assert content == [
        {"type": "text", "text": "What is this?"},
        {
            "type": "image_url",
            "image_url": {"url": f"data:image/png;base64,{B64_PNG}", "detail": "low"},
        },
    ]


@STREAM
def test_chat_image_url_is_passed_as_a_url(stream: bool) -> None:
    content = ask(Capture("chat"), Image.from_url(URL), stream)
    assert content[1] == {"type": "image_url", "image_url": {"url": URL}}
    # the shape OpenAI's API took in the recorded traffic
    body = recorded(
        "openai-chat",
        "models__test_multimodal_tool_returns__test_multimodal_tool_return_matrix[direct-url-image-openai_chat]",
    )[1]
    assert shape(content[1]) == shape(body["messages"][3]["content"][1])


@STREAM
def test_chat_pdf_goes_as_a_file(stream: bool) -> None:
    content = ask(Capture("chat"), Document.from_bytes(PDF, name="report.pdf"), stream)
    assert content[1] == {
        "type": "file",
        "file": {"file_data": f"data:application/pdf;base64,{B64_PDF}", "filename": "report.pdf"},
    }
    body = recorded(
        "openai-chat", "models__test_openrouter__test_openrouter_document_url_no_force_download"
    )[0]
    assert shape(content[1]) == shape(body["messages"][0]["content"][1])


def test_chat_text_document_goes_as_framed_text() -> None:
    doc = Document.from_bytes(b"version: 3\n", "text/yaml", name="compose.yaml")
    content = ask(Capture("chat"), doc, False)
    assert content[1]["type"] == "text"
    assert 'name="compose.yaml" type="text/yaml"' in content[1]["text"]
    assert "version: 3" in content[1]["text"]


@STREAM
def test_chat_audio_goes_as_input_audio_on_an_audio_model(stream: bool) -> None:
    content = ask(Capture("chat"), Audio.from_bytes(WAV), stream, "gpt-4o-audio-preview")
    assert content[1] == {"type": "input_audio", "input_audio": {"data": B64_WAV, "format": "wav"}}
    body = recorded("openai-chat", "models__test_openai__test_audio_as_binary_content_input")[0]
    assert shape(content[1]) == shape(body["messages"][0]["content"][1])


# --- Responses ----------------------------------------------------------------------------


@STREAM
def test_responses_image_bytes_and_url(stream: bool) -> None:
    content = ask(Capture("responses"), Image.from_bytes(PNG), stream)
    assert content == [
        {"type": "input_text", "text": "What is this?"},
        {"type": "input_image", "image_url": f"data:image/png;base64,{B64_PNG}", "detail": "auto"},
    ]
    content = ask(Capture("responses"), Image.from_url(URL, detail="high"), stream)
    assert content[1] == {"type": "input_image", "image_url": URL, "detail": "high"}
    body = recorded(
        "openai-responses",
        "models__test_multimodal_tool_returns__test_multimodal_tool_return_matrix[tool_return_content-url-image-openai_responses]",
    )[1]
    assert shape(content[1]) == shape(body["input"][-1]["content"][0])


@STREAM
def test_responses_document_bytes_and_url(stream: bool) -> None:
    content = ask(Capture("responses"), Document.from_bytes(PDF), stream)
    assert content[1] == {
        "type": "input_file",
        "file_data": f"data:application/pdf;base64,{B64_PDF}",
        "filename": "document.pdf",
    }
    body = recorded(
        "openai-responses",
        "models__test_openai_responses__test_openai_responses_document_as_binary_content_input",
    )[0]
    assert shape(content[1]) == shape(body["input"][0]["content"][1])
    content = ask(Capture("responses"), Document.from_url(PDF_URL), stream)
    assert content[1] == {"type": "input_file", "file_url": PDF_URL}
    body = recorded(
        "openai-responses", "models__test_openai__test_document_url_input_response_api"
    )[0]
    assert shape(content[1]) == shape(body["input"][0]["content"][1])


# --- Anthropic Messages ---------------------------------------------------------------------


@STREAM
def test_anthropic_image_bytes_and_url(stream: bool) -> None:
    content = ask(Capture("anthropic"), Image.from_bytes(PNG), stream)
    assert content == [
        {"type": "text", "text": "What is this?"},
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": B64_PNG}},
    ]
    content = ask(Capture("anthropic"), Image.from_url(URL), stream)
    assert content[1] == {"type": "image", "source": {"type": "url", "url": URL}}
    body = recorded("anthropic-messages", "models__test_anthropic__test_image_url_input")[0]
    assert shape(content[1]) == shape(body["messages"][0]["content"][1])


@STREAM
def test_anthropic_documents_pdf_text_and_url(stream: bool) -> None:
    content = ask(Capture("anthropic"), Document.from_bytes(PDF), stream)
    source = {"type": "base64", "media_type": "application/pdf", "data": B64_PDF}
    assert content[1] == {"type": "document", "source": source}
    body = recorded(
        "anthropic-messages", "models__test_anthropic__test_document_binary_content_input"
    )[0]
    assert shape(content[1]) == shape(body["messages"][0]["content"][1])

    content = ask(
        Capture("anthropic"), Document.from_bytes(b"Dummy TXT file\n", "text/plain"), stream
    )
    source = {"type": "text", "media_type": "text/plain", "data": "Dummy TXT file\n"}
    assert content[1] == {"type": "document", "source": source}
    body = recorded(
        "anthropic-messages", "models__test_anthropic__test_text_document_as_binary_content_input"
    )[0]
    assert content[1] == body["messages"][0]["content"][1]  # the very block the API took

    content = ask(Capture("anthropic"), Document.from_url(PDF_URL), stream)
    assert content[1] == {"type": "document", "source": {"type": "url", "url": PDF_URL}}
    body = recorded("anthropic-messages", "models__test_anthropic__test_document_url_input")[0]
    assert shape(content[1]) == shape(body["messages"][0]["content"][1])


def test_a_plain_text_task_is_still_a_string_on_every_wire() -> None:
    for api in ("chat", "responses", "anthropic"):
        capture = Capture(api)
        plait.run("Hello", model=capture.model())
        content = capture.user_content()
        assert content == ("Hello" if api != "anthropic" else [{"type": "text", "text": "Hello"}])


def test_a_media_type_the_api_cannot_take_is_refused_while_the_body_is_built() -> None:
    ogg = Audio.from_bytes(b"OggS" + bytes(32))
    capture = Capture("chat")
    with pytest.raises(plait.UnsupportedInput, match="wav or mp3"):
        plait.run(["Listen", ogg], model=capture.model("gpt-4o-audio-preview"))
    assert capture.bodies == []
    tiff = Image.from_bytes(b"II*\x00" + bytes(16), "image/tiff")
    capture = Capture("anthropic")
    with pytest.raises(plait.UnsupportedInput, match="JPEG, PNG, GIF or WebP"):
        plait.run(["Look", tiff], model=capture.model())
    assert capture.bodies == []
