"""The plugin's own test, using the fixtures plait ships for plugin authors."""

from __future__ import annotations

import pytest

import plait
from plait_skeleton import hooks


@pytest.mark.anyio
async def test_registers_a_working_tool_and_verifier(plait_kernel) -> None:
    kernel = plait_kernel(hooks)
    tool = kernel.tools()["word_count"]
    ctx = plait.Context(run_id="test")
    assert await tool.call({"text": "three small words"}, ctx) == 3
    with pytest.raises(plait.Retry):
        await tool.call({"text": 42}, ctx)
    verifier = kernel.verifiers()["non_empty_summary"]
    ok = await verifier.verify(plait.Completion(summary="done"), ctx)
    bad = await verifier.verify(plait.Completion(summary=" "), ctx)
    assert ok.passed and not bad.passed
