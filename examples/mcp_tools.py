"""MCP servers as plait toolsets: a run calls the tools of an MCP server over stdio.

The server (examples/mcp_weather_server.py, written with the official MCP SDK) is
started on first use as a subprocess and stopped with the run's kernel. A scripted
model plays the LLM's part, so this runs offline.

Run it:  python examples/mcp_tools.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import plait
from plait.testing import ScriptedModel, call
from plait_mcp import MCPServer

SERVER = Path(__file__).with_name("mcp_weather_server.py")


def main() -> None:
    weather = MCPServer.stdio(sys.executable, [str(SERVER)], prefix="weather", timeout=20)
    # A real run would pass model="openai:gpt-4o-mini"; the script plays the model's part.
    model = ScriptedModel(
        [
            call("weather_forecast", city="Oslo"),
            call("weather_to_fahrenheit", celsius=21.5),
            "Oslo tomorrow: 21.5°C (70.7°F), cloudy.",
        ]
    )
    result = plait.run("Weather in Oslo tomorrow?", model=model, tools=[weather])
    offered = sorted(t.name for t in model.requests[0].params.tools)
    print(f"tools offered: {', '.join(offered)}")
    for message in result.messages:
        if message.role == "tool":
            print(f"{message.name} -> {message.content}")
    print(result.output)
    assert result.status == "success"


if __name__ == "__main__":
    main()
