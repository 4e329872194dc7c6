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

A timeout holds even against code that fights it: once a call's deadline has passed,
what it returns or raises is discarded and the call *timed out* — whether it swallowed
the cancellation, went on working, or blocked the event loop past the deadline. Sync
plugin code the kernel calls outside a run (registration hooks, entry-point imports)
runs in a daemon worker thread (``SyncCalls``) that the caller waits for at most a
bounded time; Python cannot stop a thread, so code that does not return is abandoned.

Model providers are not called here: their errors are mapped to the provider error tree
and retried by ``plait._retry``, the one retry layer.
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import queue
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from time import perf_counter
from typing import Any, Generic, Literal, TypeVar

import anyio
import anyio.lowlevel

from ._contracts import Decision, GuardrailStage, Verdict

__all__ = [
    "CallInfo",
    "PluginKind",
    "PluginTimeout",
    "SyncCalls",
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
    (see ``plugin_failure``). Once the deadline has passed, the call timed out whatever
    it returned or raised (see ``_late``).
    """
    start = perf_counter()
    scope: anyio.CancelScope | None = None
    try:
        if seconds is None:
            value = await call()
        else:  # a bare scope: anyio.fail_after's context-manager machinery costs more
            scope = anyio.CancelScope(deadline=anyio.current_time() + seconds)
            with scope:
                value = await call()
                duration = perf_counter() - start
                if duration < seconds and not scope.cancel_called:  # the only added cost
                    return CallInfo(kind, name, value=value, duration=duration)
                # the call swallowed its cancellation, or blocked the event loop past the
                # deadline, and returned late: the value is discarded
                return _timed_out(kind, name, seconds, start, "returned late, discarded")
            return _timed_out(kind, name, seconds, start)  # only the deadline cancels it
    except TimeoutError as exc:
        return CallInfo(kind, name, error=exc, duration=perf_counter() - start, timed_out=True)
    except Exception as exc:
        if scope is not None and _late(scope, seconds, start):
            return _timed_out(kind, name, seconds, start, f"then raised {type(exc).__name__}")
        return CallInfo(kind, name, error=exc, duration=perf_counter() - start)
    except BaseException as exc:
        cancelled = anyio.get_cancelled_exc_class()
        if isinstance(exc, cancelled):
            await _raise_if_cancelled(exc)  # the run's cancellation propagates from here
        elif not plugin_failure(exc, cancelled):
            raise
        if scope is not None and _late(scope, seconds, start):
            return _timed_out(kind, name, seconds, start, f"then raised {type(exc).__name__}")
        return CallInfo(kind, name, error=exc, duration=perf_counter() - start)
    return CallInfo(kind, name, value=value, duration=perf_counter() - start)


def _late(scope: anyio.CancelScope, seconds: float | None, start: float) -> bool:
    """The call's deadline has passed: its scope was cancelled by it, or the call kept
    the event loop blocked until after it (then the scope never got to cancel)."""
    return scope.cancel_called or (seconds is not None and perf_counter() - start >= seconds)


def _timed_out(
    kind: PluginKind, name: str, seconds: float | None, start: float, then: str = ""
) -> CallInfo[Any]:
    error = TimeoutError(f"timed out after {seconds:g}s" + (f" ({then})" if then else ""))
    return CallInfo(kind, name, error=error, duration=perf_counter() - start, timed_out=True)


async def _raise_if_cancelled(exc: BaseException) -> None:
    """Raise the run's cancellation if the calling task is being cancelled; return when
    ``exc``, a cancellation exception from plugin code, is the plugin's own doing (on
    asyncio, ``raise CancelledError`` after swallowing its timeout's cancellation).

    Only on this rare path: a cancelled anyio scope is raised anew at a checkpoint (as
    anyio's own exception, which its scopes recognise); a native ``Task.cancel()`` that
    is still pending (asyncio's ``cancelling()``) re-raises ``exc``.
    """
    await anyio.lowlevel.checkpoint_if_cancelled()
    try:
        task = asyncio.current_task()
    except RuntimeError:  # no asyncio loop: trio
        return
    if task is not None and task.cancelling():
        raise exc


class PluginTimeout(TimeoutError):
    """Sync plugin code (a hook, an import) did not return within ``seconds``; it was
    abandoned and goes on in its worker thread, whose result is discarded."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"did not return within {seconds:g}s")
        self.seconds = seconds


_Job = tuple[Callable[[], Any], "queue.SimpleQueue[tuple[bool, Any]]"]


class SyncCalls:
    """Calls sync plugin code one at a time in a daemon worker thread, waiting at most
    ``seconds`` for each call; ``seconds=None`` calls in the caller's thread, unbounded.

    One worker serves every call made through this object (a thread start costs about
    50-100 µs; a kernel build makes several calls). A call that does not return in time
    raises ``PluginTimeout``: its worker is abandoned (Python cannot stop a thread; a
    daemon does not keep the process alive) and the next call gets a fresh one. The
    worker runs in a copy of the caller's context (``contextvars``), like ``to_thread``.
    Use as a context manager, so the worker ends when the calls are done.
    """

    def __init__(self, seconds: float | None, name: str = "plait plugin calls") -> None:
        self.seconds = seconds
        self.name = name
        self._jobs: queue.SimpleQueue[_Job | None] | None = None

    def __enter__(self) -> SyncCalls:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Let the worker end (after its current call, if one is still running)."""
        if self._jobs is not None:
            self._jobs.put(None)
            self._jobs = None

    def call(self, fn: Callable[[], T]) -> T:
        """``fn()``'s value or exception (re-raised here), or ``PluginTimeout``."""
        seconds = self.seconds
        jobs = self._jobs if seconds is not None else None
        if jobs is None and seconds is not None:
            jobs = self._start()
        if jobs is None or seconds is None:  # unbounded, or no thread could be started
            return fn()
        done: queue.SimpleQueue[tuple[bool, Any]] = queue.SimpleQueue()
        jobs.put((fn, done))
        try:
            ok, outcome = done.get(timeout=seconds)
        except queue.Empty:
            self._jobs = None
            jobs.put(None)  # the worker ends if the call ever returns
            raise PluginTimeout(seconds) from None
        if ok:
            return outcome  # type: ignore[no-any-return]
        raise outcome

    def _start(self) -> queue.SimpleQueue[_Job | None] | None:
        jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        worker = threading.Thread(
            target=_work, args=(jobs, contextvars.copy_context()), name=self.name, daemon=True
        )
        try:
            worker.start()
        except RuntimeError:  # no thread to be had (resources): call unbounded instead
            return None
        self._jobs = jobs
        return jobs


def _work(jobs: queue.SimpleQueue[_Job | None], context: contextvars.Context) -> None:
    """A ``SyncCalls`` worker: run jobs until told to stop; hand back every outcome."""
    while (job := jobs.get()) is not None:
        fn, done = job
        try:
            done.put((True, context.run(fn)))
        except BaseException as exc:  # SystemExit too: the caller classifies it
            done.put((False, exc))
        del job, fn, done


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
