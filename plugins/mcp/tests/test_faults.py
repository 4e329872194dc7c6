"""Faults of a real MCP server: a crash mid-call, a hang past the timeout, a tool-list
change, a server that cannot start. None may hang a run; a broken server restarts."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from typing import Any

import anyio
import pytest

import plait
from plait.testing import ScriptedModel, call
from plait_mcp import (
    MCPServer,
    MCPServerCrashed,
    MCPServerTimeout,
    MCPServerUnavailable,
)

from ._helpers import held, stdio_server, tool_messages

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def fragile() -> Iterator[MCPServer]:
    """A toy server these tests crash, hang and change (its own process)."""
    yield from held(stdio_server(timeout=1.0))


def _tool(server: MCPServer, name: str) -> Any:
    return next(t for t in server.tools() if t.name == name)


async def _pid(server: MCPServer) -> int:
    await server.list_tools()
    result = await _tool(server, "pid").call({}, None)
    return int(result["result"])


async def test_a_crash_and_a_hang_are_told_to_the_model_and_the_server_restarts(
    fragile: MCPServer,
) -> None:
    model = ScriptedModel(
        [call("pid"), call("crash"), call("pid"), call("hang"), call("pid"), "still here"]
    )
    started = time.monotonic()
    with anyio.fail_after(60):  # never a hung run
        result = await plait.arun("break it", model=model, tools=[fragile])
    assert result.output == "still here"
    first, crashed, second, hung, third = tool_messages(result)
    assert crashed.is_error and "MCPServerCrashed" in crashed.content
    assert hung.is_error and "MCPServerTimeout" in hung.content  # timeout=1: not 32 s
    pids = [json.loads(m.content)["result"] for m in (first, second, third)]
    assert len(set(pids)) == 3  # a new process after the crash, another after the hang
    assert time.monotonic() - started < 40


async def test_a_crash_raises_at_the_tool_and_the_next_call_restarts_it(
    fragile: MCPServer,
) -> None:
    before = await _pid(fragile)
    with pytest.raises(MCPServerCrashed, match="went away"):
        await _tool(fragile, "crash").call({}, None)
    with pytest.raises(MCPServerTimeout, match="1s"):
        await _tool(fragile, "hang").call({}, None)
    assert await _pid(fragile) != before


async def test_a_tool_list_change_reaches_the_next_run(
    fragile: MCPServer, anyio_backend: str
) -> None:
    added = f"extra_{anyio_backend}"
    await fragile.list_tools()
    await _tool(fragile, "pid").call({}, None)  # a live session
    assert added not in [t.name for t in fragile.tools()]
    first = ScriptedModel([call("grow", name=added), "grown"])
    await plait.arun("grow", model=first, tools=[fragile])
    with anyio.fail_after(10):  # the change notice travels on its own stream: poll
        while added not in [t.name for t in await fragile.list_tools()]:  # noqa: ASYNC110
            await anyio.sleep(0.05)
    second = ScriptedModel([call(added), "ok"])
    result = await plait.arun("use it", model=second, tools=[fragile])
    assert added in [t.name for t in second.requests[0].params.tools]
    (message,) = [m for m in result.messages if getattr(m, "role", None) == "tool"]
    assert f"{added}!" in message.content


async def test_a_server_that_cannot_start_stops_the_run_before_it_begins() -> None:
    server = MCPServer.stdio(sys.executable, ["-c", "import sys; sys.exit(2)"], name="broken")
    model = ScriptedModel(["never asked"])
    with anyio.fail_after(30), pytest.raises(MCPServerUnavailable, match="broken"):
        await plait.arun("hi", model=model, tools=[server])
    assert model.requests == []


async def test_a_server_that_never_answers_the_handshake_times_out() -> None:
    server = MCPServer.stdio(
        sys.executable, ["-c", "import time; time.sleep(60)"], name="mute", startup_timeout=1
    )
    started = time.monotonic()
    with pytest.raises(MCPServerUnavailable, match="startup_timeout"):
        await server.list_tools()
    assert time.monotonic() - started < 10
    await server.aclose()
