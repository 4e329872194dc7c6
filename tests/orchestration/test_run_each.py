"""Several prompts on one conversation (issue 13, item 5): llmling-agent's ``run_iter``
as ``plait.run_each`` / ``plait.arun_each`` — each run continues the previous one."""

from __future__ import annotations

from pathlib import Path

import pytest

import plait
from plait._jobs import arun_each, run_each
from plait.testing import ScriptedModel


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _sent(model: ScriptedModel, n: int) -> list[tuple[str, str]]:
    """(role, text) of what the model was sent in request ``n``."""
    out: list[tuple[str, str]] = []
    for m in model.requests[n].messages:
        text = getattr(m, "content", None) or getattr(m, "text", None) or ""
        out.append((m.role, str(text)))
    return out


def test_the_second_prompt_is_sent_with_the_first_exchange() -> None:
    model = ScriptedModel(["Paris.", "About 2.1 million."])
    results = run_each(
        ["Capital of France?", "Its population?"], model=model, instructions="Be brief."
    )
    assert [r.output for r in results] == ["Paris.", "About 2.1 million."]
    assert _sent(model, 1) == [
        ("system", "Be brief."),  # once: the run's instructions replace the carried one
        ("user", "Capital of France?"),
        ("assistant", "Paris."),
        ("user", "Its population?"),
    ]
    assert len({r.run_id for r in results}) == 2


def test_a_given_message_history_starts_the_conversation() -> None:
    first = plait.run("Hi, I am Ada.", model=ScriptedModel(["Hello Ada."]))
    model = ScriptedModel(["Ada.", "Yes."])
    run_each(["My name?", "Sure?"], model=model, message_history=first.messages)
    assert [t for _, t in _sent(model, 1)] == [
        "Hi, I am Ada.",
        "Hello Ada.",
        "My name?",
        "Ada.",
        "Sure?",
    ]


@pytest.mark.anyio
async def test_arun_each_yields_each_result_as_it_ends(anyio_backend: str) -> None:
    model = ScriptedModel(["one", "two", "three"])
    seen = []
    async for result in arun_each(["a", "b", "c"], model=model):
        seen.append((result.output, len(model.requests)))  # later prompts not yet sent
    assert seen == [("one", 1), ("two", 2), ("three", 3)]


def test_on_a_thread_the_store_keeps_the_conversation(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path}/each.db"
    model = ScriptedModel(["Noted: 1234.", "It was 1234.", "Yes, 1234."])
    results = run_each(
        ["Order 1234 is late.", "Which order?"], model=model, thread="t", store=store
    )
    assert [r.thread_id for r in results] == ["t", "t"]
    assert ("assistant", "Noted: 1234.") in _sent(model, 1)
    later = plait.run("Still 1234?", model=model, thread="t", store=store)
    assert [t for _, t in _sent(model, 2)][:4] == [
        "Order 1234 is late.",
        "Noted: 1234.",
        "Which order?",
        "It was 1234.",
    ]
    assert later.output == "Yes, 1234."


def test_thread_and_message_history_together_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="message_history"):
        run_each(
            ["a"],
            model=ScriptedModel(["x"]),
            thread="t",
            store=f"sqlite:///{tmp_path}/x.db",
            message_history=[plait.UserMessage(content="hi")],
        )


def test_with_an_agent() -> None:
    model = ScriptedModel(["1", "2"])
    agent = plait.Agent("counter", model=model, instructions="Count.")
    results = run_each(["go", "again"], agent=agent)
    assert [(r.agent, r.output) for r in results] == [("counter", "1"), ("counter", "2")]
    assert _sent(model, 1)[0] == ("system", "Count.")


def test_a_failing_run_ends_the_sequence_and_says_where() -> None:
    model = ScriptedModel(["fine"])  # the second prompt finds no scripted turn
    with pytest.raises(plait.ProviderError) as info:
        run_each(["a", "b", "c"], model=model)
    assert any("prompt 2 failed after 1 ran" in n for n in info.value.__notes__)
    assert len(model.requests) == 2


@pytest.mark.anyio
async def test_the_sync_form_works_inside_a_running_loop(anyio_backend: str) -> None:
    results = run_each(["a", "b"], model=ScriptedModel(["x", "y"]))
    assert [r.output for r in results] == ["x", "y"]


def test_bad_prompts_are_refused_clearly() -> None:
    model = ScriptedModel(["x"])
    with pytest.raises(TypeError, match="pass a list"):
        run_each("just one", model=model)
    with pytest.raises(TypeError, match="one or more"):
        run_each([], model=model)
    with pytest.raises(ValueError, match="run_id"):
        run_each(["a", "b"], model=model, run_id="one")
