"""`plait mcp serve` in-process: the SDK's client connected to ``build_server`` directly
(asyncio and trio), the mistakes refused before serving, and docs/cli.md naming every
flag of the command. test_serve.py runs the real command as a process."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from pydantic import BaseModel

import plait
from plait.testing import FunctionModel, complete, make_kernel
from plait_mcp import cli
from plait_mcp.serve import ServeOptions, build_server, check_host, load_agent, make_offers
from plait_mcp.serve_tools import AgentOffer, ToolOffer, mcp_name

DOCS = Path(__file__).resolve().parents[3] / "docs"
SECRET = "sk-test-0123456789abcdefghijklmnop"


def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


def leak() -> str:
    """Fails with a secret in its message."""
    raise RuntimeError(f"cannot reach the API with key {SECRET}")


def report() -> dict[str, Any]:
    """A structured result."""
    return {"ok": True, "items": [1, 2]}


@plait.tool(requires_approval=True)
def delete_all() -> str:
    """Dangerous."""
    return "gone"


class _Remote:
    """A live toolset (its tools come from elsewhere when a run starts)."""

    name = "remote"

    def tools(self) -> list[Any]:
        return []

    async def list_tools(self) -> list[Any]:
        return []

    async def __aenter__(self) -> _Remote:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None


class _Tools:
    @plait.hookimpl
    def plait_register_tools(self) -> list[Any]:
        return [add, leak, report, delete_all, _Remote()]


@pytest.fixture
def kernel() -> plait.Kernel:
    return make_kernel(_Tools())


def _count(messages: list[Any], params: Any) -> Any:
    return complete(result=len(messages[-1].content))


counter: plait.Agent[int] = plait.Agent("counter", model=FunctionModel(_count), output=int)
helper: plait.Agent[str] = plait.Agent("my helper!", model=FunctionModel(lambda m, p: "hi"))


def _text(result: Any) -> str:
    return "\n".join(c.text for c in result.content)


@pytest.mark.anyio
async def test_in_process_list_and_call(kernel: plait.Kernel) -> None:
    offers: list[AgentOffer | ToolOffer] = [
        AgentOffer(counter, kernel=kernel, run_options={}),
        *(ToolOffer(kernel.get("tools", n), kernel=kernel) for n in ("add", "report")),
    ]
    async with Client(build_server(offers, name="test")) as client:
        listed = {t.name: t for t in (await client.list_tools()).tools}
        assert sorted(listed) == ["add", "counter", "report"]
        # a non-object output type is wrapped: MCP wants an object at the root
        assert listed["counter"].output_schema == {
            "type": "object",
            "properties": {"result": {"type": "integer"}},
            "required": ["result"],
        }
        counted = await client.call_tool("counter", {"task": "four"})
        assert counted.structured_content == {"result": 4} and _text(counted) == "4"
        reported = await client.call_tool("report", {})
        assert reported.structured_content == {"ok": True, "items": [1, 2]}
        wrong = await client.call_tool("add", {"a": 1})
        assert wrong.is_error and "- b: Field required" in _text(wrong)
        extra = await client.call_tool("add", {"a": 1, "b": 2, "c": 3})
        assert extra.is_error and "- c: Extra inputs are not permitted" in _text(extra)
    await kernel.aclose()


@pytest.mark.anyio
async def test_a_tool_error_is_redacted(
    kernel: plait.Kernel, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ACME_API_KEY", SECRET)
    offer = ToolOffer(kernel.get("tools", "leak"), kernel=kernel)
    async with Client(build_server([offer])) as client:
        failed = await client.call_tool("leak", {})
    assert failed.is_error and "cannot reach the API" in _text(failed)
    assert SECRET not in _text(failed)
    await kernel.aclose()


def test_agent_names_become_valid_tool_names(kernel: plait.Kernel) -> None:
    assert mcp_name("my helper!") == "my_helper_"
    assert AgentOffer(helper, kernel=kernel, run_options={}).name == "my_helper_"
    assert mcp_name("") == "agent"


def _write(tmp_path: Path, source: str) -> str:
    (tmp_path / "agents_here.py").write_text(source)
    return str(tmp_path / "agents_here.py")


def test_load_agent_takes_a_module_or_a_file(tmp_path: Path) -> None:
    path = _write(tmp_path, "import plait\nbot = plait.Agent('bot')\n")
    assert load_agent(f"{path}:bot").name == "bot"
    assert load_agent(f"{__name__}:counter") is counter


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("FILE:number", "is a int, not a plait.Agent"),
        ("FILE:missing", "has no attribute 'missing'"),
        ("FILE", "expected 'module:attribute'"),
        ("no_such_module_here:agent", "importing no_such_module_here failed"),
        ("BROKEN:agent", "RuntimeError: broken on import"),
    ],
)
def test_load_agent_mistakes(tmp_path: Path, ref: str, message: str) -> None:
    path = _write(tmp_path, "number = 42\n")
    broken = tmp_path / "broken_agents.py"
    broken.write_text("raise RuntimeError('broken on import')\n")
    ref = ref.replace("BROKEN", str(broken)).replace("FILE", path)
    with pytest.raises(plait.ConfigError, match=re.escape(message)):
        load_agent(ref)


def test_only_loopback_without_allow_remote() -> None:
    for host in ("127.0.0.1", "localhost", "::1"):
        check_host(host, allow_remote=False)
    with pytest.raises(plait.ConfigError, match="--allow-remote"):
        check_host("0.0.0.0", allow_remote=False)
    check_host("0.0.0.0", allow_remote=True)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (ServeOptions(), "nothing to serve"),
        (ServeOptions(tools=("nope",)), "nope"),
        (ServeOptions(tools=("delete_all",)), "requires approval"),
        (ServeOptions(tools=("add", "add")), "two offered tools are named 'add'"),
        (ServeOptions(tools=("remote",)), "a live toolset"),
        (ServeOptions(tools=("agents.py:agent",)), "put AGENT before --tools"),
        (ServeOptions(agent=f"{__name__}:counter", model="nope:x"), "nope"),
    ],
)
def test_make_offers_mistakes(kernel: plait.Kernel, options: ServeOptions, message: str) -> None:
    with pytest.raises(plait.PlaitError, match=re.escape(message)):
        make_offers(options, kernel)


class Forecast(BaseModel):
    city: str


def test_an_object_output_type_is_its_own_schema(kernel: plait.Kernel) -> None:
    agent: plait.Agent[Forecast] = plait.Agent("forecaster", output=Forecast)
    schema = AgentOffer(agent, kernel=kernel, run_options={}).spec.output_schema
    assert schema is not None and schema["properties"] == {
        "city": {"title": "City", "type": "string"}
    }


def _flags(parser: argparse.ArgumentParser) -> set[str]:
    found: set[str] = set()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found |= {name} | _flags(sub)
        else:
            found.update(action.option_strings)
    return found - {"-h", "--help"}


def test_docs_cli_names_every_flag_of_plait_mcp() -> None:
    parser = argparse.ArgumentParser(prog="plait mcp")
    cli.add_arguments(parser)
    section = re.split(r"^(?=## )", (DOCS / "cli.md").read_text(), flags=re.M)
    text = "\n".join(p for p in section if p.startswith("## `plait mcp"))
    assert text, "docs/cli.md has no section headed `plait mcp ...`"
    missing = [f for f in sorted(_flags(parser)) if f"`{f}" not in text and f" {f}" not in text]
    assert missing == []
    assert cli.HELP and "plait_mcp" in sys.modules
