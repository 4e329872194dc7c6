"""Helpers of plait-mcp's tests: the toy server script, and MCPServers made for it."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio

from plait_mcp import MCPServer

TOY = Path(__file__).parent / "servers" / "toy_server.py"
"""The test server script (``python toy_server.py`` for stdio, ``... http PORT``)."""


def stdio_server(**options: Any) -> MCPServer:
    """A new (unstarted) MCPServer for the toy server over stdio."""
    return MCPServer.stdio(sys.executable, [str(TOY)], name="toy", **options)


def held(server: MCPServer) -> Iterator[MCPServer]:
    """``server`` started and held open for the fixture's scope, then closed."""
    anyio.run(server.__aenter__)
    try:
        yield server
    finally:
        anyio.run(server.__aexit__, None, None, None)


def tool_messages(result: Any) -> list[Any]:
    """The tool results of a run's messages."""
    return [m for m in result.messages if getattr(m, "role", None) == "tool"]
