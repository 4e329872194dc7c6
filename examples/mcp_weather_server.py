"""A small MCP server written with the official MCP SDK (used by examples/mcp_tools.py).

Run it yourself:  python examples/mcp_weather_server.py   (it speaks MCP on stdin/stdout)
"""

from __future__ import annotations

from mcp.server.mcpserver import MCPServer
from pydantic import BaseModel

server = MCPServer("weather")


class Forecast(BaseModel):
    """Tomorrow's weather in one city."""

    city: str
    celsius: float
    sky: str


@server.tool()
def forecast(city: str) -> Forecast:
    """Tomorrow's weather for a city (a structured result)."""
    return Forecast(city=city, celsius=21.5, sky="cloudy")


@server.tool()
def to_fahrenheit(celsius: float) -> float:
    """Convert degrees Celsius to Fahrenheit."""
    return round(celsius * 9 / 5 + 32, 1)


if __name__ == "__main__":
    server.run()
