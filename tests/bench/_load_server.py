"""The loopback server of the load benchmark (``bench_load.py``): run as a script.

``python _load_server.py`` binds 127.0.0.1 on a free port, prints the port and serves
OpenAI-compatible chat completions until killed (asyncio, one process). Model ids
choose the answer: ``tool:LATENCY`` answers like ``_openai_mock`` (a tool call, then the
final text) after holding it LATENCY seconds; ``slow:PIECES:GAP`` streams PIECES text
pieces GAP seconds apart (chunked SSE). ``GET /stats`` gives the connections open now,
the most open at once and the requests answered (``?reset`` restarts the last two);
the connection that asks is the benchmark's own and is never counted.
"""

from __future__ import annotations

import asyncio
import json
import socket
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from _openai_mock import USAGE, _chunk, answer


class _Stats:
    """Connections and requests of the server process (one instance per server)."""

    def __init__(self) -> None:
        self.open = self.peak = self.requests = 0


def _slow_stream(model: str) -> list[tuple[float, bytes]]:
    """``slow:PIECES:GAP``: (delay, HTTP chunk) pairs of a trickling SSE answer."""
    _, pieces, gap = model.split(":")
    events = [_chunk({"role": "assistant", "content": ""})]
    events += [_chunk({"content": f"piece{i} "}) for i in range(int(pieces))]
    events += [_chunk({}, "stop") + _chunk({}, usage=USAGE) + b"data: [DONE]\n\n"]
    chunks = [
        (float(gap) if i else 0.0, b"%x\r\n%s\r\n" % (len(e), e)) for i, e in enumerate(events)
    ]
    return [*chunks, (0.0, b"0\r\n\r\n")]


_STREAM_HEAD = (
    b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"
)


class _Connection(asyncio.Protocol):
    """One client connection; the benchmark's own (``GET /stats``) is not counted."""

    def __init__(self, stats: _Stats) -> None:
        self.stats, self.buffer, self.probe = stats, b"", False
        self.transport: asyncio.Transport | None = None
        self.timers: list[asyncio.TimerHandle] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.stats.open += 1
        self.stats.peak = max(self.stats.peak, self.stats.open)

    def connection_lost(self, exc: Exception | None) -> None:
        self.stats.open -= not self.probe
        self.transport = None
        for timer in self.timers:  # the client gave up mid-stream
            timer.cancel()

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while (end := self.buffer.find(b"\r\n\r\n")) >= 0:
            head = self.buffer[:end].lower()
            at = head.find(b"content-length:")
            size = int(head[at + 15 :].split(b"\r\n", 1)[0]) if at >= 0 else 0
            if len(self.buffer) < end + 4 + size:
                return
            body, self.buffer = self.buffer[end + 4 : end + 4 + size], self.buffer[end + 4 + size :]
            self._answer(head, json.loads(body) if body else {})

    def _answer(self, head: bytes, body: dict[str, Any]) -> None:
        stats = self.stats
        if head.startswith(b"get /stats"):
            stats.open -= not self.probe
            self.probe = True
            figures = {"open": stats.open, "peak": stats.peak, "requests": stats.requests}
            if head.startswith(b"get /stats?reset"):
                stats.peak, stats.requests = stats.open, 0
            data = json.dumps(figures).encode()
            self._write(b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n%s" % (len(data), data))
            return
        stats.requests += 1
        self.timers.clear()  # no pipelining: the previous answer was sent in full
        model, loop = str(body.get("model", "")), asyncio.get_running_loop()
        if model.startswith("tool:"):  # tool:LATENCY, the answer held LATENCY seconds
            self.timers.append(loop.call_later(float(model[5:]), self._write, answer(body)[0]))
            return
        self._write(_STREAM_HEAD)
        at = 0.0
        for delay, chunk in _slow_stream(model):
            at += delay
            self.timers.append(loop.call_later(at, self._write, chunk))

    def _write(self, data: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)


def serve() -> None:
    """Bind 127.0.0.1 on a free port, print the port, serve until killed."""

    async def main() -> None:
        stats = _Stats()
        sock = socket.create_server(("127.0.0.1", 0), backlog=4096)
        server = await asyncio.get_running_loop().create_server(
            lambda: _Connection(stats), sock=sock
        )
        print(sock.getsockname()[1], flush=True)
        async with server:
            await server.serve_forever()

    asyncio.run(main())


if __name__ == "__main__":
    serve()
