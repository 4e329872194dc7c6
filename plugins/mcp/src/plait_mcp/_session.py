"""One server's MCP session, owned by one task of its host loop, restarted after faults.

Everything here runs in the server's host loop (``_host``). ``Session`` starts an
``_Owner`` task on first use; the owner enters the SDK's ``Client`` (the transport, the
handshake), listens for tool-list changes, and leaves the client in the same task when
it is told to stop. A request that times out, or fails because the server went away,
stops the owner; the next request starts a new one (a new process, a new connection).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any, Literal

import anyio
import mcp_types as types
from mcp.client import Client
from mcp.shared.exceptions import MCPError as SDKError
from mcp_types.version import MODERN_PROTOCOL_VERSIONS
from pydantic import ValidationError

from ._errors import (
    MCPServerCrashed,
    MCPServerError,
    MCPServerTimeout,
    MCPServerUnavailable,
    MCPToolError,
)

__all__ = ["ClientFactory", "Session"]

ClientFactory = Callable[[Callable[[], None]], AbstractAsyncContextManager[Client]]
"""Makes a new (unentered) client; its argument is called when the tools changed."""

MAX_PAGES = 100
"""Pages of ``tools/list`` read at most (a server that pages forever cannot hang a run)."""
CLOSE_TIMEOUT = 5.0
"""Seconds a closing session may take (the SDK ends a stdio server within about 2)."""


class _Owner:
    """The task that holds one connected client from entering to leaving it."""

    def __init__(self, factory: ClientFactory, on_change: Callable[[], None]) -> None:
        self._factory = factory
        self._on_change = on_change
        self.ready = anyio.Event()
        self.done = anyio.Event()
        self._stop = anyio.Event()
        self.client: Client | None = None
        self.error: BaseException | None = None
        self.ended = False
        self._scope: anyio.CancelScope | None = None

    def stop(self) -> None:
        """Leave the client (from any task of the host loop); the next use starts anew.
        A server still starting is given up at once (its start is cancelled)."""
        self.ended = True
        self._stop.set()
        if self._scope is not None and not self.ready.is_set():
            self._scope.cancel()

    async def run(self) -> None:
        with anyio.CancelScope() as scope:
            self._scope = scope
            try:
                if not self.ended:
                    await self._hold()
            except Exception as exc:  # the start failed, or the transport broke at exit
                self.error = self.error or exc
            finally:
                self.ended = True
                self.client = None
                self.ready.set()
                self.done.set()

    async def _hold(self) -> None:
        assert self._scope is not None
        async with self._factory(self._on_change) as client:
            self.client = client
            async with anyio.create_task_group() as group:
                if client.protocol_version in MODERN_PROTOCOL_VERSIONS:
                    group.start_soon(self._listen, client)
                self.ready.set()
                await self._stop.wait()
                group.cancel_scope.cancel()
            # leaving the client may wait for a hung server: bounded
            self._scope.deadline = anyio.current_time() + CLOSE_TIMEOUT

    async def _listen(self, client: Client) -> None:
        """2026-era servers announce tool changes on a ``subscriptions/listen`` stream
        (older ones send a notification, which the client's message handler sees)."""
        try:
            async with client.listen(tools_list_changed=True) as events:
                async for _ in events:
                    self._on_change()
        except Exception:  # not offered, or the stream dropped: the handler still sees
            return  # notifications, and a restart lists the tools again


class Session:
    """The current owner of a server's client, replaced after a fault."""

    def __init__(
        self,
        name: str,
        factory: ClientFactory,
        spawn: Callable[..., None],
        on_change: Callable[[], None],
        startup_timeout: float,
    ) -> None:
        self._name = name
        self._factory = factory
        self._spawn = spawn
        self._on_change = on_change
        self._startup_timeout = startup_timeout
        self._owner: _Owner | None = None

    async def _client(self) -> tuple[_Owner, Client]:
        owner = self._owner
        if owner is None or owner.ended:
            owner = self._owner = _Owner(self._factory, self._on_change)
            self._on_change()  # a new process may offer other tools: list them again
            self._spawn(owner.run)
        with anyio.move_on_after(self._startup_timeout):
            await owner.ready.wait()
        client = owner.client
        if client is None or owner.ended:
            owner.stop()
            why = f": {type(owner.error).__name__}: {owner.error}" if owner.error else ""
            if not owner.ready.is_set():
                why = f": no answer within {self._startup_timeout:g}s (startup_timeout)"
            raise MCPServerUnavailable(f"MCP server {self._name!r} could not be started{why}")
        return owner, client

    async def list_tools(self, timeout: float | None) -> list[types.Tool]:  # noqa: ASYNC109
        """Every tool the server lists (all pages)."""
        owner, client = await self._client()
        tools: list[types.Tool] = []
        cursor: str | None = None
        with self._faults(owner, "tools/list", timeout):
            for _ in range(MAX_PAGES):
                page = await client.list_tools(cursor=cursor)
                tools.extend(page.tools)
                cursor = page.next_cursor
                if cursor is None:
                    break
        return tools

    async def call_tool(
        self,
        name: str,
        arguments: dict[str, Any],
        timeout: float | None,  # noqa: ASYNC109 - enforced in the host loop, see _Faults
    ) -> types.CallToolResult:
        """Call one tool; an error result is returned, not raised (``_results`` maps it)."""
        owner, client = await self._client()
        with self._faults(owner, f"tool {name!r}", timeout):
            return await client.call_tool(name, arguments)

    def _faults(self, owner: _Owner, what: str, timeout: float | None) -> _Faults:
        return _Faults(self._name, owner, what, timeout)

    async def close(self) -> None:
        """Leave the client and wait (bounded) until the server is stopped."""
        owner, self._owner = self._owner, None
        if owner is None:
            return
        owner.stop()
        with anyio.move_on_after(CLOSE_TIMEOUT):
            await owner.done.wait()


class _Faults:
    """Maps what a request raises to plait-mcp's errors, stopping the owner when the
    server is gone or hung (the next request restarts it)."""

    def __init__(self, server: str, owner: _Owner, what: str, timeout: float | None) -> None:
        self._server = server
        self._owner = owner
        self._what = what
        self._timeout = timeout
        self._scope = anyio.fail_after(math.inf if timeout is None else timeout)

    def __enter__(self) -> None:
        self._scope.__enter__()

    def __exit__(self, kind: Any, exc: BaseException | None, tb: Any) -> Literal[False]:
        try:
            self._scope.__exit__(kind, exc, tb)
        except TimeoutError as timed_out:
            self._owner.stop()
            raise MCPServerTimeout(
                f"MCP server {self._server!r}: {self._what} had no answer within "
                f"{self._timeout:g}s; the server is restarted on the next call"
            ) from timed_out
        if exc is None or not isinstance(exc, Exception) or isinstance(exc, MCPServerError):
            return False
        if not self._owner.ended and _answered(exc):  # the server is there: no restart
            raise MCPToolError(f"MCP server {self._server!r}: {self._what} failed: {exc}") from exc
        self._owner.stop()
        raise MCPServerCrashed(
            f"MCP server {self._server!r} went away during {self._what} "
            f"({type(exc).__name__}: {exc}); it is restarted on the next call"
        ) from exc


def _answered(exc: Exception) -> bool:
    """``exc`` came from an answer (a JSON-RPC error, a result of the wrong shape), not
    from a connection that broke."""
    if isinstance(exc, SDKError):
        return exc.code != types.CONNECTION_CLOSED
    return isinstance(exc, ValidationError)
