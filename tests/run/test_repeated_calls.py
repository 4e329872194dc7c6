"""Loop protection: an identical call made too often is answered from history, not run
again; the tool is withheld for a turn; ``tool_choice`` never names a withheld tool."""

from __future__ import annotations

import pytest

import plait
from plait.testing import ScriptedModel, call, complete


def counter() -> tuple[list[str], object]:
    runs: list[str] = []

    def lookup(city: str) -> str:
        """Look a city up."""
        runs.append(city)
        return f"{city}: ok"

    return runs, lookup


@pytest.mark.anyio
async def test_identical_calls_beyond_the_limit_are_not_run_and_the_tool_is_withheld() -> None:
    runs, lookup = counter()
    model = ScriptedModel(
        [call("lookup", city="Paris")] * 3 + [complete(result="done", summary="ok")]
    )
    limits = plait.Limits(repeated_tool_calls=2)
    result = await plait.arun(
        "x", model=model, tools=[lookup], limits=limits, require_completion=True
    )
    assert result.status == "success"
    assert runs == ["Paris", "Paris"]  # the third identical call was not run
    offered = [[t.name for t in r.params.tools] for r in model.requests]
    assert offered[3] == ["complete"]  # withheld for the turn after the refused call
    assert "lookup" in offered[0] and "lookup" in offered[2]
    # answered from history: the earlier result again, which a small model copies from
    # (a note about the refusal was copied into the output as if it were data)
    answer = [m for m in result.messages if getattr(m, "name", None) == "lookup"][-1]
    assert (answer.content, answer.is_error) == ("Paris: ok", False)


@pytest.mark.anyio
async def test_a_repeat_of_a_failed_call_is_told_it_was_already_made() -> None:
    def flaky(city: str) -> str:
        """Fails."""
        raise RuntimeError("down")

    model = ScriptedModel([call("flaky", city="P")] * 2 + [complete(result="x")])
    result = await plait.arun(
        "x",
        model=model,
        tools=[plait.tool(flaky, retries=5)],
        require_completion=True,
        limits=plait.Limits(repeated_tool_calls=1),
    )
    note = [m for m in result.messages if getattr(m, "name", None) == "flaky"][-1]
    assert "already called 1 time(s)" in note.content and not note.is_error


@pytest.mark.anyio
async def test_different_arguments_are_not_repeats_and_the_limit_can_be_switched_off() -> None:
    runs, lookup = counter()
    script = [call("lookup", city=c) for c in ("A", "B", "A")] + [complete(result="x")]
    await plait.arun(
        "x",
        model=ScriptedModel(script),
        tools=[lookup],
        require_completion=True,
        limits=plait.Limits(repeated_tool_calls=1),
    )
    assert runs == ["A", "B"]
    runs2, lookup2 = counter()
    await plait.arun(
        "x",
        model=ScriptedModel([call("lookup", city="A")] * 3 + [complete(result="x")]),
        tools=[lookup2],
        require_completion=True,
        limits=plait.Limits(repeated_tool_calls=None),
    )
    assert runs2 == ["A", "A", "A"]


@pytest.mark.anyio
async def test_a_tool_choice_naming_a_tool_holds_until_that_tool_is_called() -> None:
    runs, lookup = counter()

    def other() -> str:
        """Another tool."""
        return "other"

    script = [call("other"), call("lookup", city="P"), call("lookup", city="P"), "done"]
    model = ScriptedModel(script)
    result = await plait.arun(
        "x",
        model=model,
        tools=[lookup, other],
        limits=plait.Limits(repeated_tool_calls=1),
        settings=plait.ModelSettings(tool_choice="lookup"),
    )
    choices = [r.params.settings.tool_choice for r in model.requests]
    assert choices == ["lookup", "lookup", "auto", "auto"]  # released once lookup was called
    assert (result.output, runs) == ("done", ["P"])
    # the repeat was answered from history and lookup withheld for a turn
    assert [t.name for t in model.requests[3].params.tools] == ["other"]


@pytest.mark.anyio
async def test_a_released_tool_choice_stays_required_when_the_run_must_complete() -> None:
    _, lookup = counter()
    model = ScriptedModel([call("lookup", city="P"), complete(result="x")])
    await plait.arun(
        "x",
        model=model,
        tools=[lookup],
        require_completion=True,
        settings=plait.ModelSettings(tool_choice="lookup"),
    )
    choices = [r.params.settings.tool_choice for r in model.requests]
    assert choices == ["lookup", "required"]


@pytest.mark.anyio
async def test_completion_required_asks_the_model_for_a_call() -> None:
    model = ScriptedModel([complete(result=3)])
    await plait.arun("x", model=model, output=int)
    assert model.requests[0].params.settings.tool_choice == "required"
    text_model = ScriptedModel(["plain"])
    await plait.arun("x", model=text_model)
    assert text_model.requests[0].params.settings.tool_choice is None
