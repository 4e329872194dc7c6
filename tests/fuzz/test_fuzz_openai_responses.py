"""Fuzz the Responses API decoders: ``responses.parse_response`` and ``StreamParser``."""

from __future__ import annotations

from typing import Any

from hypothesis import given

from plait.provider import ModelResponse, ServerSentEvent
from plait_openai import responses, responses_stream

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

EVENTS = synthetic_events(
    [
        "response.created",
        "response.output_text.delta",
        "response.function_call_arguments.delta",
        "response.reasoning_summary_text.delta",
        "response.reasoning_text.delta",
        "response.output_item.added",
        "response.output_item.done",
        "response.completed",
        "response.incomplete",
        "response.failed",
        "error",
    ]
)


def _sent_back(response: ModelResponse) -> None:
    """The decoded answer can be sent back in the next request."""
    responses.render_input([response.message])


@fuzz_settings(300)
@given(body=bodies("openai-responses"))
def test_parse_response(body: dict[str, Any]) -> None:
    response = decodes_or_typed_error(lambda: responses.parse_response(body, provider="fuzz"))
    if response is not None:
        check_response(response, size_of(body))
        _sent_back(response)


@fuzz_settings(200)
@given(events=streams("openai-responses", EVENTS))
def test_stream_parser(events: list[ServerSentEvent]) -> None:
    parser = responses_stream.StreamParser(provider="fuzz", secrets=("sk-fuzz-secret",))
    run_stream(parser.feed, events, finished=lambda: parser.finished)
    assert isinstance(parser.partial_text(), str)
    response = decodes_or_typed_error(parser.result)
    if response is not None:
        check_response(response, input_size(events))
        _sent_back(response)
