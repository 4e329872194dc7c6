"""Properties of every run, whatever the model does (Hypothesis)."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

import plait
from plait import AssistantMessage, ToolResultMessage
from plait._run import STATUSES
from plait.testing import ScriptedModel, Turn, call, complete, make_kernel


def ok(x: int = 0) -> int:
    """Fine."""
    return x


def boom() -> int:
    """Raises."""
    raise ValueError("secret")


def again() -> int:
    """Asks for a retry."""
    raise plait.Retry("try again")


CALLS = st.sampled_from(
    [
        call("ok", x=1),
        call("ok", x="not an int"),
        call("boom"),
        call("again"),
        call("missing"),
        call("ok", "{broken"),
        complete(result=5),
        complete(result="five"),
        complete(status="failed", summary="gave up"),
    ]
)
TURNS = st.one_of(
    st.text(max_size=20).map(lambda t: Turn(text=t)),
    st.lists(CALLS, min_size=1, max_size=3).map(lambda cs: Turn(calls=tuple(cs))),
)


def _well_formed(messages: Any) -> None:
    pending: set[str] = set()
    for m in messages:
        if isinstance(m, AssistantMessage):
            assert not pending, "a tool call was left without its result"
            pending = {c.id for c in m.tool_calls}
        elif isinstance(m, ToolResultMessage):
            assert m.tool_call_id in pending
            pending.discard(m.tool_call_id)
            assert "secret" not in m.content
    assert not pending, "a tool call was left without its result"


@settings(max_examples=60, deadline=None)
@given(
    script=st.lists(TURNS, min_size=1, max_size=8),
    output=st.sampled_from([str, int]),
    on_limit=st.sampled_from(["raise", "partial", "final_answer"]),
)
def test_every_run_ends_well_formed(script: list[Turn], output: Any, on_limit: Any) -> None:
    model = ScriptedModel([*script, *([Turn(text="fallback")] * 3)])
    try:
        result = plait.run(
            "x",
            model=model,
            tools=[ok, boom, again],
            output=output,
            kernel=make_kernel(),
            on_limit=on_limit,
            limits=plait.Limits(turns=4, tool_retries=3, output_retries=2),
        )
    except plait.RunError as exc:
        result = exc.result
    except plait.ProviderError:  # the script ran out: only possible past the limits
        assert len(model.requests) > len(script)
        return
    assert result.status in STATUSES
    assert result.turns <= 5  # 4 turns, plus one final answer
    _well_formed(result.messages)
    if result.status == "success":
        assert isinstance(result.output, output)
