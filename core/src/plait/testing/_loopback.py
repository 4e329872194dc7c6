"""A tiny HTTP/1.1 server on 127.0.0.1 that plays scripted replies — and misbehaves.

Provider plugins test against it instead of the internet: each request takes the next
``Reply`` (status, headers, body chunks) and the server records what was asked. Faults
are part of the script: ``hang`` (never answer), ``reset_after`` (close the connection
in the middle of a chunked body), ``delay`` between chunks. Built on anyio, so it runs
under asyncio and trio; it needs no other dependency.

    async with LoopbackServer([Reply.json({"ok": True})]) as server:
        ... httpx.AsyncClient(base_url=server.base_url) ...
        server.requests[0].json()
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import anyio
import anyio.abc

__all__ = ["LoopbackServer", "RecordedRequest", "Reply"]


@dataclass(frozen=True)
class Reply:
    """One scripted answer. ``chunks`` are sent as they are (chunked transfer encoding)
    unless ``length`` is set; ``reset_after`` closes the connection after that many
    chunks without finishing the body; ``stall_after`` stops sending (but keeps the
    connection open) after that many chunks; ``hang`` never answers."""

    status: int = 200
    headers: Sequence[tuple[str, str]] = ()
    chunks: Sequence[bytes] = ()
    delay: float = 0.0
    reset_after: int | None = None
    stall_after: int | None = None
    hang: bool = False
    length: bool = False

    @classmethod
    def json(
        cls, payload: Any, status: int = 200, headers: Sequence[tuple[str, str]] = ()
    ) -> Reply:
        """A JSON body with a content-length."""
        body = json.dumps(payload).encode()
        return cls(status, (("content-type", "application/json"), *headers), (body,), length=True)

    @classmethod
    def sse(cls, events: Iterable[str | bytes], **kw: Any) -> Reply:
        """A ``text/event-stream`` body; each item is one chunk on the wire."""
        chunks = tuple(e.encode() if isinstance(e, str) else e for e in events)
        return cls(headers=(("content-type", "text/event-stream"),), chunks=chunks, **kw)

    @classmethod
    def hanging(cls) -> Reply:
        """Accept the request and never answer."""
        return cls(hang=True)


@dataclass
class RecordedRequest:
    """What the server received."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes = b""

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class LoopbackServer:
    """Serves ``replies`` in order (the last one repeats when ``repeat_last``)."""

    replies: list[Reply] = field(default_factory=list)
    repeat_last: bool = False
    requests: list[RecordedRequest] = field(default_factory=list)
    port: int = 0
    _listener: anyio.abc.Listener[Any] | None = None
    _group: anyio.abc.TaskGroup | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def add(self, *replies: Reply) -> None:
        """Append replies to the script."""
        self.replies.extend(replies)

    async def __aenter__(self) -> LoopbackServer:
        listener = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0)
        self.port = int(listener.listeners[0].extra(anyio.abc.SocketAttribute.local_port))
        self._listener = listener
        self._group = anyio.create_task_group()
        await self._group.__aenter__()
        self._group.start_soon(listener.serve, self._handle)
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        assert self._group is not None and self._listener is not None
        self._group.cancel_scope.cancel()
        await self._group.__aexit__(kind, exc, tb)
        await self._listener.aclose()

    def _next_reply(self) -> Reply:
        if len(self.replies) > 1 or (self.replies and not self.repeat_last):
            return self.replies.pop(0)
        if self.replies:
            return self.replies[0]
        return Reply(
            500, (("content-type", "text/plain"),), (b"no scripted reply left",), length=True
        )

    async def _handle(self, stream: anyio.abc.ByteStream) -> None:
        buffer = b""
        try:
            async with stream:
                while True:
                    request, buffer = await _read_request(stream, buffer)
                    if request is None:
                        return
                    self.requests.append(request)
                    if not await _send(stream, self._next_reply()):
                        return
        except (anyio.BrokenResourceError, anyio.ClosedResourceError, anyio.EndOfStream):
            return


async def _read_request(
    stream: anyio.abc.ByteStream, buffer: bytes
) -> tuple[RecordedRequest | None, bytes]:
    while b"\r\n\r\n" not in buffer:
        try:
            buffer += await stream.receive()
        except anyio.EndOfStream:
            return None, b""
    head, _, buffer = buffer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, path, _ = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    size = int(headers.get("content-length", "0"))
    while len(buffer) < size:
        buffer += await stream.receive()
    body, buffer = buffer[:size], buffer[size:]
    return RecordedRequest(method, path, headers, body), buffer


async def _send(stream: anyio.abc.ByteStream, reply: Reply) -> bool:
    """Write one reply; ``False`` when the connection must end afterwards."""
    if reply.hang:
        await anyio.sleep_forever()
    head = [f"HTTP/1.1 {reply.status} Scripted"]
    head += [f"{name}: {value}" for name, value in reply.headers]
    if reply.length:
        head.append(f"content-length: {sum(len(c) for c in reply.chunks)}")
    else:
        head.append("transfer-encoding: chunked")
    await stream.send(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
    for index, chunk in enumerate(reply.chunks):
        if reply.reset_after is not None and index >= reply.reset_after:
            return False
        if reply.stall_after is not None and index >= reply.stall_after:
            await anyio.sleep_forever()
        if reply.delay:
            await anyio.sleep(reply.delay)
        if reply.length:
            await stream.send(chunk)
        elif chunk:
            await stream.send(b"%x\r\n%b\r\n" % (len(chunk), chunk))
    if reply.reset_after is not None:
        return False
    if not reply.length:
        await stream.send(b"0\r\n\r\n")
    return True
