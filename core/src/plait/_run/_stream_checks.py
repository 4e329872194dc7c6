"""Stream guardrails: a turn's text checked as it arrives, released as it passes.

A ``stream`` guardrail gets the turn's text so far (a ``str``; rewrites applied). The
text reaches the consumer (``text.delta`` events, ``s.partial()``, handlers) only up to
what every stream guardrail allowed, so a watched run can show text early and still
never show text that is then blocked (docs/guardrails.md, "Streams and output
guardrails").

Cadence: a check is *due* when a piece with a sentence or line end (``. ! ? \\n``)
arrives, or when ``STREAM_CHECK_CHARS`` characters arrived since the last check; at the
end of the turn's text the rest is always checked. Checks run in a task beside the
stream, one at a time, each on the newest text: a slow guardrail is asked less often
and never slows the stream itself. What passed is released up to its last whitespace
(the word being written waits for the next check, so a word split across two checks is
judged whole), or all of it at the end.

A block (``retry`` and ``ask`` too: text may already be shown, the turn cannot start
over unseen) cancels the model request, drops the text not released yet and ends the
run blocked. ``redact``/``replace`` rewrite the text so far: the consumer, later
checks, the history and the output get the rewritten text.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

import anyio

from .._contracts import Decision
from .._messages import AssistantMessage, ModelResponse, Usage
from ._checks import run_stream_guardrails
from ._state import RunState

__all__ = ["STREAM_CHECK_CHARS", "StreamGuard", "check_whole"]

STREAM_CHECK_CHARS = 128
"""Characters after which a check is due even without a sentence or line end."""

_BOUNDARY = re.compile(r"[.!?\n]")

CUT = ModelResponse(
    message=AssistantMessage(), usage=Usage(requests=1), finish_reason="content_filter"
)
"""What a turn a stream guardrail cut off leaves: nothing for the history."""


def _word_end(text: str, start: int) -> int:
    """Where the last whole word of ``text[start:]`` ends (after its last whitespace)."""
    at = max(text.rfind(" ", start), text.rfind("\n", start), text.rfind("\t", start))
    cut = at + 1 if at >= 0 else start
    return len(text) if len(text) - cut > STREAM_CHECK_CHARS else cut


class StreamGuard:
    """The stream guardrails over one turn's text."""

    __slots__ = (
        "blocked",
        "due",
        "ended",
        "guards",
        "last",
        "out",
        "pending",
        "rewritten",
        "shown",
        "size",
        "st",
        "unchecked",
        "wake",
    )

    def __init__(self, st: RunState, out: Callable[[str], None] | None) -> None:
        self.st = st
        self.guards = st.guardrails["stream"]
        self.out = out  # where released text goes (None: nobody watches)
        self.shown = ""  # released so far, rewrites applied
        self.pending: list[str] = []  # received, not released
        self.size = 0  # characters received since the last check began
        self.unchecked = False  # pending holds text no check has seen
        self.due = False
        self.ended = False
        self.blocked = False
        self.rewritten = False
        self.last: list[Decision] | None = None  # the latest allow decisions (kept at the end)
        self.wake: anyio.Event | None = None

    def feed(self, text: str) -> None:
        """One piece of the turn's text has arrived."""
        if self.blocked or not text:
            return
        self.pending.append(text)
        self.size += len(text)
        self.unchecked = True
        if not self.due and (self.size >= STREAM_CHECK_CHARS or _BOUNDARY.search(text)):
            self.due = True
            if self.wake is not None:
                self.wake.set()

    async def check(self) -> bool:
        """Check the text so far and release what passed; ``False`` on a block."""
        end = self.ended
        self.due = self.unchecked = False
        self.size = 0
        shown = self.shown
        text = shown + "".join(self.pending)
        self.pending.clear()  # pieces arriving meanwhile start a new list
        st = self.st
        action, value, decisions = await run_stream_guardrails(
            self.guards, text, shown, st.context()
        )
        if action == "block":
            self.blocked = True
            self.pending.clear()
            st.record(decisions)
            d: Decision = value
            why = f"guardrail {d.guardrail!r} blocked the stream: {d.reason or 'no reason'}"
            st.finish("blocked", "guardrail", why)
            return False
        if value is not text:
            self.rewritten = True
        if all(d.action == "allow" for d in decisions):
            self.last = decisions
        else:  # a rewrite is recorded when it happens
            st.record(decisions)
            self.last = None
        cut = len(value) if end else _word_end(value, len(shown))
        if cut > len(shown) and self.out is not None:
            self.out(value[len(shown) : cut])
        self.shown = value[:cut]
        if cut < len(value):
            self.pending.insert(0, value[cut:])  # checked, held until the next check
        return True

    async def watch(self, scope: anyio.CancelScope) -> None:
        """Check whenever a check is due until the stream ends; a block cancels ``scope``
        (the model request)."""
        while not self.ended:
            if not self.due:
                self.wake = anyio.Event()
                await self.wake.wait()
                self.wake = None
                continue
            if not await self.check():
                scope.cancel()
                return

    def end(self) -> None:
        """The stream is over (complete, failed or cut): stop watching."""
        self.ended = True
        if self.wake is not None:
            self.wake.set()

    async def close(self, response: ModelResponse) -> ModelResponse:
        """The turn's text is complete: check the rest, release it, keep the decisions.

        Returns ``response`` (its text rewritten when a guardrail rewrote it), or ``CUT``
        when the text was blocked (the run is then finished).
        """
        self.ended = True
        if self.blocked:
            return CUT
        if self.unchecked:
            if not await self.check():
                return CUT
        elif self.pending:  # already checked, held back for the word's end only
            rest = "".join(self.pending)
            self.pending.clear()
            if self.out is not None:
                self.out(rest)
            self.shown += rest
        if self.last is not None:
            self.st.record(self.last)
        if not self.rewritten:
            return response
        message = response.message.model_copy(update={"text": self.shown})
        return response.model_copy(update={"message": message})

    async def around(self, reading: Callable[[], Awaitable[ModelResponse]]) -> ModelResponse:
        """Read a streamed turn (``reading``) with the checks running beside it."""
        response: ModelResponse | None = None
        error: Exception | None = None
        async with anyio.create_task_group() as tg:
            tg.start_soon(self.watch, tg.cancel_scope)
            try:
                response = await reading()
            except Exception as exc:  # raised after the task group, unwrapped
                error = exc
                tg.cancel_scope.cancel()
            self.end()
        if error is not None:
            raise error
        if self.blocked or response is None:
            return CUT
        return await self.close(response)


async def check_whole(st: RunState, response: ModelResponse) -> ModelResponse:
    """An unwatched, unstreamed turn: its complete text is checked once."""
    if not response.message.text:
        return response
    guard = StreamGuard(st, None)
    guard.feed(response.message.text)
    return await guard.close(response)
