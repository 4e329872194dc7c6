"""Guardrails and verifiers from plain functions, and running them fail-closed.

A plain guardrail is ``fn(subject[, ctx]) -> bool | str | Decision | None`` (``None`` or
``True`` allow, ``False`` or a reason string block); a plain verifier is
``fn(completion[, ctx]) -> bool | str | Verdict | None`` (a string is the failure
reason). Both may be sync or async; ``FunctionGuardrail`` and ``FunctionVerifier`` turn
those answers into the contract's ``Decision`` and ``Verdict``.

Rules enforced here for every guardrail and verifier, whatever made it:

* sync code (a plain function, or a ``check``/``verify`` that is not a coroutine
  function) runs in a worker thread, never on the event loop, so its timeout fires;
* an answer that arrives after the timeout is discarded: a timeout, like a crash
  (``plait._call``), is a block or a failed verdict (fail closed);
* an answer outside the contract (an object's ``check`` must return a ``Decision``, its
  ``verify`` a ``Verdict``) blocks or fails, with a reason naming the type it returned;
* each sees its own copy of what it checks (nothing copied for immutable values): only
  an explicit ``redact``/``replace`` decision changes the subject.
"""

from __future__ import annotations

import copy
import dataclasses
import enum
import inspect
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Literal, get_args, overload

import anyio
import anyio.to_thread
from pydantic import BaseModel

from .._call import CallInfo, call_plugin, decision_from, maybe_await, verdict_from
from .._context import Context
from .._contracts import Completion, Decision, GuardrailStage, Verdict

__all__ = [
    "ACTIONS",
    "CHECK_TIMEOUT",
    "FunctionGuardrail",
    "FunctionVerifier",
    "Outcome",
    "guardrail",
    "private_copy",
    "run_guardrails",
    "run_stream_guardrails",
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


def _is_async(fn: Any) -> bool:
    """``fn`` is a coroutine function (or an object whose ``__call__`` is one)."""
    return inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(
        getattr(fn, "__call__", None)  # noqa: B004 - objects with an async __call__
    )


async def _invoke(fn: Callable[..., Any], sync: bool, *args: Any) -> Any:
    """Call ``fn``; sync code runs in a worker thread (abandoned when the call's timeout
    passes, so a blocking check never holds the event loop or its own deadline)."""
    if sync:
        value = await anyio.to_thread.run_sync(lambda: fn(*args), abandon_on_cancel=True)
    else:
        value = fn(*args)
    return await maybe_await(value)  # a sync function may hand back an awaitable


class FunctionGuardrail:
    """A ``Guardrail`` made from a function; its ``check`` returns a ``Decision``."""

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
        self.name = name or str(getattr(fn, "__name__", type(fn).__name__))
        self.timeout = timeout
        self.parallel = parallel
        self._ctx = _wants_context(fn)
        self._sync = not _is_async(fn)

    async def check(self, subject: Any, ctx: Context[Any]) -> Decision:
        args = (subject, ctx) if self._ctx else (subject,)
        value = await _invoke(self.fn, self._sync, *args)
        # the function contract (bool | str | Decision | None) as the object contract
        return decision_from(CallInfo("guardrail", self.name, value=value), self.name, self.stage)


class FunctionVerifier:
    """A ``Verifier`` made from a function; its ``verify`` returns a ``Verdict``."""

    def __init__(
        self, fn: Callable[..., Any], *, name: str | None = None, timeout: float | None = None
    ) -> None:
        self.fn = fn
        self.name = name or str(getattr(fn, "__name__", type(fn).__name__))
        self.timeout = timeout
        self._ctx = _wants_context(fn)
        self._sync = not _is_async(fn)

    async def verify(self, completion: Completion, ctx: Context[Any]) -> Verdict:
        args = (completion, ctx) if self._ctx else (completion,)
        value = await _invoke(self.fn, self._sync, *args)
        return verdict_from(CallInfo("verifier", self.name, value=value), self.name)


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
    """Make a guardrail for ``stage`` (input, output, tool_call, tool_result, stream) from
    a function (a ``stream`` guardrail gets the answer's text so far, a ``str``).

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

ACTIONS = frozenset(get_args(Decision.model_fields["action"].annotation))
"""The actions a ``Decision`` may name; any other is outside the contract (a block)."""


def _apply(decision: Decision, subject: Any) -> Any:
    if decision.replacement is not None:
        return decision.replacement
    return REDACTED if decision.action == "redact" else subject


# --- what a check is handed: its own copy ---------------------------------------------

_IMMUTABLE = frozenset({str, int, float, bool, bytes, complex, type(None), range})
MAX_FROZEN_DEPTH = 16
"""Nesting beyond which a value is copied rather than proven immutable."""


def _immutable(value: Any, depth: int = 0) -> bool:
    """Nothing reachable from ``value`` can be changed in place (so it needs no copy)."""
    kind = type(value)
    if kind in _IMMUTABLE or isinstance(value, enum.Enum):
        return True
    if depth > MAX_FROZEN_DEPTH:
        return False
    if kind is tuple or kind is frozenset:
        return all(_immutable(v, depth + 1) for v in value)
    if isinstance(value, BaseModel):
        return (
            bool(kind.model_config.get("frozen"))
            and not value.__pydantic_extra__
            and not value.__pydantic_private__
            and _fields_immutable(value.__dict__.values(), depth)
        )
    params = getattr(kind, "__dataclass_params__", None)
    if params is not None and params.frozen:
        fields = dataclasses.fields(value)
        return _fields_immutable((getattr(value, f.name) for f in fields), depth)
    return False


def _fields_immutable(values: Any, depth: int) -> bool:
    return all(_immutable(v, depth + 1) for v in values)


def private_copy(value: Any) -> Any:
    """``value`` itself when it cannot be changed, else a copy a check may do anything
    with (shallow when every field of a model is immutable, deep otherwise)."""
    if type(value) in _IMMUTABLE or _immutable(value):
        return value
    if (
        isinstance(value, BaseModel)
        and not value.__pydantic_extra__
        and _fields_immutable(value.__dict__.values(), 0)
    ):
        return value.model_copy()  # e.g. a ToolCall: str fields, one shallow copy
    return copy.deepcopy(value)


# --- calling a check ------------------------------------------------------------------


async def _call_check(
    kind: Literal["guardrail", "verifier"],
    name: str,
    method: Callable[..., Awaitable[Any]],
    args: tuple[Any, ...],
    seconds: float,
) -> CallInfo[Any]:
    """Call a check under its deadline (``call_plugin``: an answer given after the
    deadline is discarded, so code that swallows cancellation gets no late allow)."""
    sync = not _is_async(method)
    return await call_plugin(kind, name, lambda: _invoke(method, sync, *args), seconds=seconds)


def _uncopyable(kind: str, name: str, exc: Exception) -> str:
    return f"{kind} {name!r} could not be given a copy of its subject ({type(exc).__name__})"


def _decision(info: CallInfo[Any], name: str, stage: GuardrailStage) -> Decision:
    """The contract's ``Decision``, or a block naming what came back instead (its type)."""
    value = info.value
    if info.error is not None or (
        isinstance(value, Decision)
        and value.action in ACTIONS
        and not (value.action == "replace" and value.replacement is None)
    ):
        return decision_from(info, name, stage)
    if isinstance(value, Decision):
        what = "a Decision with an action outside the contract"
        if value.action == "replace":
            what = "a replace Decision without a replacement"
    else:
        what = f"{type(value).__name__}, not a Decision"
    return Decision(
        action="block",
        reason=f"guardrail {name!r} returned {what}",
        guardrail=name,
        stage=stage,
        error="bad return value",
    )


def _verdict(info: CallInfo[Any], name: str) -> Verdict:
    """The contract's ``Verdict``, or a failed one naming what came back instead."""
    value = info.value
    if info.error is not None or (isinstance(value, Verdict) and type(value.passed) is bool):
        return verdict_from(info, name)
    if isinstance(value, Verdict):
        what = "a Verdict whose passed is not a bool"
    else:
        what = f"{type(value).__name__}, not a Verdict"
    return Verdict(
        passed=False,
        reason=f"verifier {name!r} returned {what}",
        verifier=name,
        error="bad return value",
    )


async def _check_one(g: Any, stage: GuardrailStage, subject: Any, ctx: Context[Any]) -> Decision:
    """One guardrail's decision on its own copy of ``subject`` (fail closed)."""
    name = str(getattr(g, "name", "guardrail"))
    try:
        seen = private_copy(subject)
    except Exception as exc:  # fail closed: no check, no pass
        reason = _uncopyable("guardrail", name, exc)
        return Decision(
            action="block", reason=reason, guardrail=name, stage=stage, error="uncopyable"
        )
    info = await _call_check("guardrail", name, g.check, (seen, ctx), _timeout(g))
    return _decision(info, name, stage)


async def run_guardrails(
    guards: Sequence[Any], stage: GuardrailStage, subject: Any, ctx: Context[Any]
) -> Outcome:
    """Run ``guards`` in order; redactions chain. Stops at the first block or retry."""
    decisions: list[Decision] = []
    for g in guards:
        decision = await _check_one(g, stage, subject, ctx)
        decisions.append(decision)
        if decision.action in ("block", "ask"):  # no approver in a plain run: fail closed
            return "block", decision, decisions
        if decision.action == "retry":
            return "retry", decision, decisions
        if decision.action in ("redact", "replace"):
            subject = _apply(decision, subject)
    return "allow", subject, decisions


async def run_stream_guardrails(
    guards: Sequence[Any], text: str, shown: str, ctx: Context[Any]
) -> Outcome:
    """Run stream guardrails on ``text``, the turn's text so far, of which ``shown`` (a
    prefix) was already released to the consumer. Rewrites chain.

    ``redact`` without a replacement redacts what was not shown yet (``shown +
    "[redacted]"``); a replacement must be a ``str`` that keeps ``shown`` as it is (shown
    text cannot be taken back): any other rewrite blocks (fail closed). ``retry`` and
    ``ask`` block: text may already be shown, so the turn cannot start over unseen.
    """
    decisions: list[Decision] = []
    for g in guards:
        decision = await _check_one(g, "stream", text, ctx)
        action = decision.action
        if action in ("redact", "replace"):
            new = decision.replacement
            if new is None:
                new = shown + REDACTED
            if type(new) is not str or not new.startswith(shown):
                name = decision.guardrail
                why = "a replacement that is not a str" if type(new) is not str else None
                decision = Decision(
                    action="block",
                    reason=(
                        f"guardrail {name!r} returned {why}"
                        if why
                        else f"guardrail {name!r} rewrote text already shown (it cannot be "
                        "taken back)"
                    ),
                    guardrail=name,
                    stage="stream",
                    error="bad return value" if why else "rewrote shown text",
                )
                action = "block"
            else:
                text = new
        decisions.append(decision)
        if action != "allow" and action not in ("redact", "replace"):
            return "block", decision, decisions  # block, retry, ask: the turn stops
    return "allow", text, decisions


async def run_verifiers(
    verifiers: Sequence[Any], completion: Completion, ctx: Context[Any]
) -> list[Verdict]:
    """Run every verifier concurrently; verdicts come back in the verifiers' order."""
    verdicts: list[Verdict | None] = [None] * len(verifiers)

    async def one(i: int, v: Any) -> None:
        name = str(getattr(v, "name", "verifier"))
        try:
            seen = private_copy(completion)
        except Exception as exc:  # fail closed: no check, no pass
            reason = _uncopyable("verifier", name, exc)
            verdicts[i] = Verdict(passed=False, reason=reason, verifier=name, error="uncopyable")
            return
        info = await _call_check("verifier", name, v.verify, (seen, ctx), _timeout(v))
        verdicts[i] = _verdict(info, name)

    if len(verifiers) == 1:
        await one(0, verifiers[0])
    else:
        async with anyio.create_task_group() as tg:
            for i, v in enumerate(verifiers):
                tg.start_soon(one, i, v)
    return [v for v in verdicts if v is not None]
