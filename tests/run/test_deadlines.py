"""Request and first-event deadlines of model turns, capped by the run's deadline."""

from __future__ import annotations

import time

import pytest

import plait
from plait import AttemptTimeout, LimitExceeded, Limits, ModelSettings, RequestTimeout
from plait._kernel import Kernel
from plait._retry import RetryPolicy
from plait.testing import ScriptedModel, Turn

HANG = Turn(text="too late", delay=30.0)  # nothing streams for 30 s
ONE_TRY = RetryPolicy(attempts=1)
STREAMED = ModelSettings(first_event_timeout=0.05, stream=True)  # the deadline guards streams


def test_the_first_event_deadline_has_a_finite_default() -> None:
    assert ModelSettings().first_event_timeout == 60.0
    assert ModelSettings(first_event_timeout=None).first_event_timeout is None
    with pytest.raises(ValueError):
        ModelSettings(first_event_timeout=0)


def test_a_model_silent_before_its_first_event_times_out_the_attempt(kernel: Kernel) -> None:
    model = ScriptedModel([HANG])
    start = time.monotonic()
    result = plait.run(
        "x",
        model=model,
        kernel=kernel,
        settings=STREAMED,
        retry_policy=ONE_TRY,
        raise_on_failure=False,
    )
    assert time.monotonic() - start < 5
    assert (result.status, result.stop_reason) == ("failed", "model_error")
    assert result.error is not None and result.error.startswith("AttemptTimeout")


def test_a_missed_first_event_is_retried_then_raised(kernel: Kernel) -> None:
    model = ScriptedModel([HANG, HANG])
    with pytest.raises(AttemptTimeout, match="first-event deadline"):
        plait.run(
            "x",
            model=model,
            kernel=kernel,
            settings=STREAMED,
            retry_policy=RetryPolicy(attempts=2, base_delay=0.0, max_delay=0.0),
        )
    assert len(model.requests) == 2  # AttemptTimeout is retried by the retry layer


def test_a_retried_first_event_can_succeed(kernel: Kernel) -> None:
    model = ScriptedModel([HANG, "on time"])
    result = plait.run(
        "x",
        model=model,
        kernel=kernel,
        settings=STREAMED,
        retry_policy=RetryPolicy(attempts=2, base_delay=0.0, max_delay=0.0),
    )
    assert result.output == "on time" and len(model.requests) == 2


def test_an_unwatched_unstreamed_turn_is_not_bound_by_the_first_event_deadline(
    kernel: Kernel,
) -> None:
    """Unstreamed, the whole answer is the first event: only the request deadline applies."""
    model = ScriptedModel([Turn(text="slow but whole", delay=0.3)])
    result = plait.run(
        "x", model=model, kernel=kernel, settings=ModelSettings(first_event_timeout=0.05)
    )
    assert result.output == "slow but whole"


@pytest.mark.parametrize("stream", [None, False, True])
def test_the_request_deadline_is_absolute_streamed_or_not(
    kernel: Kernel, stream: bool | None
) -> None:
    model = ScriptedModel([HANG])
    start = time.monotonic()
    with pytest.raises(RequestTimeout):
        plait.run(
            "x",
            model=model,
            kernel=kernel,
            settings=ModelSettings(timeout=0.1, first_event_timeout=None, stream=stream),
            retry_policy=ONE_TRY,
        )
    assert time.monotonic() - start < 5


def test_the_request_deadline_is_absolute(kernel: Kernel) -> None:
    model = ScriptedModel([HANG])
    with pytest.raises(RequestTimeout):
        plait.run(
            "x",
            model=model,
            kernel=kernel,
            settings=ModelSettings(timeout=0.1, first_event_timeout=None),
            retry_policy=ONE_TRY,
        )


def test_agent_settings_carry_the_first_event_deadline(kernel: Kernel) -> None:
    agent: plait.Agent[str] = plait.Agent(
        "a",
        settings=ModelSettings(first_event_timeout=0.05, temperature=0.1, stream=True),
        kernel=kernel,
    )
    result = agent.run(
        "x",
        model=ScriptedModel([HANG]),
        settings=ModelSettings(temperature=0.5),  # merged field by field: the deadline stays
        retry_policy=ONE_TRY,
        raise_on_failure=False,
    )
    assert result.error is not None and result.error.startswith("AttemptTimeout")


def test_the_run_deadline_caps_the_request_deadlines(kernel: Kernel) -> None:
    model = ScriptedModel([HANG])
    start = time.monotonic()
    with pytest.raises(LimitExceeded) as info:
        plait.run(
            "x",
            model=model,
            kernel=kernel,
            settings=ModelSettings(timeout=20, first_event_timeout=10),
            limits=Limits(seconds=0.1),
        )
    assert time.monotonic() - start < 5
    assert info.value.result is not None
    assert (info.value.result.status, info.value.result.stop_reason) == (
        "incomplete",
        "limit:seconds",
    )


def test_partial_on_the_run_deadline_returns_incomplete(kernel: Kernel) -> None:
    result = plait.run(
        "x",
        model=ScriptedModel([HANG]),
        kernel=kernel,
        limits=Limits(seconds=0.1),
        on_limit="partial",
    )
    assert (result.status, result.stop_reason) == ("incomplete", "limit:seconds")
