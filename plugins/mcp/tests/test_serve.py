"""A real MCP client (the official SDK's) calling `plait mcp serve`, started as a real
process over stdio and over streamable HTTP on 127.0.0.1.

The served agents live in a module the test writes to ``tmp_path``; their models are
plait.testing ``FunctionModel``s, or a ``probe:`` model from a fake-installed provider
plugin (``--model``), whose ``aclose`` leaves a file: the server's kernel was closed when
the server stopped. A fake-installed tool plugin registers the plait tools served with
``--tools``. No network, no real model.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.shared.exceptions import MCPError

AGENTS = """
import plait
from pydantic import BaseModel
from plait.testing import FunctionModel, Turn, complete


def _task(messages):
    return [m for m in messages if m.role == "user"][-1].content


def _echo(messages, params):
    users = [m.content for m in messages if m.role == "user"]
    return Turn(text=f"echo: {_task(messages)} ({len(users)} user messages)")


def _broken(messages, params):
    raise plait.AuthenticationFailed("the model is down for maintenance", provider="test")


class Forecast(BaseModel):
    city: str
    temperature_c: float


def _forecast(messages, params):
    return complete(result={"city": _task(messages), "temperature_c": 21})


echo = plait.Agent("echo", model=FunctionModel(_echo), instructions="Repeat the task.")
broken = plait.Agent("broken", model=FunctionModel(_broken))
weather = plait.Agent("weather", model=FunctionModel(_forecast), output=Forecast)
bare = plait.Agent("bare")  # no model: --model gives it one
not_an_agent = 42
"""

PLUGIN = '''
import os
import time

import plait
from plait.testing import FunctionModel, Turn


def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


def explode() -> str:
    """Always fails."""
    raise RuntimeError("boom")


@plait.tool(timeout=0.3)
def sleepy() -> str:
    """Takes too long."""
    time.sleep(2)  # abandoned at the timeout; the server's exit waits for the thread
    return "late"


class Probe(FunctionModel):
    async def aclose(self):
        with open(os.environ["PROBE_CLOSED"], "a") as f:
            f.write("closed\\n")


class Provider:
    name = "probe"

    def model(self, model_id, **options):
        return Probe(lambda messages, params: Turn(text=f"probe {model_id}"), name="probe:x")

    def models(self):
        return ["echo"]


@plait.hookimpl
def plait_register_tools():
    return [add, explode, sleepy]


@plait.hookimpl
def plait_register_providers():
    return [Provider()]
'''

PLAIT = Path(sys.executable).with_name("plait")


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """The server's environment: the agents module, the fake plugin, a private store."""
    site = tmp_path / "site"
    site.mkdir()
    (tmp_path / "served_agents.py").write_text(AGENTS)
    (site / "serve_plugin.py").write_text(PLUGIN)
    info = site / "serve_plugin-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: serve-plugin\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[plait]\nserveplugin = serve_plugin\n")
    paths = [str(site), str(tmp_path), os.environ.get("PYTHONPATH", "")]
    return {
        "PYTHONPATH": os.pathsep.join(p for p in paths if p),
        "PLAIT_STORE": f"sqlite:///{tmp_path / 'plait.db'}",
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "PROBE_CLOSED": str(tmp_path / "closed.txt"),
    }


@pytest.fixture
def anyio_backend() -> str:
    """The client runs on asyncio only: the server is another process, whose event loop
    the client's backend does not change (test_serve_units.py runs in-process on both)."""
    return "asyncio"


@pytest.fixture(params=["stdio", "http"])
def transport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


class Served:
    """``connect(*args)``: a connected SDK ``Client`` of ``plait mcp serve ARGS``."""

    def __init__(self, transport: str, env: dict[str, str], cwd: Path) -> None:
        assert PLAIT.exists(), f"the `plait` script is not installed next to {sys.executable}"
        self.transport, self.env, self.cwd = transport, env, cwd
        self.procs: list[subprocess.Popen[str]] = []

    @asynccontextmanager
    async def connect(self, *args: str) -> AsyncIterator[Client]:
        argv = ["mcp", "serve", *args]
        if self.transport == "stdio":  # the SDK starts the process and ends it (stdin closed)
            params = StdioServerParameters(
                command=str(PLAIT), args=argv, env=self.env, cwd=str(self.cwd)
            )
            async with Client(params) as client:
                yield client
            return
        proc, url = self.start_http(argv)
        async with Client(url) as client:
            yield client
        assert self.stop(proc) == 0  # SIGTERM: a graceful stop

    def start_http(self, argv: list[str]) -> tuple[subprocess.Popen[str], str]:
        """The server process on a free port of 127.0.0.1, and the URL it announced."""
        proc = subprocess.Popen(
            [str(PLAIT), *argv, "--transport", "http", "--port", "0"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            text=True, env={**os.environ, **self.env}, cwd=self.cwd,
        )  # fmt: skip
        self.procs.append(proc)
        assert proc.stderr is not None
        line = proc.stderr.readline()
        found = re.search(r"serving MCP at (http://127\.0\.0\.1:\d+/mcp)", line)
        assert found, f"no URL announced: {line!r}"
        return proc, found.group(1)

    @staticmethod
    def stop(proc: subprocess.Popen[str]) -> int:
        """SIGTERM by PID (a graceful stop), then wait; killed if it does not end."""
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            return proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise
        finally:
            if proc.stderr is not None:
                proc.stderr.close()


@pytest.fixture
def served(transport: str, env: dict[str, str], tmp_path: Path) -> Iterator[Served]:
    started = Served(transport, env, tmp_path)
    yield started
    for proc in started.procs:  # a test that failed half-way: end its server by PID
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stderr is not None:
            proc.stderr.close()


def _text(result: Any) -> str:
    return "\n".join(c.text for c in result.content)


@pytest.mark.anyio
async def test_an_agent_and_plait_tools_are_listed_and_called(served: Served) -> None:
    async with served.connect("served_agents:echo", "--tools", "add", "explode") as client:
        listed = {t.name: t for t in (await client.list_tools()).tools}
        assert sorted(listed) == ["add", "echo", "explode"]
        assert "Repeat the task." in (listed["echo"].description or "")
        assert listed["echo"].input_schema["required"] == ["task"]
        assert listed["add"].input_schema["properties"].keys() == {"a", "b"}
        assert listed["add"].description == "Add two integers."

        ran = await client.call_tool("echo", {"task": "hello"})
        assert not ran.is_error and _text(ran) == "echo: hello (1 user messages)"
        assert ran.meta is not None and ran.meta["plait/status"] == "success"

        added = await client.call_tool("add", {"a": 2, "b": 3})
        assert not added.is_error and _text(added) == "5"


@pytest.mark.anyio
async def test_bad_arguments_and_failures_are_tool_errors(served: Served) -> None:
    async with served.connect(
        "served_agents.py:echo", "--tools", "add", "explode", "sleepy"
    ) as client:
        wrong = await client.call_tool("add", {"a": "two", "b": 3})
        assert wrong.is_error and "Invalid arguments for tool 'add'" in _text(wrong)
        assert "- a:" in _text(wrong)
        missing = await client.call_tool("echo", {"text": "hello"})
        assert missing.is_error and "task: required" in _text(missing)
        raised = await client.call_tool("explode", {})
        assert raised.is_error and "RuntimeError('boom')" in _text(raised)
        slow = await client.call_tool("sleepy", {})
        assert slow.is_error and _text(slow) == "Tool 'sleepy' timed out after 0.3s."
        with pytest.raises(MCPError, match="Unknown tool"):
            await client.call_tool("nope", {})
        still = await client.call_tool("add", {"a": 1, "b": 1})  # the server goes on
        assert _text(still) == "2"


@pytest.mark.anyio
async def test_a_failed_run_is_a_tool_error_with_the_run_error(served: Served) -> None:
    async with served.connect("served_agents:broken") as client:
        failed = await client.call_tool("broken", {"task": "anything"})
    assert failed.is_error
    assert "the run ended failed" in _text(failed)
    assert "the model is down for maintenance" in _text(failed)
    assert failed.meta is not None and failed.meta["plait/status"] == "failed"


@pytest.mark.anyio
async def test_structured_output_is_structured_content(served: Served) -> None:
    async with served.connect("served_agents:weather") as client:
        (tool,) = (await client.list_tools()).tools
        assert tool.output_schema is not None
        assert tool.output_schema["required"] == ["city", "temperature_c"]
        result = await client.call_tool("weather", {"task": "Oslo"})
    assert not result.is_error
    assert result.structured_content == {"city": "Oslo", "temperature_c": 21.0}
    assert '"city": "Oslo"' in _text(result)


@pytest.mark.anyio
async def test_a_thread_carries_the_conversation(served: Served, tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'threads.db'}"
    async with served.connect("served_agents:echo", "--store", store) as client:
        first = await client.call_tool("echo", {"task": "one", "thread": "t-1"})
        second = await client.call_tool("echo", {"task": "two", "thread": "t-1"})
        other = await client.call_tool("echo", {"task": "three"})
    assert _text(first) == "echo: one (1 user messages)"
    assert _text(second) == "echo: two (2 user messages)"
    assert second.meta is not None and second.meta["plait/thread_id"] == "t-1"
    assert _text(other) == "echo: three (1 user messages)"
    assert (tmp_path / "threads.db").exists()


@pytest.mark.anyio
async def test_model_flag_and_the_kernel_is_closed_on_shutdown(
    served: Served, env: dict[str, str]
) -> None:
    closed = anyio.Path(env["PROBE_CLOSED"])
    async with served.connect("served_agents:bare", "--model", "probe:echo") as client:
        first = await client.call_tool("bare", {"task": "hi"})
        second = await client.call_tool("bare", {"task": "again"})
        assert not await closed.exists()  # one kernel (and its model) serves every call
    assert _text(first) == _text(second) == "probe echo"
    for _ in range(100):  # the stdio server ends once the client closed its stdin
        if await closed.exists():
            break
        await anyio.sleep(0.1)
    assert await closed.read_text() == "closed\n"


def _serve(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(PLAIT), "mcp", "serve", *args],
        capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60,
        env={**os.environ, **env}, cwd=cwd, check=False,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["served_agents:not_an_agent"], "is a int, not a plait.Agent"),
        (["served_agents:echo", "--transport", "http", "--host", "0.0.0.0"], "--allow-remote"),
    ],
)
def test_mistakes_are_one_line_errors_before_serving(
    env: dict[str, str], tmp_path: Path, args: list[str], message: str
) -> None:
    """(Every mistake is tested in-process in test_serve_units.py; these two show how
    the command reports one.)"""
    done = _serve(env, tmp_path, *args)
    assert done.returncode == 1, done.stderr
    assert done.stderr.startswith("plait: error: "), done.stderr
    assert message in done.stderr
    assert "Traceback" not in done.stderr and "serving MCP" not in done.stderr
