"""Fuzz the Anthropic Messages decoders: ``parse_message``, ``StreamState``, error events."""

from __future__ import annotations

import pickle
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from plait.provider import ModelResponse, ProviderError, ServerSentEvent, UserMessage
from plait_anthropic.errors import error_from_event
from plait_anthropic.response import parse_message
from plait_anthropic.stream import StreamState
from plait_anthropic.wire import convert_messages, dumps

from ._strategies import (
    JSON,
    bodies,
    check_response,
    decodes_or_typed_error,
    input_size,
    mutated,
    run_stream,
    size_of,
    streams,
    synthetic_events,
)
from .conftest import fuzz_settings

EVENTS = synthetic_events(
    [
        "message_start",
        "content_block_start",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
        "ping",
        "error",
    ]
)
OUTPUT_TOOL = st.sampled_from([None, "final_result", "get_weather"])


def _sent_back(response: ModelResponse) -> None:
    """The decoded answer can be sent back in the next request (replay of raw blocks)."""
    _, turns = convert_messages([UserMessage(content="hi"), response.message])
    dumps({"messages": turns})


@fuzz_settings(300)
@given(body=bodies("anthropic-messages"), output_tool=OUTPUT_TOOL)
def test_parse_message(body: dict[str, Any], output_tool: str | None) -> None:
    response = decodes_or_typed_error(
        lambda: parse_message(body, provider="fuzz", output_tool=output_tool)
    )
    if response is not None:
        check_response(response, size_of(body))
        _sent_back(response)


@fuzz_settings(200)
@given(events=streams("anthropic-messages", EVENTS), output_tool=OUTPUT_TOOL)
def test_stream_state(events: list[ServerSentEvent], output_tool: str | None) -> None:
    state = StreamState(provider="fuzz", output_tool=output_tool, secrets=("sk-fuzz-secret",))
    run_stream(lambda e: state.feed(e.data, e.event), events)
    assert isinstance(state.partial_text(), str)
    response = decodes_or_typed_error(state.finish)
    if response is not None:
        check_response(response, input_size(events))
        _sent_back(response)


ERROR_EVENTS = mutated(
    st.fixed_dictionaries(
        {
            "type": st.just("error"),
            "error": st.fixed_dictionaries(
                {
                    "type": st.sampled_from(["overloaded_error", "rate_limit_error", "x"]),
                    "message": st.text(max_size=20),
                }
            ),
        }
    )
) | st.dictionaries(st.sampled_from(["type", "error", "message"]), JSON, max_size=3)


@fuzz_settings(100)
@given(payload=ERROR_EVENTS.filter(lambda p: isinstance(p, dict)))
def test_error_event(payload: dict[str, Any]) -> None:
    error = error_from_event(payload, provider="fuzz", partial="so far", secrets=("sk-x-123",))
    assert isinstance(error, ProviderError)
    assert isinstance(pickle.loads(pickle.dumps(error)), type(error))
