"""Every field of the ``Context`` a tool receives, in a plain run, a thread run and a
sub-run. A new ``Context`` field fails ``test_every_field_is_checked`` until it is here."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

import plait
from plait import Context, Usage
from plait._kernel import Kernel
from plait.testing import ScriptedModel, Turn, call

FIELDS = {
    "run_id",
    "deps",
    "agent",
    "usage",
    "tool_call_id",
    "retry",
    "thread_id",
    "parent_run_id",
    "_cancel_requested",
    "_cancel_check",
}


def test_every_field_is_checked() -> None:
    assert {f.name for f in dataclasses.fields(Context)} == FIELDS


def _seen(ctx: Context[Any]) -> dict[str, Any]:
    """What a tool sees, field by field (a copy: the run goes on after the call)."""
    return {
        "run_id": ctx.run_id,
        "deps": ctx.deps,
        "agent": ctx.agent,
        "usage": ctx.usage.model_copy(),
        "tool_call_id": ctx.tool_call_id,
        "retry": ctx.retry,
        "thread_id": ctx.thread_id,
        "parent_run_id": ctx.parent_run_id,
        "_cancel_requested": ctx._cancel_requested,
        "_cancel_check": ctx._cancel_check is not None,
        "cancelled()": ctx.cancelled(),
    }


def _probe(seen: list[dict[str, Any]]) -> Any:
    def probe(ctx: Context[Any], n: int) -> str:
        """Report the context; asks for a retry until n is 1."""
        seen.append(_seen(ctx))
        if n < 1:
            raise plait.Retry("n must be 1")
        return "ok"

    return probe


def _model() -> ScriptedModel:
    used = Usage(input_tokens=3, output_tokens=2, requests=1)
    return ScriptedModel(
        [
            Turn(calls=(call("probe", id="c1", n=0),), usage=used),
            Turn(calls=(call("probe", id="c2", n=1),), usage=used),
            "done",
        ]
    )


def _expected(result: plait.Result[Any], **fields: Any) -> list[dict[str, Any]]:
    common = {
        "run_id": result.run_id,
        "_cancel_requested": False,
        "_cancel_check": True,
        "cancelled()": False,
        **fields,
    }
    first = Usage(input_tokens=3, output_tokens=2, requests=1)
    second = Usage(input_tokens=6, output_tokens=4, requests=2)
    return [
        {**common, "tool_call_id": "c1", "retry": 0, "usage": first},
        {**common, "tool_call_id": "c2", "retry": 1, "usage": second},
    ]


@pytest.mark.anyio
async def test_a_plain_run(kernel: Kernel) -> None:
    seen: list[dict[str, Any]] = []
    deps = {"db": object()}
    result = await plait.arun(
        "x", model=_model(), tools=[_probe(seen)], deps=deps, name="asker", kernel=kernel
    )
    assert result.status == "success"
    assert seen == _expected(result, deps=deps, agent="asker", thread_id=None, parent_run_id=None)


@pytest.mark.anyio
async def test_a_thread_run(kernel: Kernel, tmp_path: Path) -> None:
    seen: list[dict[str, Any]] = []
    result = await plait.arun(
        "x",
        model=_model(),
        tools=[_probe(seen)],
        deps=7,
        thread="support-42",
        store=f"sqlite:///{tmp_path}/plait.db",
        kernel=kernel,
    )
    assert result.status == "success" and result.thread_id is not None
    assert seen == _expected(
        result, deps=7, agent=None, thread_id=result.thread_id, parent_run_id=None
    )


@pytest.mark.anyio
async def test_a_sub_run(kernel: Kernel) -> None:
    seen: list[dict[str, Any]] = []
    inner: list[plait.Result[Any]] = []

    async def delegate(ctx: Context[Any]) -> str:
        """Ask a helper."""
        result = await plait.arun(
            "y", model=_model(), tools=[_probe(seen)], name="helper", deps="d", kernel=kernel
        )
        inner.append(result)
        return str(result.output)

    outer_model = ScriptedModel([call("delegate"), "done"])
    outer = await plait.arun("x", model=outer_model, tools=[delegate], kernel=kernel)
    assert outer.status == "success" and inner[0].run_id != outer.run_id
    assert seen == _expected(
        inner[0], deps="d", agent="helper", thread_id=None, parent_run_id=outer.run_id
    )
