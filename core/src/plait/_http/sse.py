"""Server-sent events: an incremental decoder that does not care how bytes are split.

``SSEDecoder.feed`` accepts whatever bytes a read returned and gives back the events
completed by them; ``close`` flushes what is left when the stream ends. Lines end with
CRLF, LF or CR (a CR at the end of one read may be followed by the LF of the next);
``:`` lines are comments; several ``data:`` lines join with ``\\n``.

Unlike the browser algorithm, an event whose block set only ``event``/``id``/``retry`` is
still dispatched (some APIs send ``event: ping`` without data), and ``close`` dispatches
a last event that lacks its blank line: whether a stream ended *properly* is for the
protocol above to judge (``[DONE]``, ``message_stop``), not for the framing.

Sizes are bounded (``Limits.stream_event_bytes``): the lines of one event together, and a
line still waiting for its end (a server that never sends a newline), raise
``ResponseTooLarge`` once past the cap, so memory stays bounded whatever the server sends.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing
from dataclasses import dataclass
from typing import cast

import anyio
import httpx

from .._settings import current_limits
from .body import too_large

__all__ = ["SSEDecoder", "ServerSentEvent", "aiter_sse"]


@dataclass(slots=True)
class ServerSentEvent:
    """One event: ``data`` is the joined data lines; the other fields are ``None`` if unset."""

    event: str | None = None
    data: str = ""
    id: str | None = None
    retry: int | None = None


_TERMINATORS = (b"\n", b"\r")


class SSEDecoder:
    """Incremental SSE parser; one instance per stream.

    ``max_event_bytes`` bounds one event (the bytes of its lines, without line endings)
    and a line still unfinished; default: the run's ``Limits.stream_event_bytes`` (see
    ``current_limits``). Past it, ``feed`` and ``close`` raise ``ResponseTooLarge``.
    """

    __slots__ = (
        "_buf",
        "_data",
        "_event",
        "_id",
        "_max",
        "_pending",
        "_retry",
        "_size",
        "_skip_lf",
        "_started",
    )

    def __init__(self, max_event_bytes: int | None = None) -> None:
        self._buf = b""
        self._skip_lf = False
        self._started = False
        self._max = (
            current_limits().stream_event_bytes if max_event_bytes is None else max_event_bytes
        )
        self._size = 0  # bytes of the lines of the event being read
        self._reset()

    def _reset(self) -> None:
        self._data: list[str] = []
        self._event: str | None = None
        self._id: str | None = None
        self._retry: int | None = None
        self._pending = False

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        """Consume ``chunk``; return the events it completed (often none or one)."""
        if not chunk:
            return []
        if self._skip_lf:
            # The previous read ended in CR; an LF now belongs to that same line ending.
            self._skip_lf = False
            if chunk[:1] == b"\n":
                chunk = chunk[1:]
                if not chunk:
                    return []
        data = self._buf + chunk if self._buf else chunk
        lines = data.splitlines(keepends=True)
        if lines[-1].endswith(_TERMINATORS):
            self._buf = b""
            self._skip_lf = lines[-1].endswith(b"\r")
        else:
            self._buf = lines.pop()
        events: list[ServerSentEvent] = []
        for raw in lines:
            line = raw[:-2] if raw.endswith(b"\r\n") else raw[:-1]
            self._size += len(line)
            if line[:6] == b"data: " and self._started:  # the common case, kept fast
                self._data.append(line[6:].decode("utf-8", errors="replace"))
                self._pending = True
                continue
            event = self._line(line)
            if event is not None:
                events.append(event)
        if self._size + len(self._buf) > self._max:
            raise self._too_large()
        return events

    def _too_large(self) -> Exception:
        return too_large("a server-sent event", "bytes", "stream_event_bytes", self._max)

    def close(self) -> list[ServerSentEvent]:
        """The stream ended: flush a last unterminated line and a pending event."""
        events: list[ServerSentEvent] = []
        if self._buf:
            line, self._buf = self._buf, b""
            self._size += len(line)
            event = self._line(line)
            if event is not None:
                events.append(event)
        event = self._dispatch()
        if event is not None:
            events.append(event)
        return events

    def _line(self, raw: bytes) -> ServerSentEvent | None:
        if not self._started:
            self._started = True
            if raw.startswith(b"\xef\xbb\xbf"):  # a UTF-8 BOM may open the stream
                raw = raw[3:]
        if not raw:
            return self._dispatch()
        line = raw.decode("utf-8", errors="replace")
        name, sep, value = line.partition(":")
        if not name and sep:
            return None  # a comment (keep-alive)
        if value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id":
            if "\x00" not in value:
                self._id = value
        elif name == "retry":
            # ASCII digits only (``"²".isdigit()`` is true, and ``int`` refuses it) and a
            # bounded count (``int`` refuses 4,300 digits): anything else is ignored
            if not (value.isascii() and value.isdigit() and len(value) <= 18):
                return None
            self._retry = int(value)
        else:
            return None  # unknown fields are ignored, as the standard says
        self._pending = True
        return None

    def _dispatch(self) -> ServerSentEvent | None:
        if self._size > self._max:
            raise self._too_large()
        self._size = 0
        if not self._pending:
            return None
        data = self._data[0] if len(self._data) == 1 else "\n".join(self._data)
        event = ServerSentEvent(self._event, data, self._id, self._retry)
        self._reset()
        return event


async def aiter_sse(
    response: httpx.Response,
    *,
    deadline: float | None = None,
    max_event_bytes: int | None = None,
) -> AsyncGenerator[ServerSentEvent, None]:
    """Yield the events of a streamed ``httpx`` response as its bytes arrive.

    ``deadline`` (``anyio.current_time()`` clock) bounds every wait for the network; when
    it passes, ``httpx.ReadTimeout`` is raised (map it like any transport error). The
    cancel scope costs one per network read, not one per event. Use this under
    ``contextlib.aclosing`` when you may stop early (trio insists). ``max_event_bytes``
    bounds one event (``SSEDecoder``; default: the run's ``Limits.stream_event_bytes``).
    """
    decoder = SSEDecoder(max_event_bytes)
    async with aclosing(cast("AsyncGenerator[bytes, None]", response.aiter_bytes())) as chunks:
        while True:
            if deadline is None:
                chunk = await anext(chunks, None)
            else:
                with anyio.CancelScope(deadline=deadline) as scope:
                    chunk = await anext(chunks, None)
                if scope.cancelled_caught:
                    raise httpx.ReadTimeout("the request deadline passed while streaming")
            if chunk is None:
                break
            for event in decoder.feed(chunk):
                yield event
    for event in decoder.close():
        yield event
