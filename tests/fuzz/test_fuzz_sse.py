"""Fuzz the kernel's SSE framing (``SSEDecoder``).

Properties: arbitrary bytes never raise; events are well typed; and however a byte
stream is split into reads, the events are those of feeding it whole.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from plait.provider import ServerSentEvent, SSEDecoder

from ._strategies import recorded_sse
from .conftest import fuzz_settings

# Bytes that matter to the framing, mixed with anything.
ATOMS = st.sampled_from(
    [b"\n", b"\r", b"\r\n", b"data:", b"data: ", b"event: ", b"id: ", b"retry: ", b":",
     b"\xef\xbb\xbf", b"\x00", b"\xff", b"\xc3", b"12", b"\xc2\xb2", b"[DONE]", b"{}"]
)  # fmt: skip
RANDOM_STREAMS = st.lists(st.one_of(ATOMS, st.binary(max_size=8)), max_size=40).map(b"".join)


@st.composite
def recorded_mutated(draw: st.DrawFn) -> bytes:
    """A piece (up to 1,500 bytes) of a recorded event stream, with a few byte-level edits."""
    api = draw(st.sampled_from(["openai-chat", "openai-responses", "anthropic-messages"]))
    whole = draw(st.sampled_from(recorded_sse(api))).encode()
    start = draw(st.integers(0, max(0, len(whole) - 1)))
    data = bytearray(whole[start : start + draw(st.integers(0, 1500))])
    for _ in range(draw(st.integers(0, 4))):
        at = draw(st.integers(0, len(data)))
        data[at:at] = draw(st.one_of(ATOMS, st.binary(max_size=4)))
    return bytes(data)


STREAMS = st.one_of(RANDOM_STREAMS, st.deferred(recorded_mutated))


def _decode(chunks: list[bytes]) -> list[ServerSentEvent]:
    decoder = SSEDecoder()
    events = [event for chunk in chunks for event in decoder.feed(chunk)]
    return events + decoder.close()


def _split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    return [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]


@fuzz_settings(300)
@given(data=STREAMS, cuts=st.lists(st.integers(0, 10**6), max_size=12))
def test_any_split_gives_the_same_events(data: bytes, cuts: list[int]) -> None:
    whole = _decode([data])
    assert _decode(_split(data, cuts)) == whole
    assert _decode([data[i : i + 1] for i in range(len(data))]) == whole
    for event in whole:
        assert isinstance(event.data, str)
        assert event.event is None or isinstance(event.event, str)
        assert event.id is None or (isinstance(event.id, str) and "\x00" not in event.id)
        assert event.retry is None or (isinstance(event.retry, int) and event.retry >= 0)


@pytest.mark.parametrize(
    "line",
    [b"retry: \xc2\xb2", b"retry: " + b"1" * 5000, b"retry: \xd9\xa3"],
    ids=["superscript-two", "5000-digits", "arabic-indic-three"],
)
def test_a_retry_field_that_is_not_ascii_digits_is_ignored(line: bytes) -> None:
    """Found by fuzzing: ``"²".isdigit()`` is true and ``int`` refuses it; ``int`` also
    refuses more than 4,300 digits; and the standard's digits are ASCII only."""
    assert _decode([line + b"\n\ndata: x\n\n"]) == [ServerSentEvent(data="x")]
