"""SSE framing: line endings, comments, multi-line data, and split independence."""

from __future__ import annotations

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plait._http.sse import ServerSentEvent, SSEDecoder, aiter_sse


def decode(*chunks: bytes) -> list[ServerSentEvent]:
    decoder = SSEDecoder()
    events = [e for chunk in chunks for e in decoder.feed(chunk)]
    return events + decoder.close()


def test_data_lines_join_and_fields_are_read() -> None:
    stream = b"event: delta\nid: 7\nretry: 1500\ndata: one\ndata:two\n\ndata: [DONE]\n\n"
    assert decode(stream) == [
        ServerSentEvent(event="delta", data="one\ntwo", id="7", retry=1500),
        ServerSentEvent(data="[DONE]"),
    ]


@pytest.mark.parametrize("eol", [b"\n", b"\r\n", b"\r"])
def test_every_line_ending(eol: bytes) -> None:
    stream = eol.join([b"data: a", b"", b": comment", b"data: b", b"", b""])
    assert [e.data for e in decode(stream)] == ["a", "b"]


def test_crlf_split_between_reads_is_one_line_ending() -> None:
    assert [e.data for e in decode(b"data: a\r", b"\n\r", b"\ndata: b\r\n\r\n")] == ["a", "b"]


def test_comments_and_unknown_fields_are_ignored() -> None:
    assert decode(b": keep-alive\n\nfoo: bar\n\n") == []


def test_event_without_data_is_dispatched() -> None:
    assert decode(b"event: ping\n\n") == [ServerSentEvent(event="ping")]


def test_bom_and_multibyte_split() -> None:
    raw = "\ufeffdata: héllo ✓\n\n".encode()
    assert [e.data for e in decode(*[raw[i : i + 1] for i in range(len(raw))])] == ["héllo ✓"]


def test_close_flushes_unterminated_last_event() -> None:
    assert [e.data for e in decode(b"data: [DONE]")] == ["[DONE]"]
    assert decode(b"") == []


@pytest.mark.anyio
async def test_aiter_sse_reads_a_streamed_response() -> None:
    body = b"data: 1\n\ndata: 2\n\n"

    async def chunks():  # type: ignore[no-untyped-def]
        for i in range(len(body)):
            yield body[i : i + 1]

    response = httpx.Response(200, content=chunks())
    assert [e.data async for e in aiter_sse(response)] == ["1", "2"]


_text = st.text(
    st.characters(blacklist_characters="\r\n", blacklist_categories=("Cs",)), max_size=20
)
_event = st.tuples(
    st.one_of(st.none(), _text.filter(bool)), st.lists(_text, min_size=1, max_size=3)
)


def _encode(events: list[tuple[str | None, list[str]]], eol: bytes, comments: bool) -> bytes:
    out = bytearray()
    for name, lines in events:
        if comments:
            out += b": ping" + eol
        if name is not None:
            out += b"event: " + name.encode() + eol
        for line in lines:
            out += b"data: " + line.encode() + eol
        out += eol
    return bytes(out)


@settings(max_examples=300, deadline=None)
@given(
    events=st.lists(_event, max_size=8),
    eol=st.sampled_from([b"\n", b"\r\n", b"\r"]),
    comments=st.booleans(),
    cuts=st.lists(st.integers(min_value=0, max_value=10_000), max_size=12),
)
def test_decoding_is_independent_of_how_bytes_are_split(
    events: list[tuple[str | None, list[str]]], eol: bytes, comments: bool, cuts: list[int]
) -> None:
    raw = _encode(events, eol, comments)
    points = sorted({c % (len(raw) + 1) for c in cuts})
    pieces = [raw[a:b] for a, b in zip([0, *points], [*points, len(raw)], strict=True)]
    whole = decode(raw)
    assert decode(*pieces) == whole
    expected = [ServerSentEvent(event=name, data="\n".join(lines)) for name, lines in events]
    assert whole == expected
