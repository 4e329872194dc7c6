"""Output guardrails also cover streamed output (docs/guardrails.md).

When a watched run has output guardrails, the answer's events are held back until they
pass: a blocked, rejected or unverified answer is never shown (only the decisions), a
rewritten one is shown rewritten, and turns that call tools are shown at once.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest

import plait
from plait import Completion, Decision, Event
from plait._kernel import Kernel
from plait.testing import ScriptedModel, Turn, call, complete

SECRET = "the launch code is ZEBRA-7"
CONTENT = {"text.delta", "thinking.delta", "tool_call.delta"}


def _text(events: list[Event]) -> str:
    return "".join(e.data["text"] for e in events if e.kind == "text.delta")


def _shows(events: list[Event], secret: str) -> bool:
    """Any event's data mentions ``secret`` (deltas joined: it may be split)."""
    return secret in _text(events) or any(secret in repr(e.data) for e in events)


async def _stream(model: Any, kernel: Kernel, **options: Any) -> tuple[list[Event], Any, Any]:
    partials: list[Any] = []
    async with plait.stream(
        "x", model=model, kernel=kernel, raise_on_failure=False, **options
    ) as s:
        events = []
        async for event in s:
            events.append(event)
            partials.append(s.partial())
        result = await s.result()
    return events, result, partials


@pytest.mark.anyio
async def test_a_blocked_streamed_answer_is_never_shown(kernel: Kernel) -> None:
    block = plait.guardrail(stage="output")(
        lambda text: "it holds a code" if "ZEBRA" in text else True
    )
    events, result, partials = await _stream(
        ScriptedModel([SECRET], chunk_size=3), kernel, guardrails=[block]
    )
    assert result.status == "blocked"
    assert not _shows(events, "ZEBRA") and not any(e.kind in CONTENT for e in events)
    assert all(p is None for p in partials)
    kinds = [e.kind for e in events]
    assert kinds == ["run.start", "model.request", "model.response", "guardrail", "run.end"]
    assert events[2].data["text"] is None  # the response is announced, its text is not
    assert [e.seq for e in events] == list(range(len(events)))


@pytest.mark.anyio
async def test_an_allowed_answer_is_shown_after_the_guardrails_passed(kernel: Kernel) -> None:
    checked: list[str] = []

    @plait.guardrail(stage="output")
    def fine(text: str) -> bool:
        checked.append(text)
        return True

    seen_when_checked: list[bool] = []
    async with plait.stream(
        "x", model=ScriptedModel(["all is well"], chunk_size=2), guardrails=[fine], kernel=kernel
    ) as s:
        events = []
        async for event in s:
            if event.kind == "text.delta":
                seen_when_checked.append(bool(checked))
            events.append(event)
    assert seen_when_checked and all(seen_when_checked)  # no text before the check
    assert _text(events) == "all is well"
    assert [e.seq for e in events] == list(range(len(events)))
    kinds = [e.kind for e in events]
    assert kinds.index("text.delta") < kinds.index("model.response") < kinds.index("guardrail")


@pytest.mark.anyio
async def test_a_rewritten_answer_is_shown_rewritten(kernel: Kernel) -> None:
    @plait.guardrail(stage="output")
    def scrub(text: str) -> Decision:
        return Decision(action="replace", replacement=text.replace("ZEBRA-7", "****"))

    events, result, _ = await _stream(
        ScriptedModel([SECRET], chunk_size=3), kernel, guardrails=[scrub]
    )
    assert result.output == "the launch code is ****"
    assert _text(events) == "the launch code is ****"
    assert not _shows(events, "ZEBRA")


@pytest.mark.anyio
async def test_a_rejected_answer_is_never_shown_and_the_retry_is(kernel: Kernel) -> None:
    @plait.guardrail(stage="output")
    def polite(text: str) -> Decision:
        return Decision(action="retry", reason="rude") if "stupid" in text else Decision()

    events, result, _ = await _stream(
        ScriptedModel(["stupid question", "good question"], chunk_size=4),
        kernel,
        guardrails=[polite],
    )
    assert result.output == "good question"
    assert _text(events) == "good question" and not _shows(events, "stupid")
    assert [e.kind for e in events].count("model.response") == 2


@pytest.mark.anyio
async def test_an_answer_that_fails_verification_is_never_shown(kernel: Kernel) -> None:
    def no_secret(c: Completion) -> bool | str:
        return "ZEBRA" not in c.result or "it names the code"

    events, result, _ = await _stream(
        ScriptedModel([SECRET, "nothing to say"], chunk_size=5),
        kernel,
        verifiers=[no_secret],
        guardrails=[plait.guardrail(stage="output")(lambda text: True)],
    )
    assert result.output == "nothing to say"
    assert _text(events) == "nothing to say" and not _shows(events, "ZEBRA")
    assert [e.data["passed"] for e in events if e.kind == "verdict"] == [False, True]


@pytest.mark.anyio
async def test_handlers_see_no_blocked_text_either(kernel: Kernel) -> None:
    seen: list[Event] = []
    block = plait.guardrail(stage="output")(lambda text: False)
    result = await plait.arun(
        "x",
        model=ScriptedModel([SECRET], chunk_size=3),
        guardrails=[block],
        handlers=[seen.append],
        kernel=kernel,
        raise_on_failure=False,
    )
    assert result.status == "blocked"
    assert seen and not _shows(seen, "ZEBRA") and "guardrail" in [e.kind for e in seen]


@pytest.mark.anyio
async def test_a_blocked_structured_output_is_never_shown(kernel: Kernel) -> None:
    block = plait.guardrail(stage="output")(
        lambda out: "it holds a code" if "ZEBRA-7" in out else True
    )
    model = ScriptedModel(
        [complete(result=["launch", "ZEBRA-7"], summary="the code is ZEBRA-7")], chunk_size=4
    )
    events, result, partials = await _stream(model, kernel, output=list[str], guardrails=[block])
    assert result.status == "blocked"
    assert not _shows(events, "ZEBRA") and not any(e.kind in CONTENT for e in events)
    assert all(p is None for p in partials)
    assert next(e for e in events if e.kind == "completion").data["summary"] is None


@pytest.mark.anyio
async def test_turns_that_call_tools_are_shown_at_once(kernel: Kernel) -> None:
    """Only the answer waits: a turn's narration is delivered before its tools run."""

    def lookup() -> str:
        """Look it up."""
        return "found"

    block = plait.guardrail(stage="output")(lambda text: False)
    model = ScriptedModel([Turn(text="let me look", calls=(call("lookup"),)), SECRET], chunk_size=4)
    events, result, _ = await _stream(model, kernel, tools=[lookup], guardrails=[block])
    assert result.status == "blocked"
    kinds = [e.kind for e in events]
    assert kinds.index("text.delta") < kinds.index("tool.start")  # numbered when delivered
    assert _text(events) == "let me look" and not _shows(events, "ZEBRA")
    assert [e.seq for e in events] == list(range(len(events)))


@pytest.mark.anyio
async def test_input_and_output_guardrails_hold_together(kernel: Kernel) -> None:
    """The first turn waits for both: allowed, shown once; blocked by either, never."""
    allow_in = plait.guardrail(lambda text: True)
    allow_out = plait.guardrail(stage="output")(lambda text: True)
    block_out = plait.guardrail(stage="output")(lambda text: False)
    events, _, _ = await _stream(
        ScriptedModel(["fine answer"], chunk_size=3), kernel, guardrails=[allow_in, allow_out]
    )
    assert _text(events) == "fine answer"
    assert [e.seq for e in events] == list(range(len(events)))
    events, result, _ = await _stream(
        ScriptedModel([SECRET], chunk_size=3), kernel, guardrails=[allow_in, block_out]
    )
    assert result.status == "blocked" and not _shows(events, "ZEBRA")


@pytest.mark.anyio
async def test_an_unstreamed_watched_turn_is_held_too(kernel: Kernel) -> None:
    block = plait.guardrail(stage="output")(lambda text: False)
    events, result, _ = await _stream(
        ScriptedModel([SECRET]),
        kernel,
        guardrails=[block],
        settings=plait.ModelSettings(stream=False),
    )
    assert result.status == "blocked" and not _shows(events, "ZEBRA")


@pytest.mark.anyio
async def test_without_output_guardrails_nothing_is_held(
    kernel: Kernel, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The plain run pays nothing: no hold, no copy, no worker thread."""
    from plait._run import _checks, _emit

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("called for a run with nothing to check")

    monkeypatch.setattr(_emit.Emitter, "hold", refuse)
    monkeypatch.setattr(_checks, "private_copy", refuse)
    monkeypatch.setattr(_checks.anyio.to_thread, "run_sync", refuse)
    events, result, _ = await _stream(ScriptedModel(["hello there"], chunk_size=3), kernel)
    assert result.output == "hello there" and _text(events) == "hello there"
    assert plait.run("x", model=ScriptedModel(["hi"]), kernel=kernel).output == "hi"


def test_the_stream_guard_bench_runs() -> None:
    """``tests/bench/bench_stream_guard.py`` keeps running (tiny sizes; figures in docs)."""
    path = Path(__file__).resolve().parents[1] / "bench" / "bench_stream_guard.py"
    spec = importlib.util.spec_from_file_location("bench_stream_guard", path)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    figures = bench.main(["--runs", "1", "--chunks", "2", "--delay", "0", "--json"])
    assert set(figures["stream"]) == set(bench.GUARDS)
    assert all(f["first_text_ms"] > 0 for f in figures["stream"].values())
