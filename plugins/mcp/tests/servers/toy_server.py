"""A small MCP server written with the official SDK, for plait-mcp's tests.

Run ``python toy_server.py`` for stdio, or ``python toy_server.py http PORT`` for
streamable HTTP on 127.0.0.1. Its tools cover what the client must handle: text,
structured results, an image, a tool error, a crash, a hang, and a tool-list change.
"""

from __future__ import annotations

import os
import sys
import time

import anyio
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.utilities.types import Image
from pydantic import BaseModel

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)

server = MCPServer("toy")


class Forecast(BaseModel):
    """A structured result."""

    city: str
    celsius: float


@server.tool()
def echo(text: str) -> str:
    """Say the text back."""
    return text


@server.tool()
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@server.tool()
def forecast(city: str) -> Forecast:
    """The weather of a city (a structured result)."""
    return Forecast(city=city, celsius=21.5)


@server.tool()
def picture() -> Image:
    """A one-pixel PNG image."""
    return Image(data=PNG, format="png")


@server.tool()
def fail(reason: str) -> str:
    """Always fails with the reason given."""
    raise ValueError(reason)


@server.tool()
def pid() -> int:
    """The server's process id (tests see a restart through it)."""
    return os.getpid()


@server.tool()
def crash() -> str:
    """End the server process in the middle of the call."""
    sys.stdout.flush()
    os._exit(3)


@server.tool()
async def hang() -> str:
    """Never answer."""
    await anyio.sleep(3600)
    return "late"


@server.tool()
async def grow(name: str, ctx: Context) -> str:
    """Add a tool called ``name`` and tell clients the tool list changed."""

    def extra() -> str:
        """A tool that appeared later."""
        return f"{name}!"

    server.add_tool(extra, name=name)
    await ctx.notify_tools_changed()
    return "grown"


@server.tool()
def header(name: str, ctx: Context) -> str:
    """The value of one HTTP request header (empty over stdio)."""
    return (ctx.headers or {}).get(name.lower(), "")


@server.tool()
def slow(seconds: float) -> str:
    """Sleep, then answer (blocks the server)."""
    time.sleep(seconds)
    return "done"


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "http":
        server.run("streamable-http", host="127.0.0.1", port=int(sys.argv[2]))
    else:
        server.run()
