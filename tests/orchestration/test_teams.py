"""Teams (issue 13, item 2): llmling-agent's ``Team`` (``a & b``) and ``TeamRun`` (``a | b``).

Written the way a user of llmling-agent writes it: three reviewers look at the same
draft at once, a writer hands its text to an editor, a nested ``(a & b) | c``; every
entry point (run, arun, stream, iter, start); a member's failure handled by the team's
policy. Members are ordinary runs on the one run loop: every event once, each named.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from typing import Any

import anyio
import pytest
from pydantic import BaseModel

import plait
from plait import Message, RequestParams, UserMessage
from plait._team import Team, TeamResult
from plait.testing import FunctionModel, ScriptedModel, Turn, call, complete, make_kernel

SLOW, QUICK = 0.4, 0.05


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _task(messages: list[Message]) -> str:
    return next(m.content for m in reversed(messages) if isinstance(m, UserMessage))


class Clock:
    """When each reviewer's model started and ended answering."""

    def __init__(self) -> None:
        self.spans: dict[str, tuple[float, float]] = {}

    def reviewer(self, name: str, delay: float) -> FunctionModel:
        async def answer(messages: list[Message], params: RequestParams) -> Turn:
            began = time.monotonic()
            await anyio.sleep(delay)
            self.spans[name] = (began, time.monotonic())
            return Turn(text=f"{name}: ok ({_task(messages)})")

        return FunctionModel(answer)


def _reviewers(kernel: plait.Kernel, clock: Clock, slow: str = "style") -> list[plait.Agent[str]]:
    names = ("style", "facts", "tone")
    return [
        plait.Agent(n, model=clock.reviewer(n, SLOW if n == slow else QUICK), kernel=kernel)
        for n in names
    ]


def _failing(name: str, kernel: plait.Kernel, delay: float = 0.0) -> plait.Agent[str]:
    error = plait.Rejected("the request was refused", provider="test")
    return plait.Agent(name, model=ScriptedModel([Turn(error=error, delay=delay)]), kernel=kernel)


# --- parallel ---------------------------------------------------------------------------


@pytest.mark.anyio
async def test_three_reviewers_run_at_once_and_their_usage_adds_up() -> None:
    kernel, clock = make_kernel(), Clock()
    style, facts, tone = _reviewers(kernel, clock)
    team = style & facts & tone
    result = await team.arun("Review the draft.")
    assert isinstance(result, TeamResult) and result.ok and result.mode == "parallel"
    assert list(result.results) == ["style", "facts", "tone"]  # member order, not finish order
    assert result.output == {n: f"{n}: ok (Review the draft.)" for n in ("style", "facts", "tone")}
    assert result.usage.requests == 3
    assert result.usage == sum((r.usage for r in result.results.values()), plait.Usage())
    # concurrent: every reviewer had started before the first one ended
    spans = clock.spans.values()
    assert max(began for began, _ in spans) < min(ended for _, ended in spans)


@pytest.mark.anyio
async def test_iter_gives_results_as_they_finish() -> None:
    kernel, clock = make_kernel(), Clock()
    team = Team(_reviewers(kernel, clock, slow="style"))
    async with team.iter("Review the draft.") as ended:
        order = [(name, result.status) async for name, result in ended]
    assert order[-1] == ("style", "success")  # the slow reviewer comes last
    assert {name for name, _ in order} == {"style", "facts", "tone"}
    assert ended.result is not None and ended.result.ok


@pytest.mark.anyio
async def test_combine_makes_the_team_output() -> None:
    kernel, clock = make_kernel(), Clock()

    def verdict(results: dict[str, Any]) -> str:
        return " | ".join(r.output.split(":")[0] for r in results.values())

    team = Team(_reviewers(kernel, clock), combine=verdict, name="review board")
    result = await team.arun("Review.")
    assert (result.team, result.output) == ("review board", "style | facts | tone")


# --- sequential -------------------------------------------------------------------------


@pytest.mark.anyio
async def test_the_editor_receives_the_writers_output_as_its_task() -> None:
    kernel = make_kernel()
    writer_model = ScriptedModel(["Once upon a time, a kernel ran."])
    editor_model = FunctionModel(lambda m, p: Turn(text=_task(m).upper()))
    writer = plait.Agent("writer", model=writer_model, kernel=kernel)
    editor = plait.Agent("editor", model=editor_model, instructions="Edit.", kernel=kernel)
    pipeline = writer | editor
    assert (pipeline.mode, pipeline.name) == ("sequential", "writer | editor")
    result = await pipeline.arun("Write a story.")
    assert result.ok and result.output == "ONCE UPON A TIME, A KERNEL RAN."
    assert _task(writer_model.requests[0].messages) == "Write a story."
    assert _task(editor_model.requests[0].messages) == "Once upon a time, a kernel ran."
    assert result.results["writer"].output == "Once upon a time, a kernel ran."
    assert result.usage.requests == 2


class Outline(BaseModel):
    title: str
    points: list[str]


@pytest.mark.anyio
async def test_a_structured_output_is_passed_on_as_json_or_through_transform() -> None:
    kernel = make_kernel()
    outline = {"title": "Teams", "points": ["parallel", "sequential"]}
    planner = plait.Agent(
        "planner",
        model=FunctionModel(lambda m, p: complete(result=outline)),
        output=Outline,
        kernel=kernel,
    )
    seen: list[str] = []

    def writer_answer(messages: list[Message], params: RequestParams) -> Turn:
        seen.append(_task(messages))
        return Turn(text="written")

    writer = plait.Agent("writer", model=FunctionModel(writer_answer), kernel=kernel)
    await (planner | writer).arun("Plan a doc.")
    assert json.loads(seen[0]) == outline
    titled = Team([planner, writer], mode="sequential", transform=lambda r: r.output.title)
    await titled.arun("Plan a doc.")
    assert seen[1] == "Teams"


@pytest.mark.anyio
async def test_nested_teams_parallel_then_sequential() -> None:
    kernel, clock = make_kernel(), Clock()
    style, facts, _ = _reviewers(kernel, clock)
    summary = FunctionModel(lambda m, p: Turn(text="summary of " + _task(m)))
    summarizer = plait.Agent("summarizer", model=summary, kernel=kernel)
    team = (style & facts) | summarizer
    assert team.name == "(style & facts) | summarizer"
    assert team.names == ("style & facts", "summarizer")
    result = await team.arun("Check it.")
    inner = result.results["style & facts"]
    assert isinstance(inner, TeamResult) and inner.mode == "parallel" and inner.ok
    assert set(inner.results) == {"style", "facts"}
    passed_on = json.loads(_task(summary.requests[0].messages).removeprefix("summary of "))
    assert passed_on == {"style": "style: ok (Check it.)", "facts": "facts: ok (Check it.)"}
    assert result.usage.requests == 3 and result.output.startswith("summary of {")


def test_operators_extend_a_plain_team_and_nest_the_rest() -> None:
    a, b, c, d = (plait.Agent(n) for n in "abcd")
    assert (a & b & c).names == ("a", "b", "c")
    assert (a | b | c).names == ("a", "b", "c")
    assert ((a & b) & (c & d)).names == ("a", "b", "c", "d")
    mixed = (a | b) & c
    assert mixed.mode == "parallel" and mixed.name == "(a | b) & c"
    named = Team([a, b], name="pair")
    assert (named & c).names == ("pair", "c")  # a named team stays one member
    assert (a & a).names == ("a", "a-2")  # names are unique in a team
    with pytest.raises(TypeError):
        _ = a & "b"  # type: ignore[operator]


# --- failure policy -----------------------------------------------------------------------


@pytest.mark.anyio
async def test_collect_runs_every_member_and_keeps_the_failure() -> None:
    kernel, clock = make_kernel(), Clock()
    style, facts, _ = _reviewers(kernel, clock)
    team = Team([style, _failing("broken", kernel), facts])
    with pytest.raises(plait.RunFailed) as caught:
        await team.arun("Review.")
    result = caught.value.result
    assert isinstance(result, TeamResult) and result.status == "failed"
    assert "broken" in str(caught.value)
    assert {n: r.status for n, r in result.results.items()} == {
        "style": "success",
        "broken": "failed",
        "facts": "success",
    }
    assert list(result.errors) == ["broken"] and "refused" in result.errors["broken"]
    assert result.output is None and result.outputs["style"] == "style: ok (Review.)"
    # the same without raising
    again = await team.arun("Review.", raise_on_failure=False)
    assert again.status == "failed" and not again.ok


@pytest.mark.anyio
async def test_fail_fast_cancels_the_members_still_running() -> None:
    kernel, clock = make_kernel(), Clock()
    style, facts, _ = _reviewers(kernel, clock, slow="style")
    team = Team([style, _failing("broken", kernel, delay=QUICK), facts], on_failure="fail_fast")
    began = time.monotonic()
    result = await team.arun("Review.", raise_on_failure=False)
    assert time.monotonic() - began < SLOW  # the slow reviewer did not hold the team
    assert result.status == "failed"
    statuses = {n: r.status for n, r in result.results.items()}
    assert statuses["broken"] == "failed" and statuses["style"] == "cancelled"
    assert "style" not in clock.spans  # its model never finished answering


@pytest.mark.anyio
@pytest.mark.parametrize("policy", ["collect", "fail_fast"])
async def test_a_failed_member_stops_a_sequential_team(policy: str) -> None:
    kernel = make_kernel()
    editor_model = ScriptedModel(["edited"])
    editor = plait.Agent("editor", model=editor_model, kernel=kernel)
    team = Team([_failing("writer", kernel), editor], mode="sequential", on_failure=policy)  # type: ignore[arg-type]
    result = await team.arun("Write.", raise_on_failure=False)
    assert result.status == "failed" and result.output is None
    skipped = result.results["editor"]
    assert skipped.status == "skipped" and "writer" in (skipped.error or "")
    assert editor_model.requests == []  # nothing to pass on: the editor never ran


@pytest.mark.anyio
async def test_a_member_over_its_limit_is_a_result_not_a_crash() -> None:
    kernel = make_kernel()
    looping = ScriptedModel([[call("noop", id="1")]] * 3)

    @plait.tool
    def noop() -> str:
        """Do nothing."""
        return "ok"

    looper = plait.Agent("looper", model=looping, tools=[noop], max_turns=1, kernel=kernel)
    fine = plait.Agent("fine", model=ScriptedModel(["fine"]), kernel=kernel)
    result = await (looper & fine).arun("Go.", raise_on_failure=False)
    assert result.results["looper"].status == "incomplete"
    assert result.results["fine"].ok and result.status == "failed"


@pytest.mark.anyio
async def test_a_raising_transform_or_combine_fails_the_team_and_keeps_the_results() -> None:
    kernel = make_kernel()
    first = plait.Agent("first", model=FunctionModel(lambda m, p: "one"), kernel=kernel)
    second = plait.Agent("second", model=FunctionModel(lambda m, p: "two"), kernel=kernel)
    broken = Team([first, second], mode="sequential", transform=lambda r: r.output.nope)
    result = await broken.arun("Go.", raise_on_failure=False)
    assert result.status == "failed" and "transform raised AttributeError" in (result.error or "")
    assert result.results["first"].output == "one"
    assert result.results["second"].status == "skipped"
    summed = Team([first, second], combine=lambda rs: 1 / 0)
    with pytest.raises(plait.RunFailed, match="combine raised ZeroDivisionError") as caught:
        await summed.arun("Go.")
    assert caught.value.result.outputs == {"first": "one", "second": "two"}


@pytest.mark.anyio
async def test_a_member_that_cannot_start_raises_as_plait_run_does() -> None:
    kernel = make_kernel()
    unready = plait.Agent("unready", kernel=kernel)  # no model anywhere
    ready = plait.Agent("ready", model=FunctionModel(lambda m, p: "ok"), kernel=kernel)
    for team in (unready & ready, ready | unready, (unready & ready) | ready):
        with pytest.raises(plait.ModelNotConfigured):
            await team.arun("Go.")


# --- options and events -----------------------------------------------------------------


@pytest.mark.anyio
async def test_run_options_reach_every_member_over_its_own() -> None:
    kernel = make_kernel()
    a_model, b_model = ScriptedModel(["a"]), ScriptedModel(["b"])
    a = plait.Agent("a", model=a_model, instructions="You are A.", kernel=kernel)
    b = plait.Agent("b", model=b_model, kernel=kernel)
    await (a & b).arun("Go.", instructions="Be brief.", deps={"user": 1})
    for model in (a_model, b_model):
        assert model.requests[0].messages[0].content == "Be brief."
    with pytest.raises(TypeError, match="unknown run option"):
        await (a & b).arun("Go.", colour="red")
    with pytest.raises(TypeError, match="output= is not a team run option"):
        await (a & b).arun("Go.", output=int)


@pytest.mark.anyio
async def test_every_event_reaches_the_team_handlers_once_with_its_agent() -> None:
    kernel, seen, agent_seen = make_kernel(), [], []
    a = plait.Agent("a", model=ScriptedModel(["A"]), handlers=[agent_seen.append], kernel=kernel)
    b = plait.Agent("b", model=ScriptedModel(["B"]), kernel=kernel)
    c = plait.Agent("c", model=ScriptedModel(["C"]), kernel=kernel)
    result = await ((a & b) | c).arun("Go.", handlers=[seen.append])
    assert max(Counter((e.run_id, e.seq) for e in seen).values()) == 1  # every event once
    runs = {e.run_id: e.agent for e in seen if e.kind == "run.start"}
    assert sorted(runs.values()) == ["a", "b", "c"]
    assert all(e.agent == runs[e.run_id] for e in seen if e.run_id in runs)
    outer, inner = result.run_id, result.results["a & b"].run_id  # type: ignore[union-attr]
    kinds = [(e.agent, e.kind) for e in seen if e.run_id in (outer, inner)]
    assert kinds[0] == ("(a & b) | c", "team.start") and kinds[-1][1] == "team.end"
    starts = [e.data for e in seen if e.kind == "team.start"]
    assert starts[0] == {"team": "(a & b) | c", "mode": "sequential", "members": ["a & b", "c"]}
    ends = {e.data["member"]: e.data for e in seen if e.kind == "member.end"}
    assert ends["a"]["status"] == "success" and ends["a"]["run_id"] in runs
    assert ends["a & b"]["run_id"] == inner
    (end,) = [e for e in seen if e.kind == "team.end" and e.run_id == outer]
    assert end.data["status"] == "success" and end.data["usage"]["requests"] == 3
    assert Counter(e.kind for e in agent_seen)["run.start"] == 1  # the agent's own handler
    # one tree: members are the team's children, the nested team the outer team's
    assert result.results["c"].parent_run_id == outer
    assert {e.parent_run_id for e in seen if e.run_id == inner} == {outer}
    assert {e.parent_run_id for e in seen if e.agent in ("a", "b")} == {inner}


@pytest.mark.anyio
async def test_a_team_asked_from_a_tool_reports_to_the_run_that_asked() -> None:
    kernel, outer = make_kernel(), []
    a = plait.Agent("a", model=ScriptedModel(["A"]), kernel=kernel)
    b = plait.Agent("b", model=ScriptedModel(["B"]), kernel=kernel)

    @plait.tool
    async def consult() -> str:
        """Ask the experts."""
        result = await (a & b).arun("What do you think?")
        return json.dumps(result.output)

    model = ScriptedModel([call("consult", id="c1"), "done"])
    result = await plait.arun(
        "Go.", model=model, tools=[consult], kernel=kernel, handlers=[outer.append]
    )
    assert result.ok and json.loads(model.requests[1].messages[-1].content) == {"a": "A", "b": "B"}
    assert max(Counter((e.run_id, e.seq) for e in outer).values()) == 1
    (start,) = [e for e in outer if e.kind == "team.start"]
    assert start.agent == "a & b" and start.parent_run_id == result.run_id
    assert Counter(e.agent for e in outer if e.kind == "run.start") == {None: 1, "a": 1, "b": 1}


# --- entry points -------------------------------------------------------------------------


def _pair(kernel: plait.Kernel, delay: float = 0.0) -> Team:
    writer = plait.Agent("writer", model=ScriptedModel([Turn(text="draft", delay=delay)]))
    editor = plait.Agent("editor", model=FunctionModel(lambda m, p: Turn(text=_task(m) + "!")))
    return Team([writer, editor], mode="sequential")


def test_run_from_sync_code() -> None:
    result = _pair(make_kernel()).run("Write.")
    assert result.ok and result.output == "draft!"


@pytest.mark.anyio
async def test_run_inside_a_running_loop_uses_a_worker_thread() -> None:
    result = _pair(make_kernel()).run("Write.")
    assert result.output == "draft!"


@pytest.mark.anyio
async def test_stream_gives_the_teams_events_and_its_result() -> None:
    team = _pair(make_kernel())
    async with team.stream("Write.") as s:
        events = [e async for e in s]
        result = await s.result()
    assert result.output == "draft!"
    kinds = [e.kind for e in events]
    assert kinds[0] == "team.start" and kinds[-1] == "team.end"
    texts = [e.agent for e in events if e.kind == "run.end"]
    assert texts == ["writer", "editor"]


@pytest.mark.anyio
async def test_stream_raises_run_failed_from_result() -> None:
    kernel = make_kernel()
    team = _failing("writer", kernel) | plait.Agent("editor", model=ScriptedModel(["x"]))
    async with team.stream("Write.") as s:
        kinds = [e.kind async for e in s]
        with pytest.raises(plait.RunFailed) as caught:
            await s.result()
    assert kinds[-1] == "team.end" and caught.value.result.results["editor"].status == "skipped"


@pytest.mark.anyio
async def test_stream_left_early_stops_the_team() -> None:
    kernel, clock, seen = make_kernel(), Clock(), []
    team = Team(_reviewers(kernel, clock, slow="style"))
    began = time.monotonic()
    with anyio.fail_after(5):
        async with team.stream("Review.", handlers=[seen.append]) as s:
            async for event in s:
                if event.kind == "member.end":
                    break
    assert time.monotonic() - began < SLOW and "style" not in clock.spans
    (end,) = [e for e in seen if e.kind == "team.end"]  # the handlers saw it end
    assert end.data["status"] == "cancelled"
    with anyio.fail_after(5):
        async with team.stream("Review.") as s:
            s.cancel()
            result = await s.result()
    assert result.status == "cancelled"


def test_stream_from_sync_code() -> None:
    with _pair(make_kernel()).stream("Write.") as s:
        kinds = [e.kind for e in s]
        result = s.result()
    assert result.output == "draft!" and kinds.count("member.end") == 2


def test_iter_from_sync_code() -> None:
    names = [name for name, _ in _pair(make_kernel()).iter("Write.")]
    assert names == ["writer", "editor"]


@pytest.mark.anyio
async def test_iter_without_async_with_says_how() -> None:
    with pytest.raises(TypeError, match=r"async with team\.iter"):
        async for _ in _pair(make_kernel()).iter("Write."):
            pass


@pytest.mark.anyio
async def test_iter_left_early_cancels_the_rest() -> None:
    kernel, clock = make_kernel(), Clock()
    team = Team(_reviewers(kernel, clock, slow="style"))
    async with team.iter("Review.") as ended:
        async for _ in ended:
            break
    assert ended.result is not None and ended.result.status == "cancelled"
    assert ended.result.results["style"].status == "cancelled"


@pytest.mark.anyio
async def test_start_runs_the_team_in_the_background() -> None:
    handle = _pair(make_kernel(), delay=0.05).start("Write.")
    assert handle.status in ("pending", "running")
    result = await handle.wait()
    assert result.output == "draft!" and handle.status == "success" and handle.done
    kinds = [e.kind for e in handle.events]
    assert kinds[0] == "team.start" and kinds[-1] == "team.end"
    assert handle.run_id == result.run_id


@pytest.mark.anyio
async def test_start_then_cancel() -> None:
    kernel, clock = make_kernel(), Clock()
    handle = Team(_reviewers(kernel, clock, slow="style")).start("Review.")
    async for event in handle.events:
        if event.kind == "member.end":
            handle.cancel()
    result = await handle.wait()
    assert handle.status == "cancelled" and result.results["style"].status == "cancelled"


def test_start_from_sync_code() -> None:
    handle = _pair(make_kernel()).start("Write.")
    assert handle.result(timeout=10).output == "draft!"


# --- bad input ----------------------------------------------------------------------------


def test_bad_teams_are_refused_with_a_clear_error() -> None:
    a = plait.Agent("a")
    with pytest.raises(ValueError, match="at least one member"):
        Team([])
    with pytest.raises(TypeError, match=r"must be a plait\.Agent or a plait\.Team, not str"):
        Team([a, "b"])  # type: ignore[list-item]
    with pytest.raises(TypeError, match=r"a list of plait\.Agent"):
        Team(a)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="'parallel' or 'sequential'"):
        Team([a], mode="round-robin")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="'collect' or 'fail_fast'"):
        Team([a], on_failure="ignore")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"combine=\.\.\.\) must be a function"):
        Team([a], combine="join")  # type: ignore[arg-type]


# --- over HTTP ----------------------------------------------------------------------------


def _chat(text: str, tokens: int) -> Any:
    from plait.testing._loopback import Reply

    usage = {"prompt_tokens": tokens, "completion_tokens": 5, "total_tokens": tokens + 5}
    choice = {"index": 0, "message": {"role": "assistant", "content": text}}
    body = {"id": "c1", "object": "chat.completion", "model": "m", "usage": usage}
    return Reply.json({**body, "choices": [{**choice, "finish_reason": "stop"}]})


@pytest.mark.anyio
async def test_a_pipeline_over_http_against_an_openai_compatible_server() -> None:
    from plait.testing._loopback import LoopbackServer
    from plait_openai.provider import OpenAIProvider

    kernel = make_kernel()
    replies = [_chat("A draft about teams.", 11), _chat("An edited draft.", 13)]
    async with LoopbackServer(replies) as server:
        model = OpenAIProvider("openai", api="chat").model(
            "m", base_url=server.base_url + "/v1", api_key="sk-test-0123456789"
        )
        writer = plait.Agent("writer", model=model, instructions="Write.", kernel=kernel)
        editor = plait.Agent("editor", model=model, instructions="Edit.", kernel=kernel)
        with anyio.fail_after(20):
            result = await (writer | editor).arun("Teams, please.")
        await model.aclose()
    assert result.ok and result.output == "An edited draft."
    assert result.usage.requests == 2 and result.usage.input_tokens == 24
    bodies = [r.json() for r in server.requests]
    assert bodies[0]["messages"][-1] == {"role": "user", "content": "Teams, please."}
    assert bodies[1]["messages"][0]["content"] == "Edit."
    assert bodies[1]["messages"][-1]["content"] == "A draft about teams."
