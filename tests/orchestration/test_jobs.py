"""Predefined jobs (issue 13, item 5): llmling-agent's ``Job`` and ``agent.run_job`` as
``plait.Job`` and ``plait.run_job(job, agent=...)`` — any agent whose tools satisfy the
job runs it; any other is refused before a model is asked anything."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from pydantic import BaseModel

import plait
from plait import hookimpl
from plait._jobs import Job, JobRefused, arun_job, run_job
from plait.testing import ScriptedModel, call, complete, make_kernel


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


class Summary(BaseModel):
    title: str
    words: int


def fetch_page(url: str) -> str:
    """Fetch a page."""
    return "Plait is a run kernel for agents."


def count_words(text: str) -> int:
    """Count the words of a text."""
    return len(text.split())


def long_enough(c: plait.Completion) -> bool | str:
    """A verifier: a string is the reason it failed."""
    return True if c.result.words >= 5 else "count again: too few words"


JOB = Job(
    "Summarise https://plait.dev in a title and a word count.",
    output=Summary,
    required_tools=["fetch_page", count_words],  # a name or the tool itself
    verifiers=[long_enough],
    name="summarise",
)


def test_a_job_is_refused_before_any_model_call_when_a_tool_is_missing() -> None:
    model = ScriptedModel(["never asked"])
    writer = plait.Agent("writer", model=model, tools=[fetch_page])
    with pytest.raises(JobRefused) as info:
        run_job(JOB, agent=writer)
    assert info.value.missing == ("count_words",) and info.value.job is JOB
    message = str(info.value)
    assert "job 'summarise'" in message and "agent 'writer'" in message
    assert "count_words" in message and "tools=[...]" in message
    assert isinstance(info.value, ValueError) and model.requests == []


@pytest.mark.anyio
async def test_the_async_form_refuses_too(anyio_backend: str) -> None:
    model = ScriptedModel(["never asked"])
    with pytest.raises(JobRefused, match="fetch_page, count_words"):
        await arun_job(JOB, agent=plait.Agent("bare", model=model))
    assert model.requests == []


@pytest.mark.anyio
async def test_a_satisfied_job_runs_with_its_output_and_verifier(anyio_backend: str) -> None:
    checked: list[str] = []

    def agent_check(c: plait.Completion) -> bool:
        checked.append("agent")
        return True

    model = ScriptedModel(
        [
            call("fetch_page", url="https://plait.dev"),
            complete(result={"title": "Plait", "words": 2}),  # fails the job's verifier
            complete(result={"title": "Plait", "words": 7}),
        ]
    )
    analyst = plait.Agent(
        "analyst", model=model, tools=[fetch_page, count_words], verifiers=[agent_check]
    )
    result = await arun_job(JOB, agent=analyst)
    assert result.status == "success" and result.output == Summary(title="Plait", words=7)
    assert result.verified is True and result.turns == 3
    assert checked == ["agent", "agent"]  # the agent's verifier kept, the job's added
    assert any("too few words" in str(getattr(m, "content", "")) for m in result.messages)
    assert result.messages[0].role == "user" and result.messages[0].content == JOB.task


def test_a_jobs_guardrail_is_added_to_the_agents() -> None:
    @plait.guardrail(stage="output")
    def no_empty_title(s: Summary) -> bool | str:
        return True if s.title else "a summary needs a title"

    job = dataclasses.replace(JOB, verifiers=(), guardrails=(no_empty_title,))
    model = ScriptedModel([complete(result={"title": "", "words": 9})])
    agent = plait.Agent("a", model=model, tools=[fetch_page, count_words])
    with pytest.raises(plait.GuardrailTripped, match="needs a title"):
        run_job(job, agent=agent)


def test_plugin_tool_names_and_toolsets_count() -> None:
    class Plugin:
        @hookimpl
        def plait_register_tools(self) -> list[Any]:
            def web_search(query: str) -> str:
                """Search the web."""
                return "3 hits"

            return [web_search]

    kernel = make_kernel(Plugin())
    job = Job("Find plait.", required_tools=["web_search"])
    model = ScriptedModel([call("web_search", query="plait"), "Found it."])
    agent = plait.Agent("searcher", model=model, tools=["web_search"], kernel=kernel)
    assert run_job(job, agent=agent).output == "Found it."
    assert job.missing_tools(["web_search"], kernel) == ()
    assert job.missing_tools([fetch_page], kernel) == ("web_search",)


def test_without_an_agent_the_runs_tools_are_checked() -> None:
    job = Job("Fetch it.", required_tools=["fetch_page"])
    with pytest.raises(JobRefused, match="the run does not have: fetch_page"):
        run_job(job, model=ScriptedModel(["x"]))
    model = ScriptedModel([call("fetch_page", url="u"), "fetched"])
    assert run_job(job, model=model, tools=[fetch_page]).output == "fetched"


def test_a_jobs_deps_reach_its_tools_unless_the_run_gives_its_own() -> None:
    seen: list[Any] = []

    def whoami(ctx: plait.Context[str]) -> str:
        """Who runs this."""
        seen.append(ctx.deps)
        return str(ctx.deps)

    job = Job("Who?", required_tools=["whoami"], deps="job-deps")
    agent = plait.Agent("a", tools=[whoami])
    run_job(job, agent=agent, model=ScriptedModel([call("whoami"), "ok"]))
    run_job(job, agent=agent, model=ScriptedModel([call("whoami"), "ok"]), deps="run-deps")
    assert seen == ["job-deps", "run-deps"]


def test_a_job_is_a_frozen_value_checked_when_made() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        JOB.task = "other"  # type: ignore[misc]
    assert JOB.required_tools == ("fetch_page", "count_words")
    with pytest.raises(TypeError, match="takes a list"):
        Job("x", required_tools="fetch_page")
    with pytest.raises(TypeError, match="non-empty str"):
        Job("")
    with pytest.raises(TypeError, match=r"plait\.Job"):
        run_job("not a job", model=ScriptedModel(["x"]))  # type: ignore[arg-type]
