"""A plait agent served over MCP: ``plait mcp serve`` (plait-mcp) offers it as one tool.

Serve it to any MCP client (over stdio: the client starts the command)::

    plait mcp serve examples/mcp_serve_agent.py:agent

or over streamable HTTP on 127.0.0.1::

    plait mcp serve examples/mcp_serve_agent.py:agent --transport http --port 8000

Run this file to see a real MCP client (the official SDK's) start that command, list its
tools and call the agent:  python examples/mcp_serve_agent.py

The model here is a scripted stand-in so the example runs offline; give the agent a real
one (``model="openai:gpt-4o-mini"``) or pass ``--model`` to ``plait mcp serve``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import anyio

import plait
from plait.testing import FunctionModel, Turn, call


def convert(amount: float, rate: float) -> float:
    """Convert an amount with an exchange rate."""
    return round(amount * rate, 2)


def _cashier(messages: list[Any], params: Any) -> Any:
    """Calls ``convert`` once, then answers with its result (a real model decides)."""
    done = [m for m in messages if m.role == "tool"]
    if not done:
        return call("convert", amount=10, rate=1.1)
    return Turn(text=f"That is {done[-1].content} USD.")


agent: plait.Agent[str] = plait.Agent(
    "cashier",
    model=FunctionModel(_cashier),
    instructions="You convert currencies. Be brief.",
    tools=[convert],
)


HERE = Path(__file__).resolve()
PLAIT = Path(sys.executable).with_name("plait")  # the installed `plait` command


async def main() -> None:
    from mcp import Client
    from mcp.client.stdio import StdioServerParameters

    server = StdioServerParameters(
        command=str(PLAIT),
        args=["mcp", "serve", f"{HERE}:agent"],
        env=dict(os.environ),  # the server sees what this process sees
    )
    async with Client(server) as client:
        tools = (await client.list_tools()).tools
        print("tools:", ", ".join(t.name for t in tools))
        result = await client.call_tool("cashier", {"task": "10 EUR in USD?"})
        print(f"cashier: {result.content[0].text}")  # type: ignore[union-attr]


if __name__ == "__main__":
    anyio.run(main)
