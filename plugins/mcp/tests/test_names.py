"""Tool names that providers accept, and MCP results mapped to plait values."""

from __future__ import annotations

import base64

import mcp_types as types
import pytest

from plait import Audio, Image, Text
from plait_mcp import MCPServer, MCPToolError
from plait_mcp._results import to_plait
from plait_mcp._tools import tool_name


def test_names_get_the_prefix_and_fit_provider_rules() -> None:
    assert tool_name("add", None) == "add"
    assert tool_name("add", "math") == "math_add"
    assert tool_name("files.read/all", None) == "files_read_all"
    long = tool_name("x" * 100, "p")
    assert len(long) == 64 and long != tool_name("x" * 101, "p")


def test_bad_server_options_are_refused() -> None:
    with pytest.raises(ValueError, match="timeout"):
        MCPServer.stdio("python", ["s.py"], timeout=0)
    with pytest.raises(TypeError, match="list"):
        MCPServer.stdio("python", "s.py")
    assert MCPServer.stdio("python", ["-u", "servers/weather.py"]).name == "weather"


def _result(*content: object, **fields: object) -> types.CallToolResult:
    return types.CallToolResult(content=list(content), **fields)


def test_text_is_joined_and_structured_content_wins() -> None:
    a, b = types.TextContent(text="one"), types.TextContent(text="two")
    assert to_plait(_result(a, b), "t") == "one\n\ntwo"
    assert to_plait(_result(a, structured_content={"n": 1}), "t") == {"n": 1}


def test_media_become_parts() -> None:
    png = b"\x89PNG\r\n\x1a\nrest"
    image = types.ImageContent(data=base64.b64encode(png).decode(), mime_type="image/png")
    audio = types.AudioContent(data=base64.b64encode(b"RIFF").decode(), mime_type="audio/wav")
    parts = to_plait(_result(types.TextContent(text="see"), image, audio), "t")
    assert parts[0] == Text("see")
    assert isinstance(parts[1], Image) and parts[1].data == png
    assert isinstance(parts[2], Audio) and parts[2].media_type == "audio/wav"


def test_an_error_result_raises_with_its_text() -> None:
    with pytest.raises(MCPToolError, match="disk full"):
        to_plait(_result(types.TextContent(text="disk full"), is_error=True), "t")
