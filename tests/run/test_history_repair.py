"""History is repaired both ways before any request (issue 12, rule 7): dangling calls
get a result, orphan and duplicate results are left out — for any history."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

import plait
from plait import AssistantMessage, ToolCall, ToolResultMessage, UserMessage
from plait._run._history import UNANSWERED, repair_history
from plait.testing import ScriptedModel, make_kernel

IDS = st.sampled_from(["a", "b", "c"])
CALLS = st.lists(IDS, max_size=3).map(
    lambda ids: AssistantMessage(tool_calls=[ToolCall(id=i, name="t", arguments="{}") for i in ids])
)
RESULTS = IDS.map(lambda i: ToolResultMessage(tool_call_id=i, name="t", content="r"))
MESSAGES = st.one_of(CALLS, RESULTS, st.just(UserMessage(content="u")))


def _well_formed(history: list[plait.Message]) -> None:
    """Each call has exactly one result right after its assistant message; nothing else."""
    expected: list[str] = []
    for m in history:
        if isinstance(m, ToolResultMessage):
            assert expected and m.tool_call_id == expected.pop(0), history
            continue
        assert not expected, history  # every call of the last assistant message answered
        if isinstance(m, AssistantMessage):
            expected = list(dict.fromkeys(c.id for c in m.tool_calls))
    assert not expected


@given(st.lists(MESSAGES, max_size=12))
def test_any_history_comes_out_well_formed(history: list[plait.Message]) -> None:
    repaired = repair_history(history)
    kept = [
        m for m in repaired if not (isinstance(m, ToolResultMessage) and m.content == UNANSWERED)
    ]
    # nothing but results is ever dropped, and nothing is reordered
    others = [m for m in history if not isinstance(m, ToolResultMessage)]
    assert [m for m in kept if not isinstance(m, ToolResultMessage)] == others
    ordered = _in_call_order(repaired)
    _well_formed(ordered)
    assert repair_history(repaired) == repaired  # repairing twice changes nothing


def _in_call_order(history: list[plait.Message]) -> list[plait.Message]:
    """Results may come in any order after their assistant message: sort them by call."""
    out: list[plait.Message] = []
    order: dict[str, int] = {}
    block: list[ToolResultMessage] = []
    for m in [*history, UserMessage(content="end")]:
        if isinstance(m, ToolResultMessage):
            block.append(m)
            continue
        out.extend(sorted(block, key=lambda r: order.get(r.tool_call_id, 99)))
        block = []
        if isinstance(m, AssistantMessage):
            order = {i: n for n, i in enumerate(dict.fromkeys(c.id for c in m.tool_calls))}
        out.append(m)
    return out[:-1]


def test_orphan_and_duplicate_results_never_reach_the_model() -> None:
    call = AssistantMessage(tool_calls=[ToolCall(id="a", name="t", arguments="{}")])
    history = [
        UserMessage(content="q"),
        ToolResultMessage(tool_call_id="x", name="t", content="orphan"),
        call,
        ToolResultMessage(tool_call_id="a", name="t", content="first"),
        ToolResultMessage(tool_call_id="a", name="t", content="second"),
    ]
    model = ScriptedModel(["ok"])
    plait.run("next", model=model, message_history=history, kernel=make_kernel())
    sent = model.requests[0].messages
    results = [m.content for m in sent if isinstance(m, ToolResultMessage)]
    assert results == ["first"]
