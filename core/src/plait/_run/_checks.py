"""Guardrails and verifiers from plain functions, and running them fail-closed.

A plain guardrail is ``fn(subject[, ctx]) -> bool | str | Decision | None`` (``None`` or
``True`` allow, ``False`` or a reason string block); a plain verifier is
``fn(completion[, ctx]) -> bool | str | Verdict | None`` (a string is the failure
reason). Both may be sync or async. Crashes and timeouts go through ``plait._call``,
which turns them into a block or a failed verdict.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Sequence
from typing import Any, Literal, overload

import anyio

from .._call import CallInfo, call_plugin, decision_from, maybe_await, verdict_from
from .._context import Context
from .._contracts import Completion, Decision, GuardrailStage, Verdict

__all__ = [
    "CHECK_TIMEOUT",
    "FunctionGuardrail",
    "FunctionVerifier",
    "Outcome",
    "guardrail",
    "run_guardrails",
    "run_verifiers",
    "verifier",
]

CHECK_TIMEOUT = 30.0
"""Seconds a guardrail or verifier may take when it does not set its own ``timeout``."""

REDACTED = "[redacted]"


def _wants_context(fn: Callable[..., Any]) -> bool:
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return True
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(positional) >= 2 or any(p.kind is p.VAR_POSITIONAL for p in params)


class FunctionGuardrail:
    """A ``Guardrail`` made from a function."""

    def __init__(
        self,
        fn: Callable[..., Any],
        *,
        stage: GuardrailStage = "input",
        name: str | None = None,
        timeout: float | None = None,
        parallel: bool = True,
    ) -> None:
        self.fn = fn
        self.stage: GuardrailStage = stage
        self.name = name or getattr(fn, "__name__", type(fn).__name__)
        self.timeout = timeout
        self.parallel = parallel
        self._ctx = _wants_context(fn)

    async def check(self, subject: Any, ctx: Context[Any]) -> Any:
        return await maybe_await(self.fn(subject, ctx) if self._ctx else self.fn(subject))


class FunctionVerifier:
    """A ``Verifier`` made from a function."""

    def __init__(
        self, fn: Callable[..., Any], *, name: str | None = None, timeout: float | None = None
    ) -> None:
        self.fn = fn
        self.name = name or getattr(fn, "__name__", type(fn).__name__)
        self.timeout = timeout
        self._ctx = _wants_context(fn)

    async def verify(self, completion: Completion, ctx: Context[Any]) -> Any:
        return await maybe_await(self.fn(completion, ctx) if self._ctx else self.fn(completion))


@overload
def guardrail(fn: Callable[..., Any], /) -> FunctionGuardrail: ...
@overload
def guardrail(
    fn: None = None,
    /,
    *,
    stage: GuardrailStage = ...,
    name: str | None = ...,
    timeout: float | None = ...,
    parallel: bool = ...,
) -> Callable[[Callable[..., Any]], FunctionGuardrail]: ...
def guardrail(
    fn: Callable[..., Any] | None = None,
    /,
    *,
    stage: GuardrailStage = "input",
    name: str | None = None,
    timeout: float | None = None,
    parallel: bool = True,
) -> FunctionGuardrail | Callable[[Callable[..., Any]], FunctionGuardrail]:
    """Make a guardrail for ``stage`` (input, output, tool_call, tool_result) from a function.

    ``parallel=False`` on an input guardrail makes the first model request wait for it
    (use it for redaction: the model then never sees the original input).
    """

    def wrap(f: Callable[..., Any]) -> FunctionGuardrail:
        return FunctionGuardrail(f, stage=stage, name=name, timeout=timeout, parallel=parallel)

    return wrap if fn is None else wrap(fn)


@overload
def verifier(fn: Callable[..., Any], /) -> FunctionVerifier: ...
@overload
def verifier(
    fn: None = None, /, *, name: str | None = ..., timeout: float | None = ...
) -> Callable[[Callable[..., Any]], FunctionVerifier]: ...
def verifier(
    fn: Callable[..., Any] | None = None,
    /,
    *,
    name: str | None = None,
    timeout: float | None = None,
) -> FunctionVerifier | Callable[[Callable[..., Any]], FunctionVerifier]:
    """Make a verifier from ``fn(completion[, ctx]) -> bool | str | None``."""

    def wrap(f: Callable[..., Any]) -> FunctionVerifier:
        return FunctionVerifier(f, name=name, timeout=timeout)

    return wrap if fn is None else wrap(fn)


def _timeout(obj: Any) -> float:
    value = getattr(obj, "timeout", None)
    return float(value) if isinstance(value, int | float) and value > 0 else CHECK_TIMEOUT


Outcome = tuple[Literal["allow", "block", "retry"], Any, list[Decision]]
"""``(action, subject or deciding Decision, every decision made)``."""


def _apply(decision: Decision, subject: Any) -> Any:
    if decision.replacement is not None:
        return decision.replacement
    return REDACTED if decision.action == "redact" else subject


async def run_guardrails(
    guards: Sequence[Any], stage: GuardrailStage, subject: Any, ctx: Context[Any]
) -> Outcome:
    """Run ``guards`` in order; redactions chain. Stops at the first block or retry."""
    decisions: list[Decision] = []
    for g in guards:
        name = str(getattr(g, "name", "guardrail"))
        info: CallInfo[Any] = await call_plugin(
            "guardrail", name, functools.partial(g.check, subject, ctx), seconds=_timeout(g)
        )
        decision = decision_from(info, name, stage)
        decisions.append(decision)
        if decision.action in ("block", "ask"):  # no approver in a plain run: fail closed
            return "block", decision, decisions
        if decision.action == "retry":
            return "retry", decision, decisions
        if decision.action in ("redact", "replace"):
            subject = _apply(decision, subject)
    return "allow", subject, decisions


async def run_verifiers(
    verifiers: Sequence[Any], completion: Completion, ctx: Context[Any]
) -> list[Verdict]:
    """Run every verifier concurrently; verdicts come back in the verifiers' order."""
    verdicts: list[Verdict | None] = [None] * len(verifiers)

    async def one(i: int, v: Any) -> None:
        name = str(getattr(v, "name", "verifier"))
        info = await call_plugin(
            "verifier", name, lambda: v.verify(completion, ctx), seconds=_timeout(v)
        )
        verdicts[i] = verdict_from(info, name)

    if len(verifiers) == 1:
        await one(0, verifiers[0])
    else:
        async with anyio.create_task_group() as tg:
            for i, v in enumerate(verifiers):
                tg.start_soon(one, i, v)
    return [v for v in verdicts if v is not None]
