"""``MCPServer``: an MCP server (stdio or streamable HTTP) as a live plait toolset.

The server is started on first use (``list_tools`` or a call), hosted on its own loop
thread (``_host``), and its tool list cached until the server says it changed (or it is
restarted). ``aclose`` stops it; a kernel closes the servers its runs used. A server
entered with ``with`` / ``async with`` stays up until that block ends, whoever else
closes it meanwhile.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self
from urllib.parse import urlsplit

from ._host import HostLoop

if TYPE_CHECKING:  # the SDK is imported on first use, not when a server is configured
    import mcp_types as types
    from mcp.client import Client

    from ._session import Session
    from ._tools import MCPTool

__all__ = ["MCPServer"]

DEFAULT_TIMEOUT = 30.0
DEFAULT_STARTUP_TIMEOUT = 30.0


@dataclass(frozen=True, slots=True)
class Stdio:
    """How to start a stdio server."""

    command: str
    args: tuple[str, ...] = ()
    env: Mapping[str, str] | None = None
    cwd: str | None = None


class MCPServer:
    """An MCP server whose tools a plait run may call. Make one with ``MCPServer.stdio``
    or ``MCPServer.http``; pass it in ``tools=[...]``."""

    def __init__(
        self,
        transport: Stdio | str,
        *,
        name: str,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = DEFAULT_TIMEOUT,
        startup_timeout: float = DEFAULT_STARTUP_TIMEOUT,
        prefix: str | None = None,
        requires_approval: bool = False,
        allow: Iterable[str] | None = None,
        deny: Iterable[str] = (),
    ) -> None:
        if not isinstance(name, str) or not name:
            raise ValueError("an MCP server needs a non-empty name= (it names its toolset)")
        for label, value in (("timeout", timeout), ("startup_timeout", startup_timeout)):
            if value is not None and not value > 0:
                raise ValueError(f"MCP server {name!r}: {label} must be > 0 seconds; got {value}")
        self.name = name
        self.transport = transport
        self.headers = dict(headers or {})
        self.timeout = timeout
        self.startup_timeout = startup_timeout
        self.prefix = prefix
        self.requires_approval = requires_approval
        self.allow = None if allow is None else frozenset(allow)
        self.deny = frozenset(deny)
        self._host = HostLoop(f"plait-mcp {name}")
        self._session: Session | None = None
        self._tools: list[MCPTool] | None = None
        self._stale = True  # set from the host thread when the server's tools changed
        self._holds = 0

    @classmethod
    def stdio(
        cls,
        command: str,
        args: Sequence[str] = (),
        *,
        env: Mapping[str, str] | None = None,
        cwd: str | os.PathLike[str] | None = None,
        name: str | None = None,
        **options: Any,
    ) -> MCPServer:
        """A server started as a subprocess that speaks MCP on stdin/stdout. Its
        environment is the SDK's safe default (``PATH``, ``HOME``, ...) plus ``env``;
        its name defaults to the first argument's stem (``server.py`` → ``server``)."""
        if isinstance(args, str):
            raise TypeError(f"args= takes a list of arguments, not a str ({args!r})")
        params = Stdio(
            command, tuple(args), dict(env) if env else None, os.fspath(cwd) if cwd else None
        )
        label = name or Path(next((a for a in args if a[:1] != "-"), command)).stem
        return cls(params, name=label, **options)

    @classmethod
    def http(
        cls,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        name: str | None = None,
        **options: Any,
    ) -> MCPServer:
        """A server reached over streamable HTTP at ``url`` (``headers``: e.g. auth)."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"an MCP server URL must be http(s)://host/...; got {url!r}")
        return cls(url, name=name or parts.hostname, headers=headers, **options)

    def __repr__(self) -> str:
        where = self.transport if isinstance(self.transport, str) else self.transport.command
        return f"<MCPServer {self.name!r} ({where})>"

    # --- the live toolset contract ------------------------------------------------------

    def tools(self) -> list[MCPTool]:
        """The tools ``list_tools`` listed last (no I/O)."""
        if self._tools is None:
            raise RuntimeError(
                f"the tools of MCP server {self.name!r} were not listed yet: pass the server "
                "in a run's tools= (the run lists them), or await server.list_tools() first"
            )
        return self._tools

    async def list_tools(self) -> list[MCPTool]:
        """The server's tools (it is started if need be); cached until they change."""
        if self._tools is not None and not self._stale:
            return self._tools
        self._stale = False  # a change announced while listing marks it stale again
        try:
            listed = await self._host.call(self._ensure().list_tools, self.startup_timeout)
        except BaseException:
            self._stale = True  # the old listing is not current: list again next time
            raise
        self._tools = self._select(listed)
        return self._tools

    async def aclose(self) -> None:
        """Stop the server (its process or connection) now, whoever holds it; idempotent.
        A later use starts it again."""
        await self._close()

    # --- used by MCPTool ----------------------------------------------------------------

    async def call_remote(self, name: str, arguments: dict[str, Any]) -> types.CallToolResult:
        """Call the server's tool ``name`` under ``timeout`` (restarting a dead server)."""
        return await self._host.call(self._ensure().call_tool, name, arguments, self.timeout)

    # --- holding it open ----------------------------------------------------------------

    async def __aenter__(self) -> Self:
        """Hold the server open (and start it now): each kernel whose run uses it holds
        it, and so may you, to share one server process across runs."""
        self._holds += 1
        try:
            await self.list_tools()
        except BaseException:
            await self.__aexit__(None, None, None)
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        """Release one hold; the last one stops the server."""
        self._holds = max(0, self._holds - 1)
        if not self._holds:
            await self._close()

    # --- internals ----------------------------------------------------------------------

    def _ensure(self) -> Session:
        if self._session is None:
            from ._session import Session

            self._session = Session(
                self.name, self._client, self._host.spawn, self._changed, self.startup_timeout
            )
        return self._session

    async def _close(self) -> None:
        session, self._session = self._session, None
        if session is not None and self._host.running:
            await self._host.call(session.close)
        if self._session is None:  # no run started using it while it closed
            self._host.stop()
        self._stale = True

    def _changed(self) -> None:
        self._stale = True

    def _select(self, listed: Sequence[types.Tool]) -> list[MCPTool]:
        from ._tools import MCPTool, tool_name

        chosen = [
            t
            for t in listed
            if (self.allow is None or t.name in self.allow) and t.name not in self.deny
        ]
        tools = [MCPTool(self, t, tool_name(t.name, self.prefix)) for t in chosen]
        seen: dict[str, str] = {}
        for t in tools:
            if t.name in seen:
                raise ValueError(
                    f"MCP server {self.name!r}: tools {seen[t.name]!r} and {t.remote_name!r} "
                    f"both become {t.name!r}; rename one or list one in deny="
                )
            seen[t.name] = t.remote_name
        return tools

    def _client(self, on_change: Any) -> Client:
        """A new client for the transport (called in the host loop by the session)."""
        import mcp_types as types
        from mcp.client import Client, IncomingMessage
        from mcp.client.stdio import StdioServerParameters

        async def handler(message: IncomingMessage) -> None:
            if isinstance(message, types.ToolListChangedNotification):
                on_change()

        spec = self.transport
        transport: Any
        if isinstance(spec, str):
            transport = _http_transport(spec, self.headers, self.startup_timeout)
        else:
            transport = StdioServerParameters(
                command=spec.command,
                args=list(spec.args),
                env=dict(spec.env) if spec.env else None,
                cwd=spec.cwd,
            )
        info = types.Implementation(name="plait-mcp", version="0.1.0")
        return Client(transport, cache=None, message_handler=handler, client_info=info)


@asynccontextmanager
async def _http_transport(
    url: str, headers: Mapping[str, str], connect_timeout: float
) -> AsyncIterator[Any]:
    """Streamable HTTP with our headers; the HTTP client is closed with the transport."""
    import httpx2
    from mcp.client.streamable_http import streamable_http_client

    timeout = httpx2.Timeout(connect_timeout, read=300.0)
    async with (
        httpx2.AsyncClient(headers=dict(headers), timeout=timeout) as http,
        streamable_http_client(url, http_client=http) as streams,
    ):
        yield streams
