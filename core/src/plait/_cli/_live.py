"""Show a run as it happens: model text as it arrives, tool calls and results, guardrail
and verifier decisions, and a status line while waiting (only on a terminal).

The status line says what the run waits for and for how long: ``loading model…`` during
the first request of a model that loads on first use (``loads_on_first_request``),
``thinking…`` while a model answers, ``calling NAME…`` while it writes a tool call,
``running NAME…`` while a tool runs. It is never written to a pipe or a file.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any, TextIO

from .._events import Event

__all__ = ["LivePrinter", "loads_on_first_use"]

SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"


def _short(value: Any, limit: int = 100) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    text = text.replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def loads_on_first_use(model: Any) -> bool:
    """True for a model loaded into this process on its first request (it says so)."""
    from .._contracts import optional_attribute

    return bool(optional_attribute(model, "loads_on_first_request"))


@dataclass
class LivePrinter:
    """Turns events into lines on ``out``; ``tty`` enables the status line.

    ``header`` prints the ``▶ model …`` line at the start of a run; ``loading`` says the
    model loads on its first request (the status line then says ``loading model…``).
    ``last_text`` is the text of the last model answer shown.
    """

    out: TextIO
    tty: bool = False
    header: bool = True
    loading: bool = False
    last_text: str = ""
    _spin: int = 0
    _spinning: bool = False
    _in_text: bool = False
    _streamed: bool = False
    _label: str = ""
    _since: float = field(default_factory=time.monotonic)
    _calls: dict[str, str] = field(default_factory=dict)
    _top: str | None = None  # the run being watched; others are its sub-runs

    def _write(self, text: str) -> None:
        self._clear_spinner()
        self.out.write(text)
        self.out.flush()

    def _line(self, text: str) -> None:
        if self._in_text:
            self._write("\n")
            self._in_text = False
        self._write(text + "\n")

    def _clear_spinner(self) -> None:
        if self._spinning:
            self.out.write("\r\033[K")
            self._spinning = False

    def _wait(self, label: str) -> None:
        self._label, self._since = label, time.monotonic()

    def status(self) -> str:
        """What the run waits for now, e.g. ``thinking…`` (the status line's text)."""
        return self._label or ("loading model…" if self.loading else "thinking…")

    def tick(self) -> None:
        """Advance the status line (called about 8 times a second while a run goes on)."""
        if not self.tty or self._in_text:
            return
        self._spin = (self._spin + 1) % len(SPINNER)
        seconds = time.monotonic() - self._since
        self.out.write(f"\r\033[K{SPINNER[self._spin]} {self.status()} {seconds:.0f}s")
        self.out.flush()
        self._spinning = True

    def show(self, event: Event) -> None:
        """Print what this event means for a person watching (a sub-run: its tools)."""
        if self._top is None:
            self._top = event.run_id
        if event.run_id != self._top:
            if event.kind == "tool.start":
                who = event.agent or "sub-run"
                self._line(f"  ↳ {who}: {event.data.get('name')}(…)")
            return
        handler = getattr(self, "_on_" + event.kind.replace(".", "_"), None)
        if handler is not None:
            handler(event.data)

    def _on_run_start(self, d: dict[str, Any]) -> None:
        if self.header:
            tools = ", ".join(d.get("tools") or []) or "none"
            self._line(f"▶ model {d.get('model')} · tools: {tools}")

    def _on_model_request(self, d: dict[str, Any]) -> None:
        self._streamed = False
        self._wait("loading model…" if self.loading else "thinking…")

    def _on_text_delta(self, d: dict[str, Any]) -> None:
        self.loading = False
        self._in_text = self._streamed = True
        self._write(d.get("text", ""))

    def _on_tool_call_delta(self, d: dict[str, Any]) -> None:
        self.loading = False
        if d.get("name"):
            self._wait(f"calling {d['name']}…")

    def _on_model_response(self, d: dict[str, Any]) -> None:
        self.loading = False
        self.last_text = str(d.get("text") or "")
        if not self._streamed and d.get("text"):  # a model that does not stream deltas
            self._line(str(d["text"]))
        self._wait("thinking…")

    def _on_tool_start(self, d: dict[str, Any]) -> None:
        self._calls[str(d.get("id"))] = str(d.get("name"))
        self._line(f"→ {d.get('name')}({_short(d.get('arguments', ''))})")
        self._wait(f"running {d.get('name')}…")

    def _on_tool_end(self, d: dict[str, Any]) -> None:
        name = self._calls.get(str(d.get("id")), d.get("name", "tool"))
        if d.get("ok"):
            self._line(f"← {name}: {_short(d.get('result', 'ok'))}")
        else:  # `message` (redacted text of the error) when the kernel gives it
            why = d.get("message") or d.get("error") or "error"
            self._line(f"← {name} failed: {_short(why)}")

    def _on_tool_skipped(self, d: dict[str, Any]) -> None:
        self._line(f"↺ {d.get('name')} not run again ({d.get('reason')} call)")

    def _on_guardrail(self, d: dict[str, Any]) -> None:
        reason = f" — {d['reason']}" if d.get("reason") else ""
        self._line(
            f"⛨ guardrail {d.get('guardrail')} [{d.get('stage')}]: {d.get('action')}{reason}"
        )

    def _on_verdict(self, d: dict[str, Any]) -> None:
        mark = "✓" if d.get("passed") else "✗"
        reason = f" — {d['reason']}" if d.get("reason") else ""
        self._line(f"{mark} verifier {d.get('verifier')}{reason}")

    def _on_completion(self, d: dict[str, Any]) -> None:
        self._line(f"● complete: {d.get('status')} — {_short(d.get('summary') or '')}")

    def _on_limit(self, d: dict[str, Any]) -> None:
        self._line(f"! limit reached: {d.get('limit')} (on_limit={d.get('on_limit')})")

    def _on_error(self, d: dict[str, Any]) -> None:
        self._line(f"! {d.get('type')}: {_short(d.get('message', ''))}")

    def finish(self) -> None:
        """End any open text line and clear the spinner."""
        self._clear_spinner()
        if self._in_text:
            self._write("\n")
            self._in_text = False
