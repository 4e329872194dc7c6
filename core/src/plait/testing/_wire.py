"""What the HTTP provider suite sends and expects: canned requests, the ``WireAdapter``
protocol a plugin implements to render answers in its API's format, and small helpers.
"""

from __future__ import annotations

import pickle
import socket
from collections.abc import Mapping, Sequence
from typing import Any, Literal, Protocol

import anyio
import anyio.lowlevel

from plait._contracts import Model, OutputSpec, RequestParams, ToolSpec
from plait._errors import (
    AuthenticationFailed,
    ContextWindowExceeded,
    ModelNotFound,
    ProviderError,
    QuotaExceeded,
    RateLimited,
    Rejected,
    ServerError,
    Unavailable,
)
from plait._messages import (
    SystemMessage,
    ToolCall,
    UserMessage,
)

from ._loopback import Reply

__all__ = ["CONFORMANCE_KEY", "ErrorKind", "WireAdapter", "assert_no_secret"]

CONFORMANCE_KEY = "sk-conformance-7f3a9c1e5b2d4f6a8c0e1b3d5f7a9c1e"
"""The API key ``make_model`` must use; the suite checks it never leaks."""

ErrorKind = Literal[
    "invalid_request", "authentication", "permission", "not_found", "rate_limit",
    "quota", "context_length", "server", "overloaded",
]  # fmt: skip

MESSAGES = (SystemMessage(content="Be brief."), UserMessage(content="Hello?"))
TOOLS = (
    ToolSpec(
        "get_weather",
        "Weather in a city.",
        {"type": "object", "properties": {"city": {"type": "string"}}},
    ),
    ToolSpec(
        "get_time",
        "Time in a city.",
        {"type": "object", "properties": {"city": {"type": "string"}}},
    ),
)
OUTPUT = OutputSpec(
    "forecast",
    {
        "type": "object",
        "properties": {"city": {"type": "string"}, "celsius": {"type": "number"}},
        "required": ["city", "celsius"],
        "additionalProperties": False,
    },
)
CALLS = (
    ToolCall(id="call_1", name="get_weather", arguments='{"city": "Paris"}'),
    ToolCall(id="call_2", name="get_time", arguments='{"city": "Oslo"}'),
)
TEXT = "The weather in Paris is sunny and warm today."
ERROR_CASES: Sequence[tuple[int, ErrorKind, tuple[tuple[str, str], ...], type[ProviderError]]] = (
    (400, "invalid_request", (), Rejected),
    (401, "authentication", (), AuthenticationFailed),
    (403, "permission", (), AuthenticationFailed),
    (404, "not_found", (), ModelNotFound),
    (400, "context_length", (), ContextWindowExceeded),
    (402, "quota", (), QuotaExceeded),
    (429, "quota", (), QuotaExceeded),
    (429, "rate_limit", (("retry-after", "7"),), RateLimited),
    (429, "rate_limit", (("retry-after-ms", "1500"),), RateLimited),
    (500, "server", (), ServerError),
    (503, "overloaded", (), Unavailable),
    (529, "overloaded", (), Unavailable),
)
STREAM_ERRORS: Sequence[tuple[ErrorKind, type[ProviderError]]] = (
    ("rate_limit", RateLimited),
    ("overloaded", Unavailable),
    ("server", ServerError),
    ("invalid_request", Rejected),
)


class WireAdapter(Protocol):
    """Renders canned model behaviour in one API's wire format, as ``Reply`` objects."""

    def text(self, text: str, *, stream: bool, input_tokens: int, output_tokens: int) -> Reply:
        """A complete text answer (streamed: several text chunks, then the terminal event)."""
        ...

    def tool_calls(
        self, calls: Sequence[ToolCall], *, stream: bool, input_tokens: int, output_tokens: int
    ) -> Reply:
        """An answer that calls these tools in parallel (streamed: arguments in pieces)."""
        ...

    def error(self, status: int, kind: ErrorKind, headers: Sequence[tuple[str, str]] = ()) -> Reply:
        """An HTTP error response with the API's error body for ``kind``."""
        ...

    def stream_error(self, kind: ErrorKind, *, after_text: str) -> Reply:
        """A 200 stream that sends ``after_text`` (if any), then an error object."""
        ...

    def truncated_stream(self, text: str) -> Reply:
        """A stream that sends ``text`` and ends cleanly without its terminal event."""
        ...

    def malformed_stream(self) -> Reply:
        """A stream with a ``data:`` line that is not valid JSON."""
        ...

    def empty(self) -> Reply:
        """A 200 JSON answer without any content (e.g. ``choices: []``)."""
        ...

    def output_schema(self, body: Mapping[str, Any]) -> Mapping[str, Any] | None:
        """Where the structured-output JSON schema sits in a request body (``None``: absent)."""
        ...

    def tool_names(self, body: Mapping[str, Any]) -> list[str]:
        """The names of the tools offered in a request body."""
        ...


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _collect(model: Model, params: RequestParams) -> list[Any]:
    return [event async for event in model.stream(MESSAGES, params)]


async def _no_sleep(seconds: float) -> None:
    await anyio.lowlevel.checkpoint()


def assert_no_secret(error: BaseException) -> None:
    """The conformance key appears nowhere in the error, its repr, pickle or cause chain."""
    seen: BaseException | None = error
    while seen is not None:
        for text in (str(seen), repr(seen), repr(getattr(seen, "__dict__", {}))):
            assert CONFORMANCE_KEY not in text
        seen = seen.__cause__ or seen.__context__
    assert CONFORMANCE_KEY.encode() not in pickle.dumps(error)
    clone = pickle.loads(pickle.dumps(error))
    assert type(clone) is type(error)
    assert str(clone) == str(error)
