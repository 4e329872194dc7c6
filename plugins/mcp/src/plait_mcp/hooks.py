"""The ``plait`` entry point of plait-mcp (import-light: the MCP SDK is imported only
when a run first uses a server)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from plait import hookimpl

if TYPE_CHECKING:
    from plait import PlaitConfig


@hookimpl
def plait_register_tools(config: PlaitConfig) -> Iterable[Any]:
    """Every server of ``[tool.plait.plugin.mcp.servers]`` as a live toolset under its
    name (nothing is started here: a run starts a server when it lists its tools)."""
    from ._config import PLUGIN_NAME, MCPSettings, build_servers

    settings = config.plugin_settings(PLUGIN_NAME, MCPSettings)
    if not settings.servers:
        return []
    return build_servers(settings)
