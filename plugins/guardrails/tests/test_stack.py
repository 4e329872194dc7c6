"""The pack enabled by configuration alone: the stack of docs/guardrails-pack.md."""

from __future__ import annotations

from pathlib import Path

import pytest

import plait
from plait import Kernel
from plait.testing import ScriptedModel, call
from plait_guardrails import hooks

POLICY = """
[stack]
guardrails = ["pii.input", "secrets.output", "secrets.tool_result",
              "injection.tool_result", "tool_policy", "size_caps.tool_result"]
enforce = ["guardrails"]

[plugin.guardrails.tool_policy]
allowed_hosts = ["api.example.com"]
"""


@pytest.fixture
def kernel(tmp_path: Path) -> Kernel:
    """The pack registered as a plugin; the stack read from a policy file."""
    path = tmp_path / "plait.toml"
    path.write_text(POLICY)
    return Kernel(plait.load_config(path, environ={}), plugins=[hooks], entry_points=())


@plait.tool
def fetch(url: str) -> str:
    """Fetch a page."""
    return f"fetched {url}"


@pytest.mark.anyio
async def test_the_stack_redacts_input_the_code_never_asked_about(kernel: Kernel) -> None:
    model = ScriptedModel(["noted"])
    result = await plait.arun(
        "mail bob@example.com about it", model=model, kernel=kernel, guardrails=[]
    )
    assert result.ok
    sent = model.requests[0].messages[-1].content
    assert "bob@example.com" not in sent and "[email]" in sent  # masked before the model


@pytest.mark.anyio
async def test_the_stack_refuses_a_call_to_a_host_outside_the_policy(kernel: Kernel) -> None:
    turns = [[call("fetch", url="https://evil.example.net/x")], "gave up"]
    result = await plait.arun("get it", model=ScriptedModel(turns), tools=[fetch], kernel=kernel)
    (refused,) = [m for m in result.messages if isinstance(m, plait.ToolResultMessage)]
    assert refused.is_error and "evil.example.net" in str(refused.content)
    assert any(d.guardrail == "tool_policy" for d in result.guardrails)


def test_plait_stack_names_the_pack(kernel: Kernel) -> None:
    stack = kernel.stack()
    assert stack is not None
    assert {i.name for i in stack.items} >= {"pii.input", "tool_policy"}
    assert all(i.enforced and i.plugin for i in stack.items)
