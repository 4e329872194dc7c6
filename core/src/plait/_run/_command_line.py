"""What ``plait run`` was given by reference, for the run to record (a tiny module: the
CLI sets it on every run without importing the store modules).

``plait run`` sets ``COMMAND_LINE`` around its event loop; a top-level recorded run
stores ``CommandLine.recorded()`` in its options under ``cli`` (see ``_durable``), and
``plait runs resume`` imports those references again.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextvars import ContextVar
from typing import Any

__all__ = ["COMMAND_LINE", "CommandLine"]


class CommandLine:
    """``plait run``'s ``--tool`` / ``--output`` references, and the runs it recorded
    (``run_ids``, filled in by the run; for the CLI's messages)."""

    __slots__ = ("output", "run_ids", "tools")

    def __init__(self, tools: Sequence[str] = (), output: str | None = None) -> None:
        self.tools = list(tools)
        self.output = output
        self.run_ids: list[str] = []

    def recorded(self) -> dict[str, Any]:
        return {"tools": list(self.tools), "output": self.output}


COMMAND_LINE: ContextVar[CommandLine | None] = ContextVar("plait_command_line", default=None)
"""Set by ``plait run`` around its run: a top-level recorded run records it under ``cli``."""
