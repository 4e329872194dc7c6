"""Planning mode (issue 13, item 4): zyx's ``plan``, ``planning_interval``, ``max_steps``.

The model writes a plan (``update_plan``, forced on the first turn), works through it
with its tools, is asked to revise it every ``planning_interval`` steps (the next turn
forced to ``update_plan``), and stops after ``max_steps`` steps. A step is one turn's
batch of tool calls of the run's own tools.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import plait
from plait import AssistantMessage, Event, Message, RequestParams, ToolResultMessage, UserMessage
from plait._run._planning import Plan, PlanStep
from plait.testing import FunctionModel, ScriptedModel, Turn, call, complete, make_kernel


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _steps(*pairs: tuple[str, str]) -> list[dict[str, str]]:
    return [{"title": t, "status": s} for t, s in pairs]


def _plan_events(events: list[Event]) -> list[Event]:
    return [e for e in events if e.kind.startswith("plan.")]


def _fetch_tool(log: list[str]) -> Any:
    @plait.tool
    def fetch(page: str) -> str:
        """Fetch a page."""
        log.append(page)
        return f"contents of {page}"

    return fetch


FIRST = _steps(("fetch a", "pending"), ("fetch b", "pending"), ("fetch c", "pending"))
SECOND = _steps(
    ("fetch a", "done"), ("fetch b", "done"), ("fetch c", "doing"), ("fetch d", "pending")
)
THIRD = _steps(("fetch a", "done"), ("fetch b", "done"), ("fetch c", "done"), ("fetch d", "done"))


def _revised_every_two_steps(chunk_size: int | None = None) -> ScriptedModel:
    return ScriptedModel(
        [
            call("update_plan", steps=FIRST, id="p1"),
            call("fetch", page="a", id="f1"),
            call("fetch", page="b", id="f2"),
            call("update_plan", steps=SECOND, note="c needs d", id="p2"),
            call("fetch", page="c", id="f3"),
            call("fetch", page="d", id="f4"),
            call("update_plan", steps=THIRD, id="p3"),
            "Fetched a, b, c and d.",
        ],
        chunk_size=chunk_size,
    )


@pytest.mark.anyio
async def test_a_plan_revised_every_two_steps() -> None:
    log: list[str] = []
    events: list[Event] = []
    model = _revised_every_two_steps()
    result = await plait.arun(
        "Fetch the pages.",
        tools=[_fetch_tool(log)],
        model=model,
        plan=True,
        planning_interval=2,
        handlers=[events.append],
    )
    assert result.status == "success" and result.output == "Fetched a, b, c and d."
    assert log == ["a", "b", "c", "d"]
    assert result.usage.tool_calls == 4  # update_plan is the loop's, not a tool call
    # the first turn and every review are forced to update_plan; the others are free
    choices = [r.params.settings.tool_choice for r in model.requests]
    assert choices == ["update_plan", None, None, "update_plan", None, None, "update_plan", None]
    assert all("update_plan" in [t.name for t in r.params.tools] for r in model.requests)
    # the review is asked for after the second and the fourth step
    reviews = [m.content for m in result.messages if isinstance(m, UserMessage)][1:]
    assert reviews == [
        "2 steps done. Review your plan: call `update_plan` with the revised plan.",
        "4 steps done. Review your plan: call `update_plan` with the revised plan.",
    ]
    plan_events = _plan_events(events)
    assert [e.kind for e in plan_events] == [
        "plan.created", "plan.step", "plan.step", "plan.revised",
        "plan.step", "plan.step", "plan.revised",
    ]  # fmt: skip
    created, revised = plan_events[0].data, plan_events[3].data
    assert created["revision"] == 0 and list(created["steps"]) == FIRST
    assert revised["revision"] == 1 and revised["note"] == "c needs d"
    assert list(revised["steps"]) == SECOND
    assert [e.data["done"] for e in plan_events if e.kind == "plan.step"] == [1, 2, 3, 4]
    assert result.plan is not None and result.plan.revision == 2
    assert [s.status for s in result.plan.steps] == ["done"] * 4
    assert [p.revision for p in result.plan_revisions] == [0, 1, 2]
    assert result.plan_revisions[1].note == "c needs d"
    assert result.plan_revisions[0].steps[0] == PlanStep(title="fetch a", status="pending")
    # the tool's answer shows the saved plan and what comes next
    answers = [m.content for m in result.messages if isinstance(m, ToolResultMessage)]
    assert answers[0].startswith("Plan saved (revision 0).\n1. [pending] fetch a")
    assert answers[0].endswith("Next: fetch a")
    assert answers[-1].endswith("Every step is done or skipped: finish.")


def test_the_plan_events_reach_a_stream() -> None:
    """Streamed turns (text in chunks) give the same plan events, in order."""
    log: list[str] = []
    with plait.stream(
        "Fetch the pages.",
        tools=[_fetch_tool(log)],
        model=_revised_every_two_steps(chunk_size=3),
        plan=True,
        planning_interval=2,
    ) as s:
        kinds = [e.kind for e in s if e.kind.startswith("plan.")]
        result = s.result()
    assert kinds.count("plan.revised") == 2 and kinds[0] == "plan.created"
    assert result.output == "Fetched a, b, c and d." and result.plan is not None


def _planner(log: list[str]) -> Any:
    """A model that plans three fetches, fetches the first step not yet done, marks the
    steps done when asked to review, and answers once every step is done."""

    def fetched(messages: list[Message]) -> list[str]:
        return [m.content.removeprefix("contents of ") for m in messages
                if isinstance(m, ToolResultMessage) and m.name == "fetch"]  # fmt: skip

    def my_plan(messages: list[Message]) -> list[dict[str, str]]:
        calls = [c for m in messages if isinstance(m, AssistantMessage) for c in m.tool_calls]
        last = [c for c in calls if c.name == "update_plan"][-1]
        return list(json.loads(last.arguments)["steps"])

    def answer(messages: list[Message], params: RequestParams) -> Any:
        if params.settings.tool_choice == "update_plan":
            if not any(isinstance(m, AssistantMessage) for m in messages):
                first = _steps(*((f"fetch {p}", "pending") for p in "xyz"))
                return call("update_plan", steps=first)
            done = fetched(messages)
            steps = [{**s, "status": "done" if s["title"][6:] in done else s["status"]}
                     for s in my_plan(messages)]  # fmt: skip
            return call("update_plan", steps=steps, note=f"{len(done)} fetched")
        todo = [s["title"][6:] for s in my_plan(messages) if s["status"] != "done"]
        todo = [p for p in todo if p not in fetched(messages)]
        if todo:
            return call("fetch", page=todo[0])
        return Turn(text="All fetched: " + ", ".join(fetched(messages)))

    return answer


@pytest.mark.anyio
async def test_a_function_model_follows_the_plan_it_wrote() -> None:
    log: list[str] = []
    events: list[Event] = []
    model = FunctionModel(_planner(log))
    result = await plait.arun(
        "Fetch x, y and z.",
        tools=[_fetch_tool(log)],
        model=model,
        plan=True,
        planning_interval=2,
        handlers=[events.append],
    )
    assert result.output == "All fetched: x, y, z"
    assert log == ["x", "y", "z"]  # in the plan's order
    assert result.plan is not None
    assert [(s.title, s.status) for s in result.plan.steps] == [
        ("fetch x", "done"), ("fetch y", "done"), ("fetch z", "pending"),
    ]  # fmt: skip
    assert result.plan.note == "2 fetched" and len(result.plan_revisions) == 2
    kinds = [e.kind for e in _plan_events(events)]
    assert kinds == ["plan.created", "plan.step", "plan.step", "plan.revised", "plan.step"]


@pytest.mark.anyio
async def test_max_steps_ends_the_run_through_on_limit() -> None:
    def script() -> ScriptedModel:
        return ScriptedModel(
            [call("update_plan", steps=FIRST)]
            + [call("fetch", page=p) for p in "abc"]
            + ["Stopped early."]
        )

    log: list[str] = []
    with pytest.raises(plait.LimitExceeded, match="reached its steps limit") as raised:
        await plait.arun("Fetch.", tools=[_fetch_tool(log)], model=script(), plan=True, max_steps=2)
    assert log == ["a", "b"]
    partial = raised.value.result
    assert partial is not None and partial.status == "incomplete"
    assert partial.stop_reason == "limit:steps" and partial.plan is not None

    events: list[Event] = []
    result = await plait.arun(
        "Fetch.", tools=[_fetch_tool([])], model=script(), plan=True, max_steps=2,
        on_limit="partial", handlers=[events.append],
    )  # fmt: skip
    assert (result.status, result.stop_reason) == ("incomplete", "limit:steps")
    limit = next(e for e in events if e.kind == "limit")
    assert limit.data["limit"] == "steps"
    assert [e.data for e in events if e.kind == "plan.step"][-1] == {"done": 2, "max_steps": 2}

    model = script()
    log = []
    result = await plait.arun(
        "Fetch.", tools=[_fetch_tool(log)], model=model, plan=True, max_steps=2,
        on_limit="final_answer",
    )  # fmt: skip
    # the model is asked for a final answer: its third fetch is refused, then it answers
    assert log == ["a", "b"]
    assert result.status == "incomplete" and result.stop_reason == "limit:steps"
    asked = model.requests[3].messages[-1]
    assert asked.content.startswith("The run reached its steps limit.")


@pytest.mark.anyio
async def test_max_steps_with_a_review_due_asks_for_no_review() -> None:
    model = ScriptedModel(
        [call("update_plan", steps=FIRST), call("fetch", page="a"), call("fetch", page="b")]
    )
    result = await plait.arun(
        "Fetch.", tools=[_fetch_tool([])], model=model, plan=True, planning_interval=2,
        max_steps=2, on_limit="partial",
    )  # fmt: skip
    assert result.stop_reason == "limit:steps" and len(model.requests) == 3
    assert not any(
        isinstance(m, UserMessage) and "Review your plan" in m.content for m in result.messages
    )


@pytest.mark.anyio
async def test_max_steps_without_a_plan_counts_steps_only() -> None:
    model = ScriptedModel(
        [[call("fetch", page="a"), call("fetch", page="b")], call("fetch", page="c")]
    )
    result = await plait.arun(
        "Fetch.", tools=[_fetch_tool([])], model=model, max_steps=1, on_limit="partial"
    )
    assert result.stop_reason == "limit:steps" and len(model.requests) == 1  # 2 calls, 1 step
    assert [t.name for t in model.requests[0].params.tools] == ["fetch"]
    assert model.requests[0].params.settings.tool_choice is None
    assert result.plan is None and result.plan_revisions == ()


@pytest.mark.anyio
async def test_an_initial_plan_is_shown_and_executed_at_once() -> None:
    log: list[str] = []
    events: list[Event] = []
    given = plait_plan(steps=["fetch a", "fetch b"], note="from the ticket")
    model = ScriptedModel(
        [
            call("fetch", page="a"),
            call("fetch", page="b"),
            call("update_plan", steps=_steps(("fetch a", "done"), ("fetch b", "done"))),
            "Done.",
        ]
    )
    result = await plait.arun(
        "Fetch.", tools=[_fetch_tool(log)], model=model, plan=given, planning_interval=2,
        handlers=[events.append],
    )  # fmt: skip
    assert log == ["a", "b"]
    first = model.requests[0]
    assert first.params.settings.tool_choice is None  # the plan exists: no forced turn
    assert first.messages[-1].content == (
        "Your plan:\n1. [pending] fetch a\n2. [pending] fetch b\nWork through it with your "
        "tools; call `update_plan` to mark progress or to change the plan."
    )
    assert model.requests[2].params.settings.tool_choice == "update_plan"
    assert result.plan_revisions[0] == given
    assert result.plan is not None and result.plan.revision == 1
    plan_events = _plan_events(events)
    assert plan_events[0].kind == "plan.created"
    assert plan_events[0].data["note"] == "from the ticket"
    assert events.index(plan_events[0]) == 1  # right after run.start


def plait_plan(**fields: Any) -> Plan:
    """``plait.Plan`` (the public name, once exported)."""
    return getattr(plait, "Plan", Plan)(**fields)


@pytest.mark.anyio
async def test_a_completion_run_gets_its_tool_choice_back_after_the_plan() -> None:
    model = ScriptedModel([call("update_plan", steps=FIRST), complete(42, summary="done")])
    result = await plait.arun("Answer.", output=int, model=model, plan=True)
    assert result.output == 42
    assert [r.params.settings.tool_choice for r in model.requests] == ["update_plan", "required"]


@pytest.mark.anyio
async def test_an_invalid_plan_goes_back_to_the_model_and_stays_forced() -> None:
    model = ScriptedModel(
        [call("update_plan", steps=[]), call("update_plan", steps=FIRST), "Nothing to do."]
    )
    result = await plait.arun("Plan.", model=model, plan=True)
    error = next(m for m in result.messages if isinstance(m, ToolResultMessage))
    assert error.is_error and error.content.startswith("Invalid `update_plan` call:")
    assert [r.params.settings.tool_choice for r in model.requests] == [
        "update_plan", "update_plan", None,
    ]  # fmt: skip
    assert len(result.plan_revisions) == 1


@pytest.mark.anyio
async def test_a_plain_run_has_no_plan() -> None:
    model = ScriptedModel(["Hi."])
    result = await plait.arun("Hello.", model=model)
    assert result.plan is None and result.plan_revisions == ()
    assert model.requests[0].params.tools == ()


@pytest.mark.parametrize(
    ("options", "error", "match"),
    [
        ({"plan": True, "planning_interval": 0}, ValueError, "planning_interval must be at"),
        ({"max_steps": 0}, ValueError, "max_steps must be at least 1"),
        ({"max_steps": -3}, ValueError, "max_steps must be at least 1"),
        ({"planning_interval": 2}, ValueError, "pass plan=True"),
        ({"plan": False, "planning_interval": 2}, ValueError, "pass plan=True"),
        ({"plan": "yes"}, TypeError, "plan= takes True, False or a plait.Plan"),
        ({"plan": True, "max_steps": 2.5}, TypeError, "whole number"),
        ({"plan": True, "planning_interval": True}, TypeError, "whole number"),
    ],
)
def test_bad_options_are_refused_before_the_run(
    options: dict[str, Any], error: type[Exception], match: str
) -> None:
    model = ScriptedModel(["never asked"])
    with pytest.raises(error, match=match):
        plait.iter("x", model=model, **options)  # refused when the options are given
    assert model.requests == []


def test_a_plan_needs_steps() -> None:
    with pytest.raises(ValueError, match="at least 1 item"):
        Plan(steps=[])


def test_a_tool_named_update_plan_is_refused_in_planning_mode() -> None:
    def update_plan() -> str:
        """Clash."""
        return ""

    with pytest.raises(ValueError, match="may not be named 'update_plan'"):
        plait.run("x", tools=[update_plan], plan=True, model=ScriptedModel(["x"]))


@pytest.mark.anyio
async def test_a_resumed_run_keeps_its_plan(tmp_path: Path) -> None:
    """Interrupted (Ctrl-C in a tool) after a revision: resumed, the plan and the step
    count are rebuilt from the recorded history, and the next review comes on time."""
    store = f"sqlite:///{tmp_path}/plan.db"
    log: list[str] = []
    state = {"interrupt_at": "c"}

    @plait.tool(idempotent=True)
    def fetch(page: str) -> str:
        """Fetch a page."""
        if state.get("interrupt_at") == page:
            del state["interrupt_at"]
            raise KeyboardInterrupt
        log.append(page)
        return f"contents of {page}"

    first = _revised_every_two_steps()
    with pytest.raises(KeyboardInterrupt):
        await plait.arun("Fetch the pages.", tools=[fetch], model=first, plan=True,
                         planning_interval=2, store=store, run_id="run-p")  # fmt: skip
    again = ScriptedModel(
        [call("fetch", page="d", id="f4"), call("update_plan", steps=THIRD, id="p3"), "Done."]
    )
    events: list[Event] = []
    result = await plait.arun(model=again, tools=[fetch], plan=True, planning_interval=2,
                              store=store, resume="run-p", handlers=[events.append])  # fmt: skip
    assert result.status == "success" and log == ["a", "b", "c", "d"]
    # step 4 (fetch d) is followed by the review: the count went on from the record
    assert again.requests[1].params.settings.tool_choice == "update_plan"
    assert [p.revision for p in result.plan_revisions] == [0, 1, 2]
    assert result.plan is not None and result.plan.steps == Plan(steps=THIRD).steps
    assert [e.data["done"] for e in events if e.kind == "plan.step"] == [3, 4]
    # a finished run's recorded result has its plan too
    done = await plait.arun(model=again, plan=True, store=store, resume="run-p")
    assert done.plan == result.plan


@pytest.mark.anyio
async def test_the_plan_goes_on_after_a_handoff() -> None:
    """The agent handed to keeps the plan tool; a turn that hands over is not a step."""
    log: list[str] = []
    billing = plait.Agent("billing", instructions="Billing.", tools=[_fetch_tool(log)])
    triage = plait.Agent("triage", instructions="Route.", handoffs=[billing])
    model = ScriptedModel(
        [
            call("update_plan", steps=_steps(("hand over", "pending"), ("fetch a", "pending"))),
            call("transfer_to_billing"),
            call("fetch", page="a"),
            "Done.",
        ]
    )
    events: list[Event] = []
    result = await triage.arun("Fetch a.", model=model, plan=True, handlers=[events.append])
    assert result.last_agent == "billing" and log == ["a"]
    assert [t.name for t in model.requests[2].params.tools] == ["fetch", "update_plan"]
    assert [e.data["done"] for e in events if e.kind == "plan.step"] == [1]


@pytest.mark.anyio
async def test_a_resumed_run_plans_as_recorded_without_the_options_again(tmp_path: Path) -> None:
    """plan=, planning_interval= and max_steps= are recorded with the run."""
    kernel = make_kernel()
    store = f"sqlite:///{tmp_path}/plans.db"
    plan = _steps(("a", "pending"), ("b", "pending"))
    first = ScriptedModel([call("update_plan", steps=plan, id="p0"), KeyboardInterrupt()])
    with pytest.raises(KeyboardInterrupt):
        await plait.arun("go", model=first, store=store, run_id="r-plan", kernel=kernel,
                         plan=True, planning_interval=2, max_steps=5)  # fmt: skip
    again = ScriptedModel(["done"])
    result = await plait.arun(model=again, store=store, resume="r-plan", kernel=kernel)
    assert result.plan is not None and [s.title for s in result.plan.steps] == ["a", "b"]
    assert any(t.name == "update_plan" for t in again.requests[0].params.tools)
    await kernel.aclose()
