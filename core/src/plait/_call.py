"""The one place that calls plugin objects: tools, verifiers, guardrails, event handlers.

Every call is wrapped in a ``CallInfo`` (value or error, duration, timed out), like
pytest's ``CallInfo``. What a failure *means* depends on the kind of object, and that
policy lives here, in one table (DESIGN.md §2):

    kind        raises or times out                      why
    tool        an error result the model sees (redacted) tool errors are data
    verifier    a failed verdict (fail closed)            a crash is not a pass
    guardrail   a block (fail closed)                     a crash is not an allow
    handler     a ``plugin.error`` event; the run goes on observers must not break work
    any         cancellation and KeyboardInterrupt always propagate

Model providers are not called here: their errors are mapped to the provider error tree
and retried by ``plait._retry``, the one retry layer.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from time import perf_counter
from typing import Any, Generic, Literal, TypeVar

import anyio

from ._contracts import Decision, GuardrailStage, Verdict

__all__ = [
    "CallInfo",
    "PluginKind",
    "call_plugin",
    "plugin_failure",
    "decision_from",
    "describe_error",
    "maybe_await",
    "verdict_from",
]

T = TypeVar("T")

PluginKind = Literal["tool", "verifier", "guardrail", "handler"]


@dataclass(slots=True)
class CallInfo(Generic[T]):
    """The outcome of one call of plugin code: its value or its error, and how long it took."""

    kind: PluginKind
    name: str
    value: T | None = None
    error: BaseException | None = None
    duration: float = 0.0
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None


async def maybe_await(value: Any) -> Any:
    """``await`` ``value`` if it is awaitable (plain callables may be sync or async)."""
    if inspect.isawaitable(value):
        return await value
    return value


async def call_plugin(
    kind: PluginKind,
    name: str,
    call: Callable[[], Awaitable[T]],
    *,
    seconds: float | None,
) -> CallInfo[T]:
    """Await ``call()`` for at most ``seconds`` and record the outcome.

    Exceptions become ``CallInfo.error``, and so does any other ``BaseException`` the
    plugin raises (``SystemExit``: plugin code never ends the host). Cancellation and
    ``KeyboardInterrupt`` propagate: they are the run's and the user's, not the plugin's
    (see ``plugin_failure``).
    """
    start = perf_counter()
    try:
        if seconds is None:
            value = await call()
        else:  # a bare scope: anyio.fail_after's context-manager machinery costs more
            with anyio.CancelScope(deadline=anyio.current_time() + seconds):
                return CallInfo(kind, name, value=await call(), duration=perf_counter() - start)
            # only the deadline cancels this scope (an outer cancel propagates)
            raise TimeoutError(f"timed out after {seconds:g}s")
    except TimeoutError as exc:
        return CallInfo(kind, name, error=exc, duration=perf_counter() - start, timed_out=True)
    except Exception as exc:
        return CallInfo(kind, name, error=exc, duration=perf_counter() - start)
    except BaseException as exc:
        if not plugin_failure(exc, anyio.get_cancelled_exc_class()):
            raise
        return CallInfo(kind, name, error=exc, duration=perf_counter() - start)
    return CallInfo(kind, name, value=value, duration=perf_counter() - start)


def plugin_failure(exc: BaseException, cancelled: type[BaseException] | None = None) -> bool:
    """Whether ``exc``, raised by plugin code, is the plugin's failure (contained and
    classified like any other) rather than the run's cancellation (``cancelled``: the
    async library's class) or the user's interrupt.

    ``SystemExit`` and other ``BaseException`` subclasses a plugin raises are failures:
    a tool, guardrail, hook or import calling ``sys.exit()`` never ends the host.
    """
    if isinstance(exc, Exception):
        return True
    if isinstance(exc, (KeyboardInterrupt, GeneratorExit)):
        return False
    if cancelled is not None and isinstance(exc, cancelled):
        return False
    if isinstance(exc, BaseExceptionGroup):
        return all(plugin_failure(e, cancelled) for e in exc.exceptions)
    return True


def describe_error(info: CallInfo[Any]) -> str:
    """A short, secret-free description: the exception type only, never its text."""
    if info.timed_out:
        return "timed out"
    return f"raised {type(info.error).__name__}"


def verdict_from(info: CallInfo[Any], verifier: str) -> Verdict:
    """Turn a verifier's outcome into a ``Verdict``; a crash or timeout fails (closed)."""
    if info.error is not None:
        return Verdict(
            passed=False,
            reason=f"verifier {verifier!r} {describe_error(info)}",
            verifier=verifier,
            error=describe_error(info),
        )
    value = info.value
    if isinstance(value, Verdict):
        return value if value.verifier else value.model_copy(update={"verifier": verifier})
    if value is None or value is True:
        return Verdict(passed=True, verifier=verifier)
    if value is False:
        return Verdict(passed=False, reason=f"rejected by {verifier!r}", verifier=verifier)
    if isinstance(value, str):
        return Verdict(passed=False, reason=value, verifier=verifier)
    return Verdict(
        passed=False,
        reason=f"verifier {verifier!r} returned {type(value).__name__}, not a verdict",
        verifier=verifier,
        error="bad return value",
    )


def decision_from(info: CallInfo[Any], guardrail: str, stage: GuardrailStage) -> Decision:
    """Turn a guardrail's outcome into a ``Decision``; a crash or timeout blocks (closed)."""
    if info.error is not None:
        return Decision(
            action="block",
            reason=f"guardrail {guardrail!r} {describe_error(info)}",
            guardrail=guardrail,
            stage=stage,
            error=describe_error(info),
        )
    value = info.value
    if isinstance(value, Decision):
        update: dict[str, Any] = {}
        if not value.guardrail:
            update["guardrail"] = guardrail
        if value.stage is None:
            update["stage"] = stage
        return value.model_copy(update=update) if update else value
    if value is None or value is True:
        return Decision(action="allow", guardrail=guardrail, stage=stage)
    if value is False:
        return Decision(
            action="block", reason=f"blocked by {guardrail!r}", guardrail=guardrail, stage=stage
        )
    if isinstance(value, str):
        return Decision(action="block", reason=value, guardrail=guardrail, stage=stage)
    return Decision(
        action="block",
        reason=f"guardrail {guardrail!r} returned {type(value).__name__}, not a decision",
        guardrail=guardrail,
        stage=stage,
        error="bad return value",
    )
