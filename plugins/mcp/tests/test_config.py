"""Servers named in the configuration: registered as live toolsets, used by name and by
the stack, started lazily, closed with the kernel; bad settings are clear errors."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from typing import Any

import anyio
import pytest

import plait
from plait import ConfigError, Kernel
from plait.testing import ScriptedModel, call, make_kernel
from plait_mcp import MCPServer, hooks

from ._helpers import TOY

pytestmark = pytest.mark.anyio


def _kernel(**extra: Any) -> Kernel:
    servers = {"toy": {"command": sys.executable, "args": [str(TOY)], "prefix": "cfg"}}
    return make_kernel(hooks, plugin={"mcp": {"servers": servers}}, **extra)


def _pid_of(result: Any) -> int:
    (message,) = [m for m in result.messages if getattr(m, "role", None) == "tool"]
    return int(message.content.split(":")[1].strip(" }"))


async def _gone(pid: int) -> bool:
    with anyio.move_on_after(10):
        while True:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return True
            await anyio.sleep(0.05)
    return False


def test_a_configured_server_is_registered_whole_and_not_started() -> None:
    kernel = _kernel()
    server = kernel.tools()["toy"]
    assert isinstance(server, MCPServer)
    with pytest.raises(RuntimeError, match="not listed yet"):
        server.tools()


async def test_a_run_names_the_server_and_the_kernel_closes_it(anyio_backend: str) -> None:
    async with _kernel() as kernel:
        model = ScriptedModel([call("cfg_pid"), "ok"])
        result = await plait.arun("pid", model=model, tools=["toy"], kernel=kernel)
        pid = _pid_of(result)
        again = await plait.arun(
            "pid", model=ScriptedModel([call("cfg_pid"), "ok"]), tools=["toy"], kernel=kernel
        )
        assert _pid_of(again) == pid  # one kernel: one server process for its runs
    assert await _gone(pid)


async def test_the_stack_gives_every_run_the_servers_tools() -> None:
    async with _kernel(stack={"tools": ["toy"]}) as kernel:
        model = ScriptedModel([call("cfg_echo", text="from the stack"), "ok"])
        result = await plait.arun("echo", model=model, kernel=kernel)
        assert "from the stack" in result.messages[-2].content


def test_settings_name_one_transport() -> None:
    both = {"toy": {"command": "x", "url": "http://127.0.0.1:1/mcp"}}
    with pytest.raises(ConfigError, match="either command"):
        make_kernel(hooks, plugin={"mcp": {"servers": both}}).tools()
    typo = {"toy": {"command": "x", "timout": 3}}
    with pytest.raises(ConfigError, match=r"unknown key 'servers\.toy\.timout'"):
        make_kernel(hooks, plugin={"mcp": {"servers": typo}}).tools()


def test_a_header_from_an_unset_variable_is_a_config_error() -> None:
    servers = {"s": {"url": "http://127.0.0.1:1/mcp", "headers_env": {"Authorization": "NOPE_X"}}}
    os.environ.pop("NOPE_X", None)
    with pytest.raises(ConfigError, match="NOPE_X is not set"):
        make_kernel(hooks, plugin={"mcp": {"servers": servers}}).tools()


def test_no_servers_registers_nothing() -> None:
    assert "toy" not in make_kernel(hooks).tools()


def test_an_interpreter_that_exits_without_closing_a_server_is_not_held_up() -> None:
    script = (
        "import sys, anyio\n"
        "from plait_mcp import MCPServer\n"
        f"s = MCPServer.stdio(sys.executable, [{str(TOY)!r}])\n"
        "print(len(anyio.run(s.list_tools)), flush=True)\n"
    )
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) > 5
    assert time.monotonic() - started < 30
