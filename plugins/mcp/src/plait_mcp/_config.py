"""``[tool.plait.plugin.mcp]``: MCP servers named in the configuration.

::

    [tool.plait.plugin.mcp.servers.files]
    command = "npx"
    args = ["-y", "@modelcontextprotocol/server-filesystem", "/srv/data"]
    timeout = 20
    prefix = "files"

    [tool.plait.plugin.mcp.servers.search]
    url = "https://mcp.example.com/mcp"
    headers = { Authorization = "Bearer ${SEARCH_TOKEN}" }   # see headers_env
    deny = ["delete_index"]

Each server is registered (``plait_register_tools``) as a live toolset named by its
table, so ``tools=["files"]`` or the stack's ``tools = ["files"]`` use it. Nothing is
started until a run lists its tools.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Self, TypedDict

from pydantic import BaseModel, ConfigDict, Field, model_validator

from plait import ConfigError

if TYPE_CHECKING:
    from ._server import MCPServer

__all__ = ["MCPSettings", "ServerSettings", "build_servers"]

PLUGIN_NAME = "mcp"


class ServerSettings(BaseModel):
    """One server: ``command`` (+ ``args``, ``env``, ``cwd``) for stdio, or ``url``
    (+ ``headers``) for streamable HTTP."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    command: str | None = None
    args: list[str] = Field(default_factory=list)
    env: dict[str, str] = Field(default_factory=dict)
    cwd: str | None = None
    url: str | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    headers_env: dict[str, str] = Field(default_factory=dict)
    """Header name → environment variable holding its value (keeps secrets out of files)."""
    timeout: float | None = Field(default=30.0, gt=0)
    startup_timeout: float = Field(default=30.0, gt=0)
    prefix: str | None = None
    requires_approval: bool = False
    allow: list[str] | None = None
    deny: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _one_transport(self) -> Self:
        if (self.command is None) == (self.url is None):
            raise ValueError("give either command (a stdio server) or url (streamable HTTP)")
        return self


class MCPSettings(BaseModel):
    """The plugin's table: ``servers`` by name."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    servers: dict[str, ServerSettings] = Field(default_factory=dict)


def _headers(name: str, s: ServerSettings) -> dict[str, str]:
    headers = dict(s.headers)
    for header, var in s.headers_env.items():
        value = os.environ.get(var)
        if not value:
            raise ConfigError(
                f"[plugin.mcp.servers.{name}] headers_env names {var} for header "
                f"{header!r}, but {var} is not set"
            )
        headers[header] = value
    return headers


def build_servers(settings: MCPSettings) -> list[MCPServer]:
    """One (unstarted) ``MCPServer`` per configured server."""
    from ._server import MCPServer

    servers = []
    for name, s in settings.servers.items():
        options = _Options(
            name=name,
            timeout=s.timeout,
            startup_timeout=s.startup_timeout,
            prefix=s.prefix,
            requires_approval=s.requires_approval,
            allow=s.allow,
            deny=s.deny,
        )
        if s.command is not None:
            server = MCPServer.stdio(s.command, s.args, env=s.env or None, cwd=s.cwd, **options)
        else:
            assert s.url is not None
            server = MCPServer.http(s.url, headers=_headers(name, s), **options)
        servers.append(server)
    return servers


class _Options(TypedDict):
    """The options every configured server passes to ``MCPServer``."""

    name: str
    timeout: float | None
    startup_timeout: float
    prefix: str | None
    requires_approval: bool
    allow: list[str] | None
    deny: list[str]
