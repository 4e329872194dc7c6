"""The two ways ``plait mcp serve`` talks MCP: stdio and streamable HTTP.

Both return normally when the server should stop — stdin closed (stdio), or SIGINT /
SIGTERM (either) — so the caller closes the kernel before the process exits. uvicorn
would re-raise a signal it caught once it has shut down (killing the process before
the kernel is closed): here the signals are watched by ``_stop_on_signals`` instead, and
uvicorn's own handlers are not installed.

HTTP binds its socket first, so ``--port 0`` picks a free port and ``ready`` is told the
real URL; on a loopback host the SDK's DNS-rebinding protection is on (only
``127.0.0.1``/``localhost``/``[::1]`` Host and Origin headers are accepted).
"""

from __future__ import annotations

import contextlib
import signal
import socket
from collections.abc import Awaitable, Callable, Generator
from typing import Any

import anyio
from mcp.server.lowlevel import Server
from mcp.server.stdio import stdio_server

__all__ = ["serve_http", "serve_stdio"]

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


async def _stop_on_signals(stop: Callable[[], None], *, task_status: Any) -> None:
    with anyio.open_signal_receiver(*STOP_SIGNALS) as signals:
        task_status.started()
        async for _ in signals:
            stop()
            return


async def _until_stopped(main: Callable[[], Awaitable[None]], stop: Callable[[], None]) -> None:
    """Run ``main`` until it returns; SIGINT or SIGTERM calls ``stop`` (which must make
    ``main`` return)."""
    async with anyio.create_task_group() as group:
        await group.start(_stop_on_signals, stop)
        await main()
        group.cancel_scope.cancel()


async def serve_stdio(server: Server[Any], *, ready: Callable[[str], None] | None) -> None:
    """Serve over stdin/stdout until stdin is closed (or a stop signal)."""
    with anyio.CancelScope() as scope:

        async def main() -> None:
            async with stdio_server() as (read_stream, write_stream):
                if ready is not None:
                    ready("stdio")
                await server.run(read_stream, write_stream, server.create_initialization_options())

        await _until_stopped(main, scope.cancel)


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        import plait

        raise plait.ConfigError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.set_inheritable(True)
    return sock


def _url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/mcp"


async def serve_http(
    server: Server[Any], *, host: str, port: int, ready: Callable[[str], None] | None
) -> None:
    """Serve streamable HTTP at ``http://HOST:PORT/mcp`` until a stop signal."""
    import uvicorn

    class _Uvicorn(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self) -> Generator[None, None, None]:
            yield  # signals are ours (see the module docstring)

        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets)
            if ready is not None and self.started:
                ready(_url(sock))

    app = server.streamable_http_app(host=host)
    config = uvicorn.Config(
        app, log_level="warning", access_log=False, timeout_graceful_shutdown=5, lifespan="on"
    )
    web = _Uvicorn(config)
    sock = _bind(host, port)
    try:

        async def main() -> None:
            await web.serve(sockets=[sock])

        def stop() -> None:
            web.should_exit = True

        await _until_stopped(main, stop)
    finally:
        sock.close()
