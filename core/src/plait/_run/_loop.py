"""The run loop: a short state machine, and the ``Runner`` every entry point shares.

``advance`` runs the step named by ``st.phase`` under the run's deadline; each step
returns the phase that follows it, and ``STEPS`` lists every transition in one table.
``Runner`` owns one run from its ``RunSpec`` to its result: the kernel (a fresh one,
closed afterwards, unless one was passed), the state, the event handlers,
cancellation. ``plait.run``, ``arun``, ``stream``, ``iter`` and ``start`` all drive the
same ``advance``, so they produce the same events in the same order.
"""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable, Sequence
from contextvars import ContextVar
from time import perf_counter
from typing import TYPE_CHECKING, Any, Literal

import anyio

from .._errors import LimitExceeded
from ._emit import HandlerPump, Sink
from ._finish import on_limit, raise_for_outcome, repair, step_end, step_output, step_verify
from ._live import list_live_tools, may_list
from ._options import RunSpec
from ._result import Result, Step
from ._state import Phase, RunState, setup
from ._steps import step_answer, step_model, step_start, step_tools

if TYPE_CHECKING:
    from .._kernel import Kernel
    from ._hub import Upstream

__all__ = ["STEPS", "Runner", "advance"]

StepFunction = Callable[[RunState], Awaitable[tuple[Phase, Step]]]


async def step_resume(st: RunState) -> tuple[Phase, Step]:
    """A resumed run picks up where its record left off (see ``_resume``)."""
    from ._resume import step_resume as resume  # only resumed runs import the store kit

    return await resume(st)


STEPS: dict[Phase, tuple[StepFunction, frozenset[Phase]]] = {
    # phase     the step     the phases it may return ("end" from every step but end)
    "start": (step_start, frozenset({"model", "resume", "end"})),
    "resume": (step_resume, frozenset({"model", "tools", "answer", "verify", "end"})),
    "model": (step_model, frozenset({"tools", "answer", "model", "end"})),  # model: final answer
    "tools": (step_tools, frozenset({"model", "verify", "end"})),
    "answer": (step_answer, frozenset({"model", "verify", "output", "end"})),
    "verify": (step_verify, frozenset({"model", "output", "end"})),
    "output": (step_output, frozenset({"model", "end"})),
    "end": (step_end, frozenset({"done"})),
}
"""The state machine: ``st.phase`` names the next step; a step returns the phase after it.

A step may also end the run through ``RunState.finish`` (a block, a failure): the loop
then goes to ``end`` whatever the step returned, so no outcome is lost.
"""

KERNEL_CLOSE_TIMEOUT = 10.0
MAX_DEPTH = 8
"""How deeply runs may nest (a tool starting a run is one level)."""

CURRENT_RUN: ContextVar[RunState | None] = ContextVar("plait_current_run", default=None)
"""The run whose step is executing in this context (per task, never global state)."""


async def advance(
    st: RunState, *, until_done: bool = False, on_step: Callable[[Step], None] | None = None
) -> Step:
    """Run one step (or every step, ``until_done``) under one cancel scope.

    The scope carries the run's deadline (the ``seconds`` limit) and is what
    ``cancel("now")`` cancels; one scope for many steps keeps the loop cheap.
    """
    step: Step | None = None
    # one function, not two: each coroutine frame is memory held per run in flight
    try:
        while st.phase != "done":
            with anyio.CancelScope(deadline=st.deadline or math.inf) as scope:
                st.scope = scope
                if st.cancel_requested == "now":
                    scope.cancel()
                while _running(st):
                    # code that may start runs (tools, checks, approvals) sees this run as
                    # their parent; a plain model request holds no context token meanwhile
                    token = None if _plain_model_step(st) else CURRENT_RUN.set(st)
                    try:  # no locals for the table's entry: each is memory per run in flight
                        phase, step = await STEPS[st.phase][0](st)
                    finally:
                        if token is not None:
                            CURRENT_RUN.reset(token)
                    if phase not in STEPS[st.phase][1]:
                        raise AssertionError(f"plait bug: step {st.phase!r} returned {phase!r}")
                    # finished inside the step (a guardrail blocked a tool call): end it
                    st.phase = "end" if st.status is not None and phase != "done" else phase
                    if st.recorder is not None:  # one store transaction per completed step
                        await st.recorder.after_step(st, step)
                    if on_step is not None:
                        on_step(step)
                    if not until_done:
                        break
            st.scope = None
            if scope.cancelled_caught:
                token = CURRENT_RUN.set(st)
                try:
                    phase, step = await _interrupted(st)
                finally:
                    CURRENT_RUN.reset(token)
                st.phase = phase
                if st.recorder is not None:
                    await st.recorder.after_step(st, step)
                if on_step is not None:
                    on_step(step)
            if not until_done:
                break
    except BaseException as exc:
        if st.recorder is not None and _interruption(exc):  # cancelled from outside, Ctrl-C
            await st.recorder.interrupted(st)  # shielded and bounded: what it had is kept
        raise
    return step if step is not None else Step("start", st.turns)


def _interruption(exc: BaseException) -> bool:
    """The run's task was cancelled from outside (its own scope did not catch it) or
    interrupted (Ctrl-C): not a crash, which leaves a recorded run ``running``."""
    kinds = (KeyboardInterrupt, anyio.get_cancelled_exc_class())
    if isinstance(exc, BaseExceptionGroup):
        return exc.split(kinds)[1] is None
    return isinstance(exc, kinds)


def _plain_model_step(st: RunState) -> bool:
    """A model turn with no input guardrail pending: only the model runs (runs started
    from a model are not linked as sub-runs; tools, checks and approvals are)."""
    return st.phase == "model" and (st.input_checked or "input" not in st.guardrails)


def _link_to_parent(st: RunState, parent: RunState | None) -> None:
    """A run started inside another run's step (a tool) is its sub-run."""
    if parent is None or parent is st:
        return
    st.depth = parent.depth + 1
    st.parent = parent  # budgets are shared: see _budget
    if st.parent_run_id is None:
        st.parent_run_id = st.emitter.parent_run_id = parent.run_id
    st.expires = parent.expires


def _relay(st: RunState, deliver: Sink, above: Sequence[Any], handlers: Sequence[Any]) -> list[Any]:
    """A sub-run's or member's events also reach everyone watching above it (handlers,
    streams, handles: the whole tree in one stream). Handlers that already watch above
    (the kernel's, or the same object passed again) are not given the events twice."""
    st.emitter.sinks.append(deliver)
    return [h for h in handlers if not any(h is a or h == a for a in above)]


def _running(st: RunState) -> bool:
    return st.phase != "done"  # a function: the steps change st.phase behind mypy's back


async def _interrupted(st: RunState) -> tuple[Phase, Step]:
    """The scope was cancelled: by ``cancel("now")``, or by the run's deadline."""
    if st.cancel_requested == "now":
        repair(st, "the run was cancelled")
        st.finish("cancelled", "cancelled")
        return await step_end(st)
    repair(st, "the run's time limit passed")
    if st.ended or st.phase == "end":  # it had already ended (e.g. blocked): keep that
        return await step_end(st)
    return on_limit(st, "seconds")


class Runner:
    """One run: its kernel, state, handlers and cancellation, from setup to result."""

    def __init__(self, spec: RunSpec) -> None:
        self.spec = spec
        self.state: RunState | None = None
        self.sinks: list[Sink] = []
        self.handlers: Sequence[Any] = ()
        self._kernel: Kernel | None = None
        self._owns_kernel = False
        self._early_cancel: Literal["after_turn", "now"] | None = None
        self.upstream: Upstream | None = None  # a group's (``_hub``) this run reports to

    def prepare(self) -> RunState:
        """Build the kernel (unless given) and the state (no I/O beyond plugin loading)."""
        if self.state is not None:
            return self.state
        parent = CURRENT_RUN.get()
        if parent is not None and parent.depth >= MAX_DEPTH:
            raise LimitExceeded(
                f"runs nested more than {MAX_DEPTH} deep (a tool starting runs that start runs?)"
            )
        kernel = self.kernel()
        try:
            if self.spec.agents:  # marvin's shape: start as the first agent
                from ._handoffs import from_agents

                self.spec = from_agents(self.spec)
            stack = kernel.stack()
            if stack is not None:  # what configuration gives every run (docs/guardrails.md)
                self.spec = stack.apply(self.spec)
            st = setup(self.spec, kernel)
        except BaseException:
            self._owns_kernel = False  # nothing was opened yet; drop it
            raise
        st.started = perf_counter()
        st.provenance = kernel.provenance()
        _link_to_parent(st, parent)
        if st.limits.seconds is not None or st.expires is not None:
            seconds = st.limits.seconds if st.limits.seconds is not None else math.inf
            if st.expires is not None:  # a sub-run ends with its parent at the latest
                seconds = min(seconds, st.expires - time.monotonic())
            st.expires = time.monotonic() + seconds
            st.deadline = anyio.current_time() + seconds
        st.emitter.sinks = self.sinks  # one list: sinks added later reach the run too
        handlers = kernel.event_handlers()
        given = self.spec.handlers
        self.handlers = [*handlers, *given] if given else handlers
        above: tuple[Any, ...] = ()
        if self.upstream is not None:  # a member of a team or task graph (which relays
            above = self.upstream.listeners  # to a run above it itself)
            if self.upstream.watched:
                self.handlers = _relay(st, self.upstream.deliver, above, self.handlers)
        elif parent is not None:
            above = parent.listeners
            if parent.emitter.sinks:  # a sub-run: its events go up to its parent's too
                self.handlers = _relay(st, parent.emitter.deliver, above, self.handlers)
        st.listeners = (*self.handlers, *above)
        if self._early_cancel is not None:
            st.cancel_requested = self._early_cancel
        self.state = st
        return st

    def kernel(self) -> Kernel:
        """The run's kernel: the one passed, or a fresh one this run closes."""
        if self._kernel is None:
            kernel = self.spec.kernel
            if kernel is None:
                from .._kernel import Kernel

                kernel = Kernel()
                self._owns_kernel = True
            self._kernel = kernel
        return self._kernel

    def cancel(self, mode: Literal["after_turn", "now"] = "now") -> None:
        """Ask the run to stop (call from the run's event loop thread)."""
        if self.state is None:
            self._early_cancel = mode
        else:
            self.state.cancel(mode)

    async def steps(
        self, st: RunState, *, until_done: bool, on_step: Callable[[Step], None] | None = None
    ) -> Step:
        """One step (or all), with the event handlers running beside them."""
        if not self.handlers:  # nobody to pump events to: no task group needed
            return await advance(st, until_done=until_done, on_step=on_step)
        pump = HandlerPump(self.handlers, st.emitter)
        async with anyio.create_task_group() as tg:
            pump.start(tg)
            step = await advance(st, until_done=until_done, on_step=on_step)
            await pump.aclose()
            tg.cancel_scope.cancel()
        return step

    def all_steps(
        self, st: RunState, on_step: Callable[[Step], None] | None = None
    ) -> Awaitable[Step]:
        """Every step to the end: ``advance`` itself when no handler needs the pump
        (not a coroutine: no frame of its own held while the run is in flight)."""
        if self.handlers:
            return self.steps(st, until_done=True, on_step=on_step)
        return advance(st, until_done=True, on_step=on_step)

    def outcome(self, st: RunState) -> Result[Any]:
        """The ended run's ``Result``, or its exception as the options ask."""
        assert st.result is not None
        return raise_for_outcome(st, st.result)

    async def drive(self, on_step: Callable[[Step], None] | None = None) -> Result[Any]:
        """Run every step to the end, with handlers; raise as the options ask."""
        st = await self.aprepare()
        try:
            await self.all_steps(st, on_step)
        finally:
            await self.aclose()
        return self.outcome(st)

    async def aprepare(self) -> RunState:
        """``prepare``, after loading what a recorded run needs (thread, store, resume)
        and listing the live toolsets (MCP servers) it may use.

        The store gives a new spec (the thread's history, the resumed run's recorded
        options); the state is prepared from it, then bound to the store.
        """
        if self.state is not None:
            return self.state
        if not self.spec.durable:
            if may_list(self.spec, self.kernel()):  # the plain run: a look at its options
                await self._list_live_tools()
            return self.prepare()
        from ._durable import attach  # only recorded runs pay for the store modules

        await self._list_live_tools()  # resuming matches the recorded tools' names
        try:
            attached = await attach(self.spec, self.kernel())
            try:
                self.spec = attached.spec
                await self._list_live_tools()
                st = self.prepare()
                await attached.bind(st)
            except BaseException:
                await attached.aclose()
                raise
        except BaseException:
            await self.aclose()
            raise
        return st

    async def _list_live_tools(self) -> None:
        """List the live toolsets (MCP servers) the run may use, before the sync
        ``prepare`` reads their tools; a failure closes what was opened."""
        spec, kernel = self.spec, self.kernel()
        if not may_list(spec, kernel):
            return  # the plain run: a look at its options
        try:
            await list_live_tools(spec, kernel)
        except BaseException:
            await self.aclose()
            raise

    async def aclose(self) -> None:
        """Close the kernel if this run created it (shielded, bounded)."""
        st = self.state
        if st is not None and st.recorder is not None:  # the run's store connection
            recorder, st.recorder = st.recorder, None
            await recorder.aclose()
        kernel, self._kernel = self._kernel, None
        if kernel is not None and self._owns_kernel:
            with anyio.CancelScope(shield=True), anyio.move_on_after(KERNEL_CLOSE_TIMEOUT):
                await kernel.aclose()
