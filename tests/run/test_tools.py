"""Tools: schemas from functions, threads, timeouts, retries, parallelism, corrective messages."""

from __future__ import annotations

import threading
import time
from typing import Any

import anyio
import pytest
from pydantic import BaseModel

import plait
from plait import Context, Limits
from plait._kernel import Kernel
from plait.testing import ScriptedModel, Turn, call, complete


def test_schema_from_signature_and_docstring() -> None:
    def search(ctx: Context, query: str, limit: int = 5, exact: bool = False) -> list[str]:
        """Search the web.

        Args:
            query: what to look for
            limit: how many results
        """
        return []

    t = plait.tool(search)
    assert t.name == "search"
    assert t.description == "Search the web."
    assert t.takes_context
    props = t.parameters["properties"]
    assert set(props) == {"query", "limit", "exact"}  # ctx is not an argument
    assert props["query"]["description"] == "what to look for"
    assert props["limit"]["default"] == 5
    assert t.parameters["required"] == ["query"]
    assert t.parameters["additionalProperties"] is False
    # still callable as the function it was
    assert t(None, "x") == []


def test_decorator_flags_and_rest_docstrings() -> None:
    @plait.tool(timeout=3, retries=1, idempotent=True, sequential=True, name="get")
    async def fetch(url: str) -> str:
        """Fetch a page.

        :param url: the address
        """
        return url

    assert (fetch.name, fetch.timeout, fetch.retries, fetch.idempotent, fetch.sequential) == (
        "get",
        3,
        1,
        True,
        True,
    )
    assert fetch.parameters["properties"]["url"]["description"] == "the address"
    assert isinstance(fetch, plait.Tool)


def test_var_args_are_refused() -> None:
    def bad(*args: int) -> None:
        """Nope."""

    with pytest.raises(TypeError, match="args"):
        plait.tool(bad)


class Point(BaseModel):
    x: int
    y: int


def test_model_arguments_are_validated_into_pydantic_types(kernel: Kernel) -> None:
    got: list[Point] = []

    def place(p: Point) -> str:
        """Place a point."""
        got.append(p)
        return "ok"

    model = ScriptedModel([call("place", p={"x": "1", "y": 2}), "done"])
    plait.run("x", model=model, tools=[place], kernel=kernel)
    assert got == [Point(x=1, y=2)]


def test_sync_tools_run_in_worker_threads(kernel: Kernel) -> None:
    names: list[str] = []

    def where() -> str:
        """Report the thread."""
        names.append(threading.current_thread().name)
        return "ok"

    plait.run("x", model=ScriptedModel([call("where"), "done"]), tools=[where], kernel=kernel)
    assert names and names[0] != threading.main_thread().name


def _errors(result: plait.Result[Any]) -> list[str]:
    return [m.content for m in result.messages if m.role == "tool" and m.is_error]


def test_raising_tool_becomes_a_redacted_corrective_message(
    kernel: Kernel, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PLAIT_TEST_DB_PASSWORD", "hunter2")  # a secret the policy knows

    def leaky() -> str:
        """Fails with a secret in the message."""
        raise RuntimeError("password=hunter2")

    events: list[plait.Event] = []
    model = ScriptedModel([call("leaky"), "sorry"])
    result = plait.run("x", model=model, tools=[leaky], kernel=kernel, handlers=[events.append])
    assert result.status == "success"
    (text,) = _errors(result)
    assert "RuntimeError" in text and "password" not in text  # the model gets no detail
    assert all("hunter2" not in e.to_json() for e in events)
    (end,) = [e for e in events if e.kind == "tool.end"]
    assert end.data["ok"] is False and end.data["error"] == "RuntimeError"
    assert end.data["message"] == "RuntimeError: password=[REDACTED]"


def test_unknown_tool_invalid_json_and_invalid_arguments_are_told(kernel: Kernel) -> None:
    model = ScriptedModel(
        [
            Turn(calls=(call("nope"), call("add", "{not json"), call("add", a="x", b=1))),
            "ok",
        ]
    )

    def add(a: int, b: int) -> int:
        """Add."""
        return a + b

    result = plait.run("x", model=model, tools=[add], kernel=kernel, limits=Limits(tool_retries=5))
    unknown, bad_json, bad_args = _errors(result)
    assert "Unknown tool 'nope'" in unknown and "add" in unknown
    assert "not valid JSON" in bad_json
    assert "Invalid arguments" in bad_args and "a:" in bad_args
    assert "'x'" not in bad_args  # the invalid value is not echoed


def test_retry_asks_the_model_again_within_the_budget(kernel: Kernel) -> None:
    attempts: list[int] = []

    def flaky(ctx: Context, n: int) -> str:
        """Needs n >= 3."""
        attempts.append(ctx.retry)
        if n < 3:
            raise plait.Retry("n must be at least 3")
        return "ok"

    model = ScriptedModel([call("flaky", n=1), call("flaky", n=2), call("flaky", n=3), "done"])
    result = plait.run("x", model=model, tools=[flaky], kernel=kernel)
    assert result.status == "success"
    assert _errors(result) == ["n must be at least 3", "n must be at least 3"]
    assert attempts == [0, 1, 2]


def test_a_tool_failing_beyond_its_budget_fails_the_run(kernel: Kernel) -> None:
    @plait.tool(retries=1)
    def broken() -> str:
        """Always fails."""
        raise plait.Retry("again")

    model = ScriptedModel([call("broken"), call("broken"), "never"])
    with pytest.raises(plait.RunFailed) as info:
        plait.run("x", model=model, tools=[broken], kernel=kernel)
    assert info.value.result.stop_reason == "tool_retries"
    assert len(model.requests) == 2


def test_tool_timeout(kernel: Kernel) -> None:
    @plait.tool(timeout=0.05)
    async def slow() -> str:
        """Hangs."""
        await anyio.sleep(10)
        return "late"

    start = time.perf_counter()
    result = plait.run("x", model=ScriptedModel([call("slow"), "ok"]), tools=[slow], kernel=kernel)
    assert time.perf_counter() - start < 5
    assert "timed out" in _errors(result)[0]


def test_default_tool_timeout_comes_from_limits(kernel: Kernel) -> None:
    def hang() -> str:
        """Blocks its thread."""
        time.sleep(0.5)
        return "late"

    result = plait.run(
        "x",
        model=ScriptedModel([call("hang"), "ok"]),
        tools=[hang],
        kernel=kernel,
        limits=Limits(tool_timeout=0.05),
    )
    assert "timed out" in _errors(result)[0]


@pytest.mark.anyio
async def test_calls_of_one_turn_run_concurrently(kernel: Kernel) -> None:
    running = 0
    peak = 0

    async def work(i: int) -> int:
        """Work a while."""
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await anyio.sleep(0.05)
        running -= 1
        return i

    calls = tuple(call("work", i=i) for i in range(4))
    result = await plait.arun(
        "x", model=ScriptedModel([Turn(calls=calls), "ok"]), tools=[work], kernel=kernel
    )
    assert peak == 4
    # results keep the order of the calls
    assert [m.content for m in result.messages if m.role == "tool"] == ["0", "1", "2", "3"]


@pytest.mark.anyio
async def test_sequential_tool_is_a_barrier(kernel: Kernel) -> None:
    log: list[str] = []

    async def a(i: int) -> str:
        """Parallel work."""
        log.append(f"a{i}+")
        await anyio.sleep(0.02)
        log.append(f"a{i}-")
        return "a"

    @plait.tool(sequential=True)
    async def barrier() -> str:
        """Runs alone."""
        log.append("B")
        return "b"

    turn = Turn(calls=(call("a", i=1), call("a", i=2), call("barrier"), call("a", i=3)))
    await plait.arun("x", model=ScriptedModel([turn, "ok"]), tools=[a, barrier], kernel=kernel)
    assert log.index("B") > max(log.index("a1-"), log.index("a2-"))
    assert log.index("a3+") > log.index("B")


def test_tool_output_is_capped(kernel: Kernel) -> None:
    def big() -> str:
        """Megabytes."""
        return "x" * 10_000

    result = plait.run(
        "x",
        model=ScriptedModel([call("big"), "ok"]),
        tools=[big],
        kernel=kernel,
        limits=Limits(tool_output_chars=100),
    )
    content = result.messages[2].content
    assert content.startswith("x" * 100) and "truncated: 9900 more characters" in content


def test_unserialisable_output_and_approval_required(kernel: Kernel) -> None:
    def weird() -> object:
        """Returns an object."""
        return object()

    @plait.tool(requires_approval=True)
    def delete() -> str:
        """Dangerous."""
        raise AssertionError("must not run")

    model = ScriptedModel([Turn(calls=(call("weird"), call("delete"))), "ok"])
    result = plait.run("x", model=model, tools=[weird, delete], kernel=kernel)
    weird_err, approval = _errors(result)
    assert "TypeError" in weird_err
    assert "requires approval" in approval


class Out(BaseModel):
    a: int


def test_structured_tool_results_are_json(kernel: Kernel) -> None:
    def f() -> dict[str, Any]:
        """Data."""
        return {"out": Out(a=1), "n": [1, 2]}

    result = plait.run("x", model=ScriptedModel([call("f"), "ok"]), tools=[f], kernel=kernel)
    assert result.messages[2].content == '{"out":{"a":1},"n":[1,2]}'


def test_tools_by_name_from_plugins() -> None:
    from plait import hookimpl
    from plait.testing import make_kernel

    class Plugin:
        @hookimpl
        def plait_register_tools(self) -> list[Any]:
            def shout(text: str) -> str:
                """Upper-case."""
                return text.upper()

            return [shout]

    kernel = make_kernel(Plugin())
    result = plait.run(
        "x", model=ScriptedModel([call("shout", text="hi"), "ok"]), tools=["shout"], kernel=kernel
    )
    assert result.messages[2].content == "HI"


def test_a_tool_may_not_shadow_the_completion_tool(kernel: Kernel) -> None:
    def complete() -> str:
        """Clash."""
        return ""

    with pytest.raises(ValueError, match="complete"):
        plait.run("x", model=ScriptedModel(["x"]), tools=[complete], output=int, kernel=kernel)


def test_two_tools_with_one_name_are_refused(kernel: Kernel) -> None:
    def a() -> str:
        """A."""
        return "a"

    with pytest.raises(ValueError, match="two tools"):
        plait.run(
            "x",
            model=ScriptedModel(["x"]),
            kernel=kernel,
            tools=[plait.tool(a), plait.tool(a, name="a")],
        )


def test_a_truncated_tool_call_is_not_executed(kernel: Kernel) -> None:
    ran: list[str] = []

    def write(text: str) -> str:
        """Write."""
        ran.append(text)
        return "ok"

    cut = Turn(calls=(call("write", '{"text": "half'),), finish_reason="length")
    result = plait.run("x", model=ScriptedModel([cut, "gave up"]), tools=[write], kernel=kernel)
    assert ran == []
    assert "cut off" in _errors(result)[0]


def test_a_cut_off_call_is_asked_again_once_then_the_run_stops(kernel: Kernel) -> None:
    cut = Turn(calls=(call("complete", '{"result": {"city": "Par'),), finish_reason="length")
    model = ScriptedModel([cut, cut, complete(result="never reached")])
    result = plait.run(
        "x",
        model=model,
        output=dict,
        kernel=kernel,
        raise_on_failure=False,
        settings=plait.ModelSettings(max_tokens=64),
    )
    assert (result.status, result.stop_reason, len(model.requests)) == ("failed", "length", 2)
    assert "max_tokens=64" in (result.error or "") and "2 turns in a row" in (result.error or "")
    assert "cut off" in _errors(result)[0]


def test_a_cut_off_call_charges_no_retry_budget(kernel: Kernel) -> None:
    cut = Turn(calls=(call("complete", '{"result": [1, 1, 1'),), finish_reason="length")
    script = [cut, "prose", cut, complete(result=[1])]
    result = plait.run(
        "x",
        model=ScriptedModel(script),
        output=list[int],
        kernel=kernel,
        limits=Limits(tool_retries=0),
    )
    assert (result.status, result.output) == ("success", [1])


def test_a_refusal_fails_the_run(kernel: Kernel) -> None:
    from plait import AssistantMessage, ModelResponse

    refusal = ModelResponse(message=AssistantMessage(refusal="I can't help with that"))
    result = plait.run("x", model=ScriptedModel([refusal]), kernel=kernel, raise_on_failure=False)
    assert (result.status, result.stop_reason) == ("failed", "refusal")
    assert result.error == "I can't help with that"
