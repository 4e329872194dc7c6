"""Structured output and the completion tool ``complete(status, summary, result, evidence)``."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

import plait
from plait._kernel import Kernel
from plait.testing import ScriptedModel, Turn, call, complete


class Forecast(BaseModel):
    city: str
    celsius: float


class Trip(BaseModel):
    legs: list[Forecast]


def test_structured_output_through_the_completion_tool(kernel: Kernel) -> None:
    model = ScriptedModel(
        [
            complete(
                result={"city": "Paris", "celsius": 21.5}, summary="looked it up", evidence=["api"]
            )
        ]
    )
    result = plait.run("weather?", model=model, output=Forecast, kernel=kernel)
    assert result.output == Forecast(city="Paris", celsius=21.5)
    assert result.status == "success" and result.stop_reason == "completion"
    assert result.completion is not None
    assert (result.completion.summary, result.completion.evidence) == ("looked it up", ["api"])
    # completing ends the run: exactly one model request, and the call has its result
    assert len(model.requests) == 1
    assert result.messages[-1].role == "tool" and result.messages[-1].content == "Completed."
    spec = model.requests[0].params.tools[0]
    assert spec.name == "complete"
    assert spec.parameters["properties"]["result"]["properties"]["city"]["type"] == "string"


def test_nested_models_keep_their_definitions_at_the_root(kernel: Kernel) -> None:
    model = ScriptedModel([complete(result={"legs": [{"city": "A", "celsius": 1}]})])
    result = plait.run("x", model=model, output=Trip, kernel=kernel)
    params = model.requests[0].params.tools[0].parameters
    assert "Forecast" in params["$defs"]
    assert result.output == Trip(legs=[Forecast(city="A", celsius=1)])


def test_invalid_result_goes_back_to_the_model(kernel: Kernel) -> None:
    model = ScriptedModel(
        [
            complete(result={"city": "Paris", "celsius": "warm"}),
            complete(result={"city": "Paris", "celsius": 20}),
        ]
    )
    result = plait.run("x", model=model, output=Forecast, kernel=kernel)
    assert result.output == Forecast(city="Paris", celsius=20)
    feedback = model.requests[1].messages[-1]
    assert feedback.role == "tool" and feedback.is_error
    assert "celsius" in feedback.content and "warm" not in feedback.content


def test_output_retries_budget(kernel: Kernel) -> None:
    bad = complete(result={"nope": 1})
    model = ScriptedModel([bad, bad, bad])
    result = plait.run(
        "x",
        model=model,
        output=Forecast,
        kernel=kernel,
        limits=plait.Limits(output_retries=1),
        raise_on_failure=False,
    )
    assert result.status == "failed" and result.stop_reason == "output_retries"
    assert len(model.requests) == 2


def test_text_instead_of_completion_is_corrected(kernel: Kernel) -> None:
    model = ScriptedModel(["it's 20 degrees", complete(result={"city": "X", "celsius": 20})])
    result = plait.run("x", model=model, output=Forecast, kernel=kernel)
    assert result.output.celsius == 20
    assert "complete" in model.requests[1].messages[-1].content


def test_list_output(kernel: Kernel) -> None:
    model = ScriptedModel([complete(result=["a", "b"])])
    result = plait.run("x", model=model, output=list[str], kernel=kernel)
    assert result.output == ["a", "b"]


def test_require_completion_with_text_output(kernel: Kernel) -> None:
    model = ScriptedModel(
        [call("complete", {"status": "success", "summary": "s", "result": "the answer"})]
    )
    result = plait.run("x", model=model, require_completion=True, kernel=kernel)
    assert result.output == "the answer" and result.stop_reason == "completion"


def test_no_completion_when_optional_is_skipped(kernel: Kernel) -> None:
    model = ScriptedModel(["just text"])
    result = plait.run("x", model=model, require_completion=False, kernel=kernel)
    assert result.status == "skipped"
    assert result.output == "just text"
    assert [t.name for t in model.requests[0].params.tools] == ["complete"]


def test_plain_text_run_offers_no_completion_tool(kernel: Kernel) -> None:
    model = ScriptedModel(["x"])
    plait.run("x", model=model, kernel=kernel)
    assert model.requests[0].params.tools == ()


def test_model_reported_failure(kernel: Kernel) -> None:
    failed = complete(status="failed", summary="no data")
    with pytest.raises(plait.RunFailed) as info:
        plait.run("x", model=ScriptedModel([failed]), output=Forecast, kernel=kernel)
    assert info.value.result.status == "failed"
    result = plait.run(
        "x", model=ScriptedModel([failed]), output=Forecast, kernel=kernel, raise_on_failure=False
    )
    assert result.status == "failed" and result.output is None
    assert result.completion is not None and result.completion.summary == "no data"


def test_tools_of_the_completing_turn_run_first(kernel: Kernel) -> None:
    ran: list[str] = []

    def save(x: int) -> str:
        """Save."""
        ran.append("save")
        return "saved"

    turn = Turn(calls=(call("save", x=1), complete(result=1)))
    model = ScriptedModel([turn])
    result = plait.run("x", model=model, output=int, tools=[save], kernel=kernel)
    assert ran == ["save"] and result.output == 1 and len(model.requests) == 1
    ids = {m.tool_call_id for m in result.messages if m.role == "tool"}
    assert ids == {c.id for c in result.messages[1].tool_calls}


def test_the_completion_schema_is_bounded_and_asks_for_the_result_first(kernel: Kernel) -> None:
    # A constrained sampler follows the schema: unbounded arrays let a small model repeat
    # an item until the token limit cuts the call, and the answer comes first so it is
    # written next to the facts it is drawn from, not next to the word "success".
    model = ScriptedModel([complete(result={"city": "Paris", "celsius": 20})])
    plait.run("x", model=model, output=Forecast, kernel=kernel)
    params = model.requests[0].params.tools[0].parameters
    assert next(iter(params["properties"])) == "result"
    evidence = params["properties"]["evidence"]
    assert evidence["maxItems"] >= 1 and evidence["items"]["maxLength"] >= 100
    assert params["properties"]["summary"]["maxLength"] >= 100


def test_longer_values_than_the_schema_declares_still_validate(kernel: Kernel) -> None:
    many = [f"fact {i}" for i in range(20)]
    model = ScriptedModel([complete(result="ok", summary="s" * 2000, evidence=many)])
    result = plait.run("x", model=model, require_completion=True, kernel=kernel)
    assert result.completion is not None and result.completion.evidence == many
