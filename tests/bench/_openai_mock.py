"""A fast OpenAI-compatible mock server for the provider benchmark (asyncio, loopback).

Model ids choose the behaviour: ``bench-tool`` answers a tool call first and the final
text once the last message is a tool result (JSON, or SSE when ``stream`` is set);
``bench-stream`` streams 500 text chunks; a conversation whose first message contains
``[slow]`` is answered after ``SLOW_SECONDS`` (to hold runs in flight while memory is
measured), and ``GET /held`` answers how many such requests it holds now, so the client
measures once every run is really in flight. Responses are rendered once; the server
does as little work per request as it can.
"""

from __future__ import annotations

import asyncio
import json
import socket
from typing import Any

STREAM_CHUNKS = 500
SLOW_SECONDS = 60.0  # the client measures, then cancels its runs
FINAL_TEXT = "The weather in Paris is sunny, 21 degrees."
CALL = {
    "id": "call_1",
    "type": "function",
    "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
}
USAGE = {"prompt_tokens": 50, "completion_tokens": 10, "total_tokens": 60}


def _completion(message: dict[str, Any], finish: str) -> bytes:
    choice = {"index": 0, "message": {"role": "assistant", **message}, "finish_reason": finish}
    body = {
        "id": "chatcmpl-b",
        "object": "chat.completion",
        "created": 0,
        "model": "bench",
        "choices": [choice],
        "usage": USAGE,
    }
    return json.dumps(body).encode()


def _chunk(delta: dict[str, Any], finish: str | None = None, usage: Any = None) -> bytes:
    choices = [] if usage else [{"index": 0, "delta": delta, "finish_reason": finish}]
    body = {
        "id": "chatcmpl-b",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": "bench",
        "choices": choices,
    }
    if usage:
        body["usage"] = usage
    return b"data: " + json.dumps(body).encode() + b"\n\n"


def _sse(deltas: list[dict[str, Any]], finish: str) -> bytes:
    parts = [_chunk({"role": "assistant", "content": ""})] + [_chunk(d) for d in deltas]
    parts += [_chunk({}, finish), _chunk({}, usage=USAGE), b"data: [DONE]\n\n"]
    return b"".join(parts)


def _http(body: bytes, content_type: str) -> bytes:
    head = f"HTTP/1.1 200 OK\r\ncontent-type: {content_type}\r\ncontent-length: {len(body)}\r\n\r\n"
    return head.encode() + body


JSON, SSE = "application/json", "text/event-stream"
RESPONSES = {
    ("call", False): _http(
        _completion({"content": None, "tool_calls": [CALL]}, "tool_calls"), JSON
    ),
    ("final", False): _http(_completion({"content": FINAL_TEXT}, "stop"), JSON),
    ("call", True): _http(
        _sse(
            [
                {
                    "tool_calls": [
                        {"index": 0, **CALL, "function": {"name": "get_weather", "arguments": ""}}
                    ]
                },
                {
                    "tool_calls": [
                        {"index": 0, "function": {"arguments": CALL["function"]["arguments"]}}
                    ]
                },
            ],
            "tool_calls",
        ),
        SSE,
    ),
    ("final", True): _http(_sse([{"content": w + " "} for w in FINAL_TEXT.split()], "stop"), SSE),
    ("stream", True): _http(
        _sse([{"content": f"tok{i} "} for i in range(STREAM_CHUNKS)], "stop"), SSE
    ),
}


def answer(body: dict[str, Any]) -> tuple[bytes, float]:
    """The pre-rendered response for a request body, and the delay before sending it."""
    model = body.get("model", "")
    stream = bool(body.get("stream"))
    if model == "bench-stream":
        return RESPONSES["stream", True], 0.0
    messages = body.get("messages") or [{}]
    kind = "final" if messages[-1].get("role") == "tool" else "call"
    slow = "[slow]" in str(messages[0].get("content"))
    return RESPONSES[kind, stream], SLOW_SECONDS if slow else 0.0


class _Held:
    """How many slow requests the server holds (one per server process)."""

    def __init__(self) -> None:
        self.count = 0


class _Protocol(asyncio.Protocol):
    def __init__(self, held: _Held) -> None:
        self.buffer = b""
        self.transport: asyncio.Transport | None = None
        self.held = held
        self.timers: list[asyncio.TimerHandle] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end].lower()
            at = head.find(b"content-length:")
            size = int(head[at + 15 :].split(b"\r\n", 1)[0]) if at >= 0 else 0
            if len(self.buffer) < end + 4 + size:
                return
            body = self.buffer[end + 4 : end + 4 + size]
            self.buffer = self.buffer[end + 4 + size :]
            if head.startswith(b"get /held "):
                self._write(_http(json.dumps({"held": self.held.count}).encode(), JSON))
                continue
            response, delay = answer(json.loads(body) if body else {})
            if delay:
                self.held.count += 1
                loop = asyncio.get_running_loop()
                self.timers.append(loop.call_later(delay, self._release, response))
            else:
                self._write(response)

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        for timer in self.timers:  # the client gave up: these are held no more
            timer.cancel()
            self.held.count -= 1
        self.timers.clear()

    def _release(self, response: bytes) -> None:
        self.timers.pop(0)
        self.held.count -= 1
        self._write(response)

    def _write(self, response: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(response)


def serve(sock: socket.socket) -> None:
    """Serve forever on an already bound, listening socket (run in its own process)."""

    async def main() -> None:
        held = _Held()
        server = await asyncio.get_running_loop().create_server(
            lambda: _Protocol(held), sock=sock, backlog=4096
        )
        async with server:
            await server.serve_forever()

    asyncio.run(main())
