"""Tool-call ids from the model are not trusted (issue 12, rule 3).

Ids that repeat within an answer, repeat an earlier turn's or are empty never make two
results share an id on the wire, never break a recorded run, and never let one call's
approval stand for another's.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import plait
from plait import AssistantMessage, ModelResponse, ToolCall, ToolResultMessage, Usage
from plait._run._answer import unique_call_ids
from plait.testing import ScriptedModel, Turn, call, make_kernel


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _answer(*calls: ToolCall) -> ModelResponse:
    """An answer with exactly these calls (ids kept as given, even empty ones)."""
    return ModelResponse(
        message=AssistantMessage(tool_calls=list(calls)),
        usage=Usage(requests=1),
        finish_reason="tool_calls",
    )


def _raw(name: str, id: str, **args: Any) -> ToolCall:
    return ToolCall(id=id, name=name, arguments=json.dumps(args))


def _echo_tool(log: list[tuple[str, int]]) -> Any:
    @plait.tool
    def note(ctx: plait.Context[Any], n: int) -> str:
        """Write n down."""
        log.append((ctx.tool_call_id, n))
        return f"noted {n}"

    return note


def _wire_pairs(messages: list[Any]) -> tuple[list[str], list[str]]:
    calls = [c.id for m in messages if isinstance(m, AssistantMessage) for c in m.tool_calls]
    results = [m.tool_call_id for m in messages if isinstance(m, ToolResultMessage)]
    return calls, results


def _assert_well_formed(messages: list[Any]) -> None:
    calls, results = _wire_pairs(messages)
    assert all(calls), "every call has an id"
    assert len(set(calls)) == len(calls), f"call ids repeat on the wire: {calls}"
    assert sorted(results) == sorted(calls), "one result per call, ids matching"


SCRIPTS: dict[str, list[Any]] = {
    "same id twice in one answer": [
        _answer(_raw("note", "c1", n=1), _raw("note", "c1", n=2)),
        "done",
    ],
    "an earlier turn's id again": [
        _answer(_raw("note", "c1", n=1)),
        _answer(_raw("note", "c1", n=2)),
        "done",
    ],
    "empty ids": [
        _answer(_raw("note", "", n=1), _raw("note", "", n=2)),
        _answer(_raw("note", "", n=3)),
        "done",
    ],
    "a renamed id's new name taken later": [
        _answer(_raw("note", "c1", n=1), _raw("note", "c1", n=2)),
        _answer(_raw("note", "c1_2", n=3), _raw("note", "c1_2", n=4)),
        "done",
    ],
}


@pytest.mark.anyio
@pytest.mark.parametrize("script", SCRIPTS.values(), ids=list(SCRIPTS))
async def test_every_call_gets_its_own_result_on_the_wire(script: list[Any]) -> None:
    log: list[tuple[str, int]] = []
    model = ScriptedModel(script)
    result = await plait.arun("go", model=model, tools=[_echo_tool(log)], kernel=make_kernel())
    assert result.status == "success"
    runs = Counter(n for _, n in log)
    assert all(count == 1 for count in runs.values()) and len(runs) == len(log)
    _assert_well_formed(result.messages)
    _assert_well_formed(model.requests[-1].messages)  # what the provider was sent
    ids_seen_by_tools = [cid for cid, _ in log]
    assert len(set(ids_seen_by_tools)) == len(ids_seen_by_tools)


@pytest.mark.anyio
async def test_events_approvals_and_results_carry_the_new_id() -> None:
    log: list[tuple[str, int]] = []
    events: list[plait.Event] = []
    script = [_answer(_raw("note", "c1", n=1), _raw("note", "c1", n=2)), "done"]
    await plait.arun(
        "go",
        model=ScriptedModel(script),
        tools=[_echo_tool(log)],
        kernel=make_kernel(),
        handlers=[events.append],
    )
    announced = next(e for e in events if e.kind == "model.response").data["tool_calls"]
    started = [e.data["id"] for e in events if e.kind == "tool.start"]
    ended = [e.data["id"] for e in events if e.kind == "tool.end"]
    ids = [c["id"] for c in announced]
    assert len(set(ids)) == 2
    assert sorted(started) == sorted(ended) == sorted(ids) == sorted(cid for cid, _ in log)


@pytest.mark.anyio
@pytest.mark.parametrize("script", SCRIPTS.values(), ids=list(SCRIPTS))
async def test_a_recorded_run_with_repeated_ids_records_every_call(
    tmp_path: Path, script: list[Any]
) -> None:
    log: list[tuple[str, int]] = []
    kernel = make_kernel()
    url = f"sqlite:///{tmp_path}/ids.db"
    result = await plait.arun(
        "go", model=ScriptedModel(script), tools=[_echo_tool(log)], kernel=kernel, store=url
    )
    assert result.status == "success", result.error
    _assert_well_formed(result.messages)
    # the store gives the same well-formed history back, and resuming runs nothing again
    again = await plait.arun(
        model=ScriptedModel(["unused"]),
        tools=[_echo_tool(log)],
        kernel=kernel,
        store=url,
        resume=result.run_id,
    )
    assert again.status == "success"
    _assert_well_formed(again.messages)
    assert len(log) == sum(1 for m in result.messages if isinstance(m, ToolResultMessage))
    await kernel.aclose()


def _transfer(ran: list[int]) -> Any:
    @plait.tool(requires_approval=True)
    def transfer(amount: int) -> str:
        """Move money."""
        ran.append(amount)
        return f"sent {amount}"

    return transfer


def _refund(ran: list[int]) -> Any:
    @plait.tool(requires_approval=True)
    def refund(amount: int) -> str:
        """Give money back."""
        ran.append(-amount)
        return f"refunded {amount}"

    return refund


@pytest.mark.anyio
async def test_an_approval_given_for_one_call_is_not_reused_for_a_call_with_its_id() -> None:
    """An approver that caches answers by call id cannot be tricked by a repeated id."""
    ran: list[int] = []
    cache: dict[str, plait.Approval] = {}

    def approve(request: plait.ApprovalRequest) -> plait.Approval:
        if request.call_id not in cache:  # the app asks a person once per call id
            cache[request.call_id] = (
                request.approve() if request.args["amount"] < 10 else (request.deny())
            )
        return cache[request.call_id]

    same_id = (call("transfer", amount=5, id="c1"), call("transfer", amount=9000, id="c1"))
    script = [Turn(calls=same_id), "ok"]
    await plait.arun(
        "pay", model=ScriptedModel(script), tools=[_transfer(ran)], approve=approve,
        kernel=make_kernel(),
    )  # fmt: skip
    assert ran == [5]


@pytest.mark.anyio
async def test_an_approval_binds_the_tool_name() -> None:
    """The same id and the same arguments, but another tool: the approval does not apply."""
    ran: list[int] = []
    given: list[plait.Approval] = []

    def approve(request: plait.ApprovalRequest) -> plait.Approval:
        if not given:
            given.append(request.approve())
        return given[0]  # replays the first approval for every later request

    script = [call("transfer", amount=5, id="c1"), call("refund", amount=5, id="c1"), "ok"]
    await plait.arun(
        "pay", model=ScriptedModel(script), tools=[_transfer(ran), _refund(ran)],
        approve=approve, kernel=make_kernel(),
    )  # fmt: skip
    assert ran == [5]


def test_a_hand_built_approval_must_name_the_tool() -> None:
    request = plait.ApprovalRequest("r", "transfer", "c1", '{"amount":5}')
    assert request.approve().binds(request)
    assert not plait.Approval(True, "c1", '{"amount":5}').binds(request)
    assert plait.Approval(True, "c1", '{"amount":5}', tool="transfer").binds(request)
    assert not plait.Approval(True, "c1", '{"amount":5}', tool="refund").binds(request)


ids = st.text(alphabet="ab_2", max_size=4)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(turns=st.lists(st.lists(ids, min_size=1, max_size=5), min_size=1, max_size=5))
def test_ids_come_out_unique_nonempty_and_unique_ones_unchanged(turns: list[list[str]]) -> None:
    taken: set[str] = set()
    out: list[str] = []
    for turn in turns:
        response = _answer(*(_raw("t", i) for i in turn))
        before = set(taken)
        new = [c.id for c in unique_call_ids(response, taken).message.tool_calls]
        for k, original in enumerate(turn):
            if original and original not in before and turn.index(original) == k:
                assert new[k] == original  # the first use of a fresh id is kept
        out.extend(new)
    assert all(out)
    assert len(set(out)) == len(out)
    assert set(out) == taken
