"""Output and stream guardrails cover streamed output (docs/guardrails.md).

When a watched run has output guardrails, the answer's events are held back until they
pass: a blocked, rejected or unverified answer is never shown (only the decisions), a
rewritten one is shown rewritten, and turns that call tools are shown at once.

Stream guardrails check the text as it arrives: it is shown as they allow it (before
the stream ends), a block cuts the turn (the model request is cancelled, the unchecked
text never shown), a rewrite is shown rewritten, and an unwatched run checks the whole
text once.
"""

from __future__ import annotations

import importlib.util
import itertools
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import pytest

import plait
from plait import Completion, Decision, Event
from plait._kernel import Kernel
from plait.provider import AssistantMessage, ModelResponse, ResponseDone, TextDelta, Usage
from plait.testing import GuardrailConformance, ScriptedModel, Turn, call, complete

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


# --- stream guardrails ------------------------------------------------------------------


class Trickle:
    """A streaming model: ``pieces`` of text ``delay`` seconds apart, each recorded when
    produced (a cancelled request produces no more)."""

    name = "trickle"

    def __init__(self, pieces: list[str], delay: float = 0.01) -> None:
        self.pieces = pieces
        self.delay = delay
        self.produced: list[str] = []
        self.requests = 0

    def _response(self) -> ModelResponse:
        text = "".join(self.pieces)
        return ModelResponse(message=AssistantMessage(text=text), usage=Usage(requests=1))

    async def request(self, messages: Any, params: Any) -> ModelResponse:
        self.requests += 1
        self.produced.extend(self.pieces)
        return self._response()

    async def stream(self, messages: Any, params: Any) -> AsyncIterator[Any]:
        self.requests += 1
        for piece in self.pieces:
            await anyio.sleep(self.delay)
            self.produced.append(piece)
            yield TextDelta(piece)
        yield ResponseDone(self._response())


SENTENCES = [f"Sentence {i} is fine. " for i in range(10)]
LEAK = ["All good. ", "The code is ZEB", "RA-7 now. ", *SENTENCES]


def _no_code(text: str) -> bool | str:
    return "it names the code" if "ZEBRA" in text else True


@pytest.mark.anyio
async def test_stream_guardrails_show_text_before_the_stream_ends(kernel: Kernel) -> None:
    checked: list[str] = []

    @plait.guardrail(stage="stream")
    async def watch(text: str) -> bool:
        checked.append(text)
        return True

    model = Trickle(SENTENCES)
    produced_when_shown: list[int] = []
    async with plait.stream("x", model=model, guardrails=[watch], kernel=kernel) as s:
        events = []
        async for event in s:
            if event.kind == "text.delta":
                produced_when_shown.append(len(model.produced))
            events.append(event)
        result = await s.result()
    assert result.output == _text(events) == "".join(SENTENCES)
    assert produced_when_shown[0] < len(SENTENCES)  # shown while the model still streams
    assert len(checked) > 1 and checked[-1] == "".join(SENTENCES)  # incremental, then all
    assert all(b.startswith(a) for a, b in itertools.pairwise(checked))
    # one decision per guardrail and turn: the last one, on the whole text
    assert [(d.stage, d.action) for d in result.guardrails] == [("stream", "allow")]
    assert [e.seq for e in events] == list(range(len(events)))


@pytest.mark.anyio
async def test_a_stream_block_cuts_the_turn_and_never_shows_the_text(kernel: Kernel) -> None:
    model = Trickle(LEAK, delay=0.02)
    guard = plait.guardrail(stage="stream", name="no-code")(_no_code)
    events, result, partials = await _stream(model, kernel, guardrails=[guard])
    assert result.status == "blocked" and result.stop_reason == "guardrail"
    assert result.error == "guardrail 'no-code' blocked the stream: it names the code"
    shown = _text(events)
    assert shown == "All good. "  # what passed before; "ZEB" waited for its word's end
    assert not _shows(events, "ZEB") and not any("ZEB" in str(p) for p in partials)
    assert len(model.produced) < len(LEAK)  # the request was cancelled: no more chunks
    assert not any(m.role == "assistant" for m in result.messages)  # a cut turn: no history
    kinds = [e.kind for e in events]
    assert kinds[-2:] == ["guardrail", "run.end"] and "model.response" not in kinds
    assert [e.seq for e in events] == list(range(len(events)))
    with pytest.raises(plait.GuardrailTripped):
        await plait.arun("x", model=Trickle(LEAK, delay=0), guardrails=[guard], kernel=kernel)


@pytest.mark.anyio
async def test_a_stream_rewrite_is_shown_and_kept(kernel: Kernel) -> None:
    @plait.guardrail(stage="stream")
    def scrub(text: str) -> Decision:
        if "ZEBRA-7" in text:
            return Decision(action="replace", replacement=text.replace("ZEBRA-7", "[code]"))
        return Decision()

    events, result, _ = await _stream(Trickle(LEAK, delay=0), kernel, guardrails=[scrub])
    expected = "".join(LEAK).replace("ZEBRA-7", "[code]")
    assert result.status == "success"
    assert result.output == _text(events) == expected and not _shows(events, "ZEB")
    assert result.messages[-1].text == expected  # the history keeps the rewritten text
    assert result.guardrails[0].action == "replace"  # recorded when it happened
    assert {d.stage for d in result.guardrails} == {"stream"}
    response = next(e for e in events if e.kind == "model.response")
    assert response.data["text"] == expected


@pytest.mark.anyio
async def test_a_rewrite_of_text_already_shown_blocks(kernel: Kernel) -> None:
    @plait.guardrail(stage="stream")
    def late(text: str) -> Decision:
        if "Sentence 3" in text:  # "Sentence 0 ..." was shown: it cannot be taken back
            return Decision(action="replace", replacement="nothing to see")
        return Decision()

    events, result, _ = await _stream(Trickle(SENTENCES, delay=0.005), kernel, guardrails=[late])
    assert result.status == "blocked" and "nothing to see" not in _text(events)
    assert result.guardrails[-1].error == "rewrote shown text"


@pytest.mark.anyio
@pytest.mark.parametrize("stream", [None, True, False])
async def test_unwatched_runs_check_the_whole_text(kernel: Kernel, stream: bool | None) -> None:
    """Policy never depends on watching: ``plait.run`` checks the answer's text too."""
    checked: list[str] = []

    def no_code(text: str) -> bool | str:
        checked.append(text)
        return _no_code(text)

    guard = plait.guardrail(stage="stream")(no_code)
    settings = plait.ModelSettings(stream=stream)
    model = Trickle(LEAK, delay=0)
    result = await plait.arun(
        "x",
        model=model,
        guardrails=[guard],
        settings=settings,
        kernel=kernel,
        raise_on_failure=False,
    )
    assert result.status == "blocked" and result.stop_reason == "guardrail"
    assert not any(m.role == "assistant" for m in result.messages)
    if stream is not True:  # one unstreamed request, checked once, whole
        assert checked == ["".join(LEAK)]
    fine = await plait.arun("x", model=Trickle(SENTENCES, 0), guardrails=[guard], kernel=kernel)
    assert fine.output == "".join(SENTENCES) and checked[-1] == "".join(SENTENCES)
    assert [d.action for d in fine.guardrails] == ["allow"]


@pytest.mark.anyio
async def test_stream_guardrails_fail_closed(kernel: Kernel) -> None:
    def crash(text: str) -> bool:
        raise RuntimeError("secret detail")

    async def hang(text: str) -> bool:
        await anyio.sleep(10)
        return True

    class Sloppy:
        name = "sloppy"
        stage = "stream"

        async def check(self, subject: Any, ctx: Any) -> Any:
            return None

    cases: list[tuple[Any, str]] = [
        (plait.guardrail(stage="stream")(crash), "raised RuntimeError"),
        (plait.guardrail(stage="stream", timeout=0.05)(hang), "timed out"),
        (Sloppy(), "bad return value"),
    ]
    for guard, error in cases:
        model = Trickle(SENTENCES, delay=0.01)
        events, result, _ = await _stream(model, kernel, guardrails=[guard])
        assert result.status == "blocked", error
        assert result.guardrails[-1].error == error
        assert _text(events) == "" and len(model.produced) < len(SENTENCES)
        assert "secret detail" not in repr(events)


@pytest.mark.anyio
async def test_output_guardrails_still_hold_the_answer(kernel: Kernel) -> None:
    allow = plait.guardrail(stage="stream")(lambda text: True)
    block_out = plait.guardrail(stage="output")(lambda text: "no")
    events, result, _ = await _stream(Trickle(SENTENCES, 0), kernel, guardrails=[allow, block_out])
    assert result.status == "blocked" and _text(events) == ""
    assert [d.stage for d in result.guardrails] == ["stream", "output"]
    checked: list[str] = []
    allow_out = plait.guardrail(stage="output")(checked.append)
    async with plait.stream(
        "x", model=Trickle(SENTENCES, 0), guardrails=[allow, allow_out], kernel=kernel
    ) as s:
        shown_after_output_check = [bool(checked) async for _ in s.text()]
        result = await s.result()
    assert result.output == "".join(SENTENCES) and checked == [result.output]
    assert shown_after_output_check and all(shown_after_output_check)  # held for output


@pytest.mark.anyio
async def test_stream_rules_of_rewrites() -> None:
    from plait._context import Context
    from plait._run._checks import run_stream_guardrails

    ctx = Context(run_id="r")
    redact = plait.guardrail(stage="stream")(lambda text: Decision(action="redact"))
    action, value, _ = await run_stream_guardrails([redact], "shown. secret", "shown. ", ctx)
    assert (action, value) == ("allow", "shown. [redacted]")  # what was not shown yet
    to_int = plait.guardrail(stage="stream")(lambda t: Decision(action="replace", replacement=1))
    action, value, _ = await run_stream_guardrails([to_int], "text", "", ctx)
    assert action == "block" and value.error == "bad return value"
    retry = plait.guardrail(stage="stream")(lambda t: Decision(action="retry", reason="r"))
    action, value, _ = await run_stream_guardrails([retry], "text", "", ctx)
    assert action == "block" and value.action == "retry"  # text may be shown: no retry


class NoCodes:
    """A stream guardrail as a plugin would ship it."""

    name = "no-codes"
    stage = "stream"

    async def check(self, subject: str, ctx: Any) -> Decision:
        if "ZEBRA" in subject:
            return Decision(action="block", reason="it names the code")
        return Decision()


class TestStreamGuardrailKit(GuardrailConformance):
    """The conformance kit accepts a stream-stage guardrail."""

    guardrail = pytest.fixture(lambda self: NoCodes())
    allowed_subject = pytest.fixture(lambda self: "All good. The")
    blocked_subject = pytest.fixture(lambda self: "All good. The code is ZEBRA")


@pytest.mark.anyio
async def test_a_stream_guardrail_plugin_runs_by_name(kernel: Kernel) -> None:
    from plait.testing import make_kernel

    class Plugin:
        @plait.hookimpl
        def plait_register_guardrails(self) -> list[Any]:
            return [NoCodes()]

    named = make_kernel(Plugin())
    result = await plait.arun(
        "x",
        model=Trickle(LEAK, 0),
        guardrails=["no-codes"],
        kernel=named,
        raise_on_failure=False,
    )
    assert result.status == "blocked" and result.guardrails[-1].guardrail == "no-codes"


@pytest.mark.anyio
async def test_without_stream_guardrails_no_stream_check_runs(
    kernel: Kernel, monkeypatch: pytest.MonkeyPatch
) -> None:
    from plait._run import _stream_checks

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("stream checks ran for a run without stream guardrails")

    monkeypatch.setattr(_stream_checks, "StreamGuard", refuse)
    monkeypatch.setattr(_stream_checks, "check_whole", refuse)
    events, result, _ = await _stream(Trickle(SENTENCES, 0), kernel)
    assert result.output == _text(events) == "".join(SENTENCES)
    assert (await plait.arun("x", model=Trickle(SENTENCES, 0), kernel=kernel)).output
