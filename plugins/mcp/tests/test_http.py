"""An MCP server over streamable HTTP (a subprocess on 127.0.0.1) as a plait toolset."""

from __future__ import annotations

import pytest

import plait
from plait.testing import ScriptedModel, call
from plait_mcp import MCPServer, MCPServerUnavailable

pytestmark = pytest.mark.anyio


async def test_lists_and_calls_tools_over_http(toy_http: MCPServer) -> None:
    tools = {t.name: t for t in await toy_http.list_tools()}
    assert {"web_echo", "web_add", "web_forecast"} <= set(tools)
    assert await tools["web_forecast"].call({"city": "Lima"}, None) == {
        "city": "Lima",
        "celsius": 21.5,
    }


async def test_a_run_uses_an_http_server(toy_http: MCPServer) -> None:
    model = ScriptedModel([call("web_echo", text="over http"), "done"])
    result = await plait.arun("echo", model=model, tools=[toy_http])
    (message,) = [m for m in result.messages if getattr(m, "role", None) == "tool"]
    assert not message.is_error and "over http" in message.content


async def test_the_servers_headers_are_sent(toy_http: MCPServer) -> None:
    await toy_http.list_tools()
    header = next(t for t in toy_http.tools() if t.name == "web_header")
    assert await header.call({"name": "X-Plait"}, None) == {"result": "hi"}


async def test_a_closed_port_is_unavailable(http_url: str) -> None:
    port = http_url.split(":")[2].split("/")[0]
    dead = MCPServer.http(http_url.replace(port, "9"), name="dead", startup_timeout=5)
    with pytest.raises(MCPServerUnavailable, match="dead"):
        await dead.list_tools()
    await dead.aclose()


def test_a_bad_url_is_refused_with_a_clear_error() -> None:
    with pytest.raises(ValueError, match="http"):
        MCPServer.http("localhost:8000/mcp")
