"""Built-in plugin ``console``: print a run's events as short lines (opt-in).

It registers a ``ConsolePrinter`` only when the configuration asks for it
(``[tool.plait.plugin.console] enabled = true``), so library users and tests are not
spammed; the CLI passes a ``ConsolePrinter`` as a handler itself.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any, TextIO

from pydantic import BaseModel, ConfigDict

from .._config import PlaitConfig
from .._contracts import EventHandler
from .._events import Event
from .._markers import hookimpl

__all__ = [
    "ConsolePrinter",
    "ConsoleSettings",
    "format_event",
    "plait_register_event_handlers",
]


def _short(value: Any, limit: int = 80) -> str:
    text = str(value).replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def format_event(event: Event) -> str | None:
    """One line for an event, or ``None`` for events not worth a line (deltas)."""
    d = event.data
    k = event.kind
    if k == "run.start":
        return f"▶ run {event.run_id[:8]} model={d.get('model')} tools={d.get('tools')}"
    if k == "model.response":
        calls = ", ".join(c["name"] for c in d.get("tool_calls", []))
        what = f"calls {calls}" if calls else _short(d.get("text", ""))
        return f"  turn {d.get('turn')}: {what}"
    if k == "tool.end":
        mark = "✓" if d.get("ok") else "✗"
        return f"  {mark} {d.get('name')} ({d.get('duration', 0):.3f}s)"
    if k in ("guardrail", "verdict", "limit", "error", "plugin.error", "completion"):
        return f"  {k}: {_short({x: y for x, y in d.items() if y is not None})}"
    if k == "run.end":
        return f"■ {d.get('status')} ({d.get('stop_reason')}) in {d.get('duration', 0):.2f}s"
    return None


class ConsolePrinter:
    """An ``EventHandler`` writing one line per interesting event (text deltas inline)."""

    name = "console"

    def __init__(self, stream: TextIO | None = None, *, deltas: bool = False) -> None:
        self.stream = stream
        self.deltas = deltas

    async def handle(self, event: Event) -> None:
        out = self.stream or sys.stderr
        if event.kind == "text.delta" and event.parent_run_id is not None:
            return  # a sub-run's text: its tool lines and its end say what it did
        if self.deltas and event.kind == "text.delta":
            out.write(event.data["text"])
            out.flush()
            return
        line = format_event(event)
        if line is not None:
            out.write(line + "\n")
            out.flush()


class ConsoleSettings(BaseModel):
    """``[tool.plait.plugin.console]``: ``enabled`` registers the printer; ``deltas``
    prints streamed text as it arrives."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = False
    deltas: bool = False


@hookimpl
def plait_register_event_handlers(config: PlaitConfig) -> Iterable[EventHandler]:
    settings = config.plugin_settings("console", ConsoleSettings)
    if not settings.enabled:
        return []
    return [ConsolePrinter(deltas=settings.deltas)]
