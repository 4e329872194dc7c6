"""What an MCP tool call costs through plait, against the SDK's own client (the limit).

    python tests/bench/bench_mcp.py [--calls 200] [--rounds 5]

One stdio MCP server (written with the SDK, started once per form) with an ``add`` tool.
Wall-clock per call, median over rounds of ``--calls`` calls each:

* ``sdk``: ``mcp.client.Client.call_tool`` on the caller's own loop (nothing of plait);
* ``plait tool``: the ``MCPServer`` tool's ``call`` (the server's session lives on its
  own host loop and thread: one hop each way);
* ``plait run, MCP tool`` / ``plait run, local tool``: a whole two-turn run
  (``ScriptedModel``) calling the MCP tool, or the same function as a plain tool.

Needs plait-mcp (``make setup`` installs it). Figures: docs/performance.md.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio

import plait
from plait.testing import ScriptedModel, call

SERVER = """
from mcp.server.mcpserver import MCPServer

server = MCPServer("bench")


@server.tool()
def add(a: int, b: int) -> int:
    \"\"\"Add two integers.\"\"\"
    return a + b


server.run()
"""


def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


async def _per_call(calls: int, once: Callable[[], Awaitable[Any]]) -> float:
    await once()  # warm: connect, list, first call
    start = time.perf_counter()
    for _ in range(calls):
        await once()
    return (time.perf_counter() - start) / calls


async def sdk(script: Path, calls: int) -> float:
    from mcp.client import Client
    from mcp.client.stdio import StdioServerParameters

    params = StdioServerParameters(command=sys.executable, args=[str(script)])
    async with Client(params) as client:
        return await _per_call(calls, lambda: client.call_tool("add", {"a": 2, "b": 3}))


async def plait_tool(script: Path, calls: int) -> float:
    from plait_mcp import MCPServer

    async with MCPServer.stdio(sys.executable, [str(script)], name="bench") as server:
        [tool] = [t for t in await server.list_tools() if t.name == "add"]
        return await _per_call(calls, lambda: tool.call({"a": 2, "b": 3}, None))


async def plait_run(script: Path, calls: int, *, mcp: bool) -> float:
    from plait_mcp import MCPServer

    kernel = plait.Kernel(entry_points=())
    tools: list[Any] = [plait.tool(add)]
    server = MCPServer.stdio(sys.executable, [str(script)], name="bench")
    if mcp:
        tools = [server]

    def once() -> Awaitable[Any]:
        model = ScriptedModel([call("add", a=2, b=3), "5"])
        return plait.arun("add 2 and 3", model=model, tools=tools, kernel=kernel)

    async with server:  # held across runs, as a long-lived kernel or agent would
        result = await _per_call(calls, once)
    await kernel.aclose()
    return result


async def main(calls: int, rounds: int) -> dict[str, float]:
    """Median seconds per call (or per run) of each form."""
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "server.py"
        script.write_text(SERVER)
        forms: dict[str, Callable[[], Awaitable[float]]] = {
            "sdk": lambda: sdk(script, calls),
            "plait tool": lambda: plait_tool(script, calls),
            "plait run, MCP tool": lambda: plait_run(script, calls, mcp=True),
            "plait run, local tool": lambda: plait_run(script, calls, mcp=False),
        }
        figures: dict[str, list[float]] = {name: [] for name in forms}
        for _ in range(rounds):  # interleaved: load on the machine hits every form alike
            for name, form in forms.items():
                figures[name].append(await form())
    return {name: statistics.median(values) for name, values in figures.items()}


def report(medians: dict[str, float]) -> None:
    base = medians["sdk"]
    for name, value in medians.items():
        print(f"{name:24} {value * 1e6:9.0f} µs  ({value / base:.2f}x the SDK's call)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    report(anyio.run(main, args.calls, args.rounds))
