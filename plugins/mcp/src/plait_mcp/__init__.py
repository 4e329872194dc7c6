"""plait-mcp: MCP servers as plait toolsets, and plait agents as MCP servers.

``MCPServer.stdio(...)`` / ``MCPServer.http(...)`` make a server a live toolset for a
run's ``tools=``; ``[tool.plait.plugin.mcp.servers.NAME]`` registers one under NAME.
See docs/mcp.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = [
    "MCPError",
    "MCPServer",
    "MCPServerCrashed",
    "MCPServerError",
    "MCPServerTimeout",
    "MCPServerUnavailable",
    "MCPTool",
    "MCPToolError",
    "__version__",
]

__version__ = "0.1.0"

_EXPORTS = {
    "MCPServer": "_server",
    "MCPTool": "_tools",
    "MCPError": "_errors",
    "MCPServerCrashed": "_errors",
    "MCPServerError": "_errors",
    "MCPServerTimeout": "_errors",
    "MCPServerUnavailable": "_errors",
    "MCPToolError": "_errors",
}

if TYPE_CHECKING:
    from ._errors import (
        MCPError,
        MCPServerCrashed,
        MCPServerError,
        MCPServerTimeout,
        MCPServerUnavailable,
        MCPToolError,
    )
    from ._server import MCPServer
    from ._tools import MCPTool


def __getattr__(name: str) -> Any:
    """Load public names lazily: importing plait_mcp does not import the MCP SDK."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'plait_mcp' has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
