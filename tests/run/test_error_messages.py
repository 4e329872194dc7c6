"""Messages that say what happened: a tool's error in ``tool.end``, and why the output
stayed invalid in the run's final error (issue 9)."""

from __future__ import annotations

import time
from typing import Any, Literal

import pytest
from pydantic import BaseModel

import plait
from plait._kernel import Kernel
from plait.testing import ScriptedModel, call, complete

SECRET = "zq-tool-9d8c7b6a5f4e3d2c"  # not key-shaped: only its variable's name marks it


def _tool_end(kernel: Kernel, tool: Any, **options: Any) -> dict[str, Any]:
    events: list[plait.Event] = []
    model = ScriptedModel([call(getattr(tool, "name", None) or tool.__name__), "done"])
    plait.run("x", model=model, tools=[tool], kernel=kernel, handlers=[events.append], **options)
    (end,) = [e for e in events if e.kind == "tool.end"]
    return end.data


def test_a_raising_tool_shows_its_type_and_message(kernel: Kernel) -> None:
    def lookup(city: str = "Paris") -> str:
        """Look a city up."""
        raise RuntimeError(f"boom: no row for {city}")

    data = _tool_end(kernel, lookup)
    assert data["ok"] is False
    assert data["error"] == "RuntimeError"
    assert data["message"] == "RuntimeError: boom: no row for Paris"


def test_the_message_is_redacted_by_the_run_policy(
    kernel: Kernel, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PLAIT_TEST_SERVICE_TOKEN", SECRET)

    def connect() -> str:
        """Connect to the service."""
        raise PermissionError(f"token {SECRET} was refused")

    data = _tool_end(kernel, connect)
    assert data["message"] == "PermissionError: token [REDACTED] was refused"
    # a custom policy is the one applied
    data = _tool_end(kernel, connect, redact=lambda text: text.replace("refused", "***"))
    assert data["message"] == f"PermissionError: token {SECRET} was ***"


def test_the_message_is_bounded_and_cut_after_redaction(
    kernel: Kernel, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PLAIT_TEST_SERVICE_TOKEN", SECRET)

    def chatty() -> str:
        """Fails at length."""
        # "ValueError: " is 12 characters: the secret straddles the 500th character
        raise ValueError("x" * 480 + SECRET + "y" * 5000)

    data = _tool_end(kernel, chatty)
    message = data["message"]
    assert len(message) == 500
    assert message.startswith("ValueError: xxx")
    assert SECRET[:6] not in message  # cutting first would leave the secret's start


def test_a_timed_out_tool_says_after_how_long(kernel: Kernel) -> None:
    def stuck() -> str:
        """Never answers in time."""
        time.sleep(0.5)
        return "late"

    data = _tool_end(kernel, plait.tool(timeout=0.05)(stuck))
    assert data["error"] == "TimeoutError"
    assert data["message"] == "TimeoutError: timed out after 0.05s"


def test_a_successful_tool_has_no_message(kernel: Kernel) -> None:
    def fine() -> str:
        """Works."""
        return "ok"

    data = _tool_end(kernel, fine)
    assert data["ok"] is True and data["error"] is None and data["message"] is None


class Forecast(BaseModel):
    city: str
    sky: Literal["sunny", "cloudy", "rainy"]


def test_an_output_that_stays_invalid_says_what_was_wrong(kernel: Kernel) -> None:
    bad = complete(result={"city": "Paris", "sky": "foggy-7f3a"})
    model = ScriptedModel([bad, bad])
    with pytest.raises(plait.RunFailed) as info:
        plait.run(
            "x",
            model=model,
            output=Forecast,
            kernel=kernel,
            limits=plait.Limits(output_retries=1),
            raise_on_failure=True,
        )
    result = info.value.result
    assert result.stop_reason == "output_retries"
    assert result.error == (
        "the completion stayed invalid: `result` does not match the required output type:\n"
        "- sky: Input should be 'sunny', 'cloudy' or 'rainy'"
    )
    assert result.error in str(info.value)
    assert "foggy" not in str(info.value)  # the invalid value is not repeated


def test_an_invalid_completion_call_is_named_too(kernel: Kernel) -> None:
    bad = complete(result={"city": "Paris", "sky": "sunny"}, status="maybe")
    model = ScriptedModel([bad, bad])
    result = plait.run(
        "x",
        model=model,
        output=Forecast,
        kernel=kernel,
        limits=plait.Limits(output_retries=1),
        raise_on_failure=False,
    )
    assert result.status == "failed"
    assert result.error is not None
    assert result.error.startswith("the completion stayed invalid: Invalid `complete` call:")
    assert "- status: Input should be 'success' or 'failed'" in result.error
