"""Fixtures of plait-mcp's tests: real MCP servers (the SDK's ``MCPServer``) started by
the tests, as stdio subprocesses and as a streamable-HTTP server on 127.0.0.1.

Starting a server costs a few seconds (importing the SDK), so servers that tests only
read from are shared by a module and *held* open (``async with``): the kernels of the
runs that use them then leave them running. Tests that crash or change a server get
their own.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from plait_mcp import MCPServer

from ._helpers import TOY, held, stdio_server


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    """Every async test here runs on asyncio and on trio."""
    return str(request.param)


@pytest.fixture(scope="module")
def toy() -> Iterator[MCPServer]:
    """The toy server over stdio, shared by a module's tests (held open)."""
    yield from held(stdio_server(prefix="toy"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def http_url() -> Iterator[str]:
    """The toy server over streamable HTTP on 127.0.0.1 (a subprocess ended by its PID)."""
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, str(TOY), "http", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"the HTTP test server exited ({proc.returncode})")
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError("the HTTP test server did not start within 30 s")
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def toy_http(http_url: str) -> Iterator[MCPServer]:
    """An MCPServer for the HTTP toy server (held open)."""
    server = MCPServer.http(http_url, name="toyhttp", prefix="web", headers={"X-Plait": "hi"})
    yield from held(server)
