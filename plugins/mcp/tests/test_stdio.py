"""An MCP server over stdio as a plait toolset: list, call, results, full runs."""

from __future__ import annotations

import os
from typing import Any

import anyio
import pytest

import plait
from plait import Image
from plait.testing import ScriptedModel, call
from plait_mcp import MCPServer, MCPToolError

from ._helpers import stdio_server

pytestmark = pytest.mark.anyio


def _tool(server: MCPServer, name: str) -> Any:
    return next(t for t in server.tools() if t.name == name)


def _tool_messages(result: Any) -> list[Any]:
    return [m for m in result.messages if getattr(m, "role", None) == "tool"]


async def test_lists_the_servers_tools_with_their_schemas(toy: MCPServer) -> None:
    tools = {t.name: t for t in await toy.list_tools()}
    assert {"toy_echo", "toy_add", "toy_forecast", "toy_picture"} <= set(tools)
    add = tools["toy_add"]
    assert add.remote_name == "add"
    assert add.description == "Add two integers."
    assert add.parameters["properties"]["a"]["type"] == "integer"
    assert add.parameters["required"] == ["a", "b"]
    assert await toy.list_tools() is toy.tools()  # cached: no second listing


async def test_results_are_mapped_to_plait_values(toy: MCPServer) -> None:
    await toy.list_tools()
    assert await _tool(toy, "toy_add").call({"a": 2, "b": 3}, None) == {"result": 5}
    forecast = await _tool(toy, "toy_forecast").call({"city": "Oslo"}, None)
    assert forecast == {"city": "Oslo", "celsius": 21.5}
    parts = await _tool(toy, "toy_picture").call({}, None)
    assert len(parts) == 1 and isinstance(parts[0], Image)
    assert parts[0].media_type == "image/png"
    assert parts[0].data is not None and parts[0].data.startswith(b"\x89PNG")


async def test_an_error_result_raises_a_tool_error(toy: MCPServer) -> None:
    await toy.list_tools()
    with pytest.raises(MCPToolError, match="toy_fail"):
        await _tool(toy, "toy_fail").call({"reason": "bad input"}, None)


async def test_a_run_calls_mcp_tools_and_the_model_sees_their_results(toy: MCPServer) -> None:
    model = ScriptedModel([call("toy_add", a=20, b=22), "the answer is 42"])
    result = await plait.arun("add 20 and 22", model=model, tools=[toy])
    assert result.output == "the answer is 42"
    (message,) = _tool_messages(result)
    assert not message.is_error and '"result":42' in message.content.replace(" ", "")
    offered = [t.name for t in model.requests[0].params.tools]
    assert "toy_add" in offered and "toy_forecast" in offered


async def test_a_tool_error_is_told_to_the_model_and_the_run_goes_on(toy: MCPServer) -> None:
    model = ScriptedModel([call("toy_fail", reason="no"), call("toy_echo", text="ok"), "done"])
    result = await plait.arun("try", model=model, tools=[toy])
    assert result.output == "done"
    failed, echoed = _tool_messages(result)
    assert failed.is_error and "MCPToolError" in failed.content
    assert not echoed.is_error


def test_plait_run_sync_uses_the_server_from_a_fresh_event_loop_each_time(
    toy: MCPServer,
) -> None:
    for n in (1, 2):
        model = ScriptedModel([call("toy_add", a=n, b=n), "ok"])
        result = plait.run("add", model=model, tools=[toy])
        assert f'"result":{2 * n}' in _tool_messages(result)[0].content.replace(" ", "")


def test_allow_and_deny_choose_the_tools_offered() -> None:
    server = stdio_server(allow=["echo", "add", "fail"], deny=["fail"])
    try:
        assert [t.name for t in anyio.run(server.list_tools)] == ["echo", "add"]
    finally:
        anyio.run(server.aclose)


def _pid_in(result: Any) -> int:
    return int(_tool_messages(result)[0].content.split(":")[1].strip(" }"))


async def _gone(pid: int) -> bool:
    with anyio.move_on_after(10):
        while True:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return True
            await anyio.sleep(0.05)
    return False


def test_a_run_stops_the_server_it_started() -> None:
    server = stdio_server()
    result = plait.run("pid", model=ScriptedModel([call("pid"), "ok"]), tools=[server])
    assert anyio.run(_gone, _pid_in(result))  # the run's kernel let go of it: stopped


async def test_concurrent_runs_share_a_server_until_the_last_one_ends() -> None:
    server = stdio_server()
    results: dict[str, Any] = {}

    async def run(key: str, *turns: Any) -> None:
        model = ScriptedModel([*turns, "ok"])
        results[key] = await plait.arun(key, model=model, tools=[server])

    async with anyio.create_task_group() as group:
        group.start_soon(run, "short", call("pid"))
        group.start_soon(run, "long", call("slow", seconds=1.5), call("pid"))
    short, long = _pid_in(results["short"]), _tool_messages(results["long"])
    assert not any(m.is_error for m in long)  # the short run's end did not stop it
    assert f'"result":{short}' in long[1].content.replace(" ", "")  # one process for both
    assert await _gone(short)


async def test_an_image_from_an_mcp_tool_reaches_the_model_as_a_part(toy: MCPServer) -> None:
    model = ScriptedModel([call("toy_picture"), "a single pixel"])
    result = await plait.arun("draw", model=model, tools=[toy])
    assert result.output == "a single pixel"
    (message,) = _tool_messages(result)
    assert not message.is_error
    [image] = message.parts
    assert isinstance(image, Image) and image.media_type == "image/png"
    sent = [m for m in model.requests[1].messages if getattr(m, "role", None) == "tool"]
    assert sent[-1].parts == [image]  # the model's next request carries the image
