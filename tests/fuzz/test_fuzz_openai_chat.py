"""Fuzz the Chat Completions decoders: ``chat.parse_response`` and ``chat_stream.StreamParser``.

Whatever a server sends, they return a well-formed response or raise a typed
``ProviderError``; never a ``KeyError``, ``TypeError``, ``AttributeError``...
"""

from __future__ import annotations

from typing import Any

from hypothesis import given

from plait.provider import ModelResponse, ServerSentEvent
from plait_openai import chat
from plait_openai.chat_stream import StreamParser
from plait_openai.options import Options

from ._strategies import (
    bodies,
    check_response,
    decodes_or_typed_error,
    input_size,
    run_stream,
    size_of,
    streams,
    synthetic_events,
)
from .conftest import fuzz_settings

CHUNKS = synthetic_events(["chat.completion.chunk", "error"])


def _sent_back(response: ModelResponse) -> None:
    """The decoded answer can be sent back in the next request."""
    chat.render_messages([response.message], Options())


@fuzz_settings(300)
@given(body=bodies("openai-chat"))
def test_parse_response(body: dict[str, Any]) -> None:
    response = decodes_or_typed_error(lambda: chat.parse_response(body, provider="fuzz"))
    if response is not None:
        check_response(response, size_of(body))
        _sent_back(response)


@fuzz_settings(200)
@given(events=streams("openai-chat", CHUNKS))
def test_stream_parser(events: list[ServerSentEvent]) -> None:
    parser = StreamParser(provider="fuzz", secrets=("sk-fuzz-secret",))
    run_stream(parser.feed, events, finished=lambda: parser.finished)
    assert isinstance(parser.partial_text(), str)
    response = decodes_or_typed_error(parser.result)
    if response is not None:
        check_response(response, input_size(events))
        _sent_back(response)
