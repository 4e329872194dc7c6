"""An MCP server's tool as a plait ``Tool``, and tool names that providers accept."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import mcp_types as types

from ._results import to_plait

if TYPE_CHECKING:
    from plait import Context

    from ._server import MCPServer

__all__ = ["MCPTool", "tool_name"]

_ALLOWED = re.compile(r"[^a-zA-Z0-9_-]")
MAX_NAME = 64
"""Providers accept tool names of 1 to 64 characters ``[a-zA-Z0-9_-]``."""
TIMEOUT_GRACE = 1.0
"""Seconds the run waits past the server's own bounds (``startup_timeout`` to (re)start
it, then ``timeout`` for the call), so those fire first: they name what went wrong and
restart a hung server."""


def tool_name(remote: str, prefix: str | None) -> str:
    """``prefix_remote`` made to fit provider rules: other characters become ``_``, and a
    name too long is cut and given a short hash of the whole (so two stay apart)."""
    name = _ALLOWED.sub("_", f"{prefix}_{remote}" if prefix else remote) or "tool"
    if len(name) > MAX_NAME:
        digest = hashlib.sha256(name.encode()).hexdigest()[:8]
        name = f"{name[: MAX_NAME - 9]}_{digest}"
    return name


class MCPTool:
    """One tool of an MCP server: calling it calls the server (started if need be)."""

    def __init__(self, server: MCPServer, spec: types.Tool, name: str) -> None:
        self.server = server
        self.remote_name = spec.name
        self.name = name
        self.description = spec.description or spec.title or ""
        self.parameters: Mapping[str, Any] = dict(spec.input_schema)
        self.output_schema = spec.output_schema
        self.timeout: float | None = (
            None
            if server.timeout is None
            else server.startup_timeout + server.timeout + TIMEOUT_GRACE
        )
        self.retries: int | None = None
        self.idempotent = False  # a server's hints are not trusted to skip a call on resume
        self.requires_approval = server.requires_approval
        self.sequential = False

    def __repr__(self) -> str:
        return f"<MCP tool {self.name!r} of server {self.server.name!r}>"

    async def call(self, args: Mapping[str, Any], ctx: Context[Any]) -> Any:
        """Call the tool on the server; the result mapped by ``_results.to_plait``."""
        result = await self.server.call_remote(self.remote_name, dict(args))
        return to_plait(result, self.name)
