"""The state of one run, and building it from a task and options.

``RunState`` is a plain mutable record the step functions read and update; it holds no
behaviour beyond small helpers. ``setup`` resolves names through the kernel (models,
tools, verifiers, guardrails by name), adapts plain functions, and builds the request
parameters once for the whole run.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import anyio

from .._context import Context
from .._contracts import (
    Completion,
    Decision,
    Guardrail,
    Model,
    RequestParams,
    Tool,
    ToolSpec,
    Verdict,
    is_live_toolset,
)
from .._messages import Message, SystemMessage, Usage, UserMessage
from .._redact import TextPolicy, policy_from
from .._retry import DEFAULT_RETRY_POLICY, RetryPolicy
from .._settings import Limits, ModelSettings
from .._tool import FunctionTool, expand_tools
from ._checks import FunctionGuardrail, FunctionVerifier
from ._completion import COMPLETE, OutputPlan, output_plan
from ._emit import Emitter
from ._history import load_history, repair_history
from ._options import RunSpec, effective_limits
from ._result import Result, RunStatus

if TYPE_CHECKING:
    from .._kernel import Kernel

__all__ = ["PartialOutput", "RunState", "setup"]

RUN_STAGES = ("input", "tool_call", "tool_result", "output", "stream")
"""The guardrail stages the loop runs (every ``GuardrailStage``)."""

NO_USAGE = Usage()
DEFAULT_SETTINGS = ModelSettings()
"""Shared by runs that set nothing (frozen): one object less per run in flight."""

Phase = Literal["start", "resume", "model", "tools", "answer", "verify", "output", "end", "done"]
CompletionMode = Literal["off", "optional", "required"]


@dataclass(slots=True)
class PartialOutput:
    """What has streamed in so far: answer text and the completion call's arguments."""

    text: list[str] = field(default_factory=list)
    calls: dict[int, list[str]] = field(default_factory=dict)
    complete_index: int | None = None

    def reset(self) -> None:
        self.text.clear()
        self.calls.clear()
        self.complete_index = None


@dataclass(slots=True, eq=False)
class RunState:
    """What a running run needs and changes; its options stay in ``spec`` (frozen).

    The loop (``_loop.advance``) sets ``phase`` to what each step returns.
    """

    spec: RunSpec
    run_id: str
    parent_run_id: str | None
    task: str | None
    model: Model
    plan: OutputPlan
    completion_mode: CompletionMode
    tools: dict[str, Tool]
    params: RequestParams
    verifiers: list[Any]
    guardrails: dict[str, list[Any]]
    limits: Limits
    retry_policy: RetryPolicy
    emitter: Emitter
    messages: list[Message]
    new_from: int
    started: float = 0.0
    deadline: float | None = None
    depth: int = 0
    expires: float | None = None  # the deadline on time.monotonic(), for sub-runs
    phase: Phase = "start"
    turns: int = 0
    usage: Usage = NO_USAGE  # frozen: replaced, never changed in place
    tool_calls: int = 0
    # made on first use: a run in flight holds no empty containers
    tool_failures: dict[str, int] | None = None
    seen_calls: dict[str, tuple[int, str]] | None = None  # identical calls: (runs, last id)
    withheld: set[str] | None = None  # tools not offered on the next turn
    call_ids: set[str] | None = None  # tool-call ids taken in this run (``_ids``)
    output_retries: int = 0
    cut_offs: int = 0  # turns in a row whose calls the token limit cut off
    verifier_retries: int = 0
    decisions: tuple[Decision, ...] = ()
    verdicts: tuple[Verdict, ...] = ()
    completion: Completion | None = None
    output: Any = None
    status: RunStatus | None = None
    stop_reason: str | None = None
    error: str | None = None
    exception: BaseException | None = None
    final_answer: bool = False
    input_checked: bool = False
    cancel_requested: Literal["after_turn", "now"] | None = None
    partial: PartialOutput | None = None  # made when somebody watches the run
    outcome: RunStatus = "success"
    verified: bool | None = None
    finish_reason: str | None = None
    scope: anyio.CancelScope | None = None
    result: Result[Any] | None = None
    redact: TextPolicy | None = None  # the one redaction policy (events, tool output)
    parent: RunState | None = None  # the run whose tool started this one (budgets shared)
    sub_turns: int = 0  # turns taken by sub-runs, counted against this run's turn limit
    recorder: Any = None  # a ``_persist.Recorder`` when the run is recorded in a store
    thread_id: str | None = None  # the thread the run appends to
    resuming: Any = None  # a ``_resume.ResumeInputs`` until the ``resume`` step uses it
    provenance: dict[str, Any] | None = None  # the kernel's plugins and stack (run.start)
    listeners: tuple[Any, ...] = ()  # handlers that see this run's events (own or above)
    kernel: Any = None  # the run's kernel (a handoff resolves the target's tools by it)
    handoffs: dict[str, Any] | None = None  # transfer tool name -> Handoff (``_handoffs``)
    mesh: tuple[Any, ...] = ()  # agents=[...]: every one may hand off to every other
    active: Any = None  # ``_handoffs.Active`` once a handoff was taken
    planning: Any = None  # a ``_planning.Planning`` when plan= or max_steps= is given
    approvals: Any = None  # a ``_pause.Pause``: decisions given at resume, calls pending
    media: bool = False  # the messages hold media parts: ``_media.prepare`` before turns
    media_seen: int = 0  # messages ``_media.prepare`` has seen

    def context(self, tool_call_id: str | None = None, retry: int = 0) -> Context[Any]:
        """A fresh ``Context`` for one call of a tool, verifier or guardrail."""
        return Context(
            run_id=self.run_id,
            deps=self.spec.deps,
            agent=self.spec.name,
            usage=self.usage,
            tool_call_id=tool_call_id,
            retry=retry,
            thread_id=self.thread_id,
            parent_run_id=self.parent_run_id,
            _cancel_check=self._is_cancelled,
        )

    def failures(self, tool: str) -> int:
        """How often ``tool`` failed in this run."""
        return 0 if self.tool_failures is None else self.tool_failures.get(tool, 0)

    def count_failure(self, tool: str) -> None:
        """One more failure of ``tool``."""
        if self.tool_failures is None:
            self.tool_failures = {}
        self.tool_failures[tool] = self.tool_failures.get(tool, 0) + 1

    def _is_cancelled(self) -> bool:
        return self.cancel_requested is not None

    def record(self, decisions: Sequence[Decision]) -> None:
        """Keep guardrail decisions (stamped with the time) and emit one event each."""
        now = time.time()
        decisions = tuple(d.model_copy(update={"at": now}) for d in decisions)
        self.decisions += decisions
        emit = self.emitter.emit
        for d in decisions:
            emit(
                "guardrail",
                {
                    "stage": d.stage,
                    "guardrail": d.guardrail,
                    "action": d.action,
                    "reason": d.reason,
                    "error": d.error,
                },
            )

    def finish(
        self, status: RunStatus, stop_reason: str | None = None, error: str | None = None
    ) -> Phase:
        """Record how the run ends (``stop_reason`` kept when ``None``): the ``end`` step
        follows, whatever the step that called this returns (see ``_loop.advance``)."""
        if error is None and status == "blocked":
            error = _blocked_by(self.decisions)
        if error is not None and self.redact is not None:
            error = self.redact(error)  # it reaches Result.error and exception messages
        self.status, self.error = status, error
        if stop_reason is not None:
            self.stop_reason = stop_reason
        return "end"

    @property
    def ended(self) -> bool:
        """``finish`` was called: the next step is ``end``."""
        return self.status is not None

    def cancel(self, mode: Literal["after_turn", "now"]) -> None:
        """Ask the run to stop after the current turn, or at once (call on its loop)."""
        if self.cancel_requested != "now":
            self.cancel_requested = mode
        if mode == "now" and self.scope is not None:
            self.scope.cancel()


def _blocked_by(decisions: tuple[Decision, ...]) -> str | None:
    """Which guardrail blocked the run, at which stage, and why (for ``Result.error``)."""
    blocking = [d for d in decisions if d.action in ("block", "ask")]
    if not blocking:
        return None
    d = blocking[-1]
    return f"guardrail {d.guardrail!r} blocked the {d.stage or 'run'}: {d.reason or 'no reason'}"


def _adapt_tools(items: Sequence[Any], kernel: Kernel | None) -> list[Tool]:
    found: list[Tool] = []
    adapt = None if kernel is None else kernel.function_tool  # the kernel keeps adapted ones
    for item in expand_tools(items, adapt):
        if isinstance(item, str):
            if kernel is None:
                raise ValueError(f"tool {item!r} is named, but no kernel is available")
            named = kernel.get("tools", item)
            if is_live_toolset(named):  # a registered live toolset: listed by aprepare
                found.extend(named.tools())
            else:
                found.append(named)
        elif isinstance(item, (FunctionTool, Tool)):
            found.append(item)
        else:
            raise TypeError(f"{item!r} is not a tool, toolset, tool name or function")
    return found


def _is_object(item: Any, kind: str) -> bool:
    if kind == "guardrail":
        return isinstance(item, Guardrail)
    return callable(getattr(item, "verify", None))


def _adapt_checks(items: Sequence[Any], kind: str, kernel: Kernel | None) -> list[Any]:
    adapted: list[Any] = []
    for item in items:
        if isinstance(item, str):
            if kernel is None:
                raise ValueError(f"{kind} {item!r} is named, but no kernel is available")
            adapted.append(kernel.get(f"{kind}s", item))
        elif _is_object(item, kind):
            adapted.append(item)
        elif callable(item):
            adapted.append(
                FunctionGuardrail(item) if kind == "guardrail" else FunctionVerifier(item)
            )
        else:
            raise TypeError(f"{item!r} is not a {kind}, {kind} name or function")
    return adapted


def _messages(
    task: str | list[Any] | None, instructions: str | None, history: list[Message]
) -> tuple[list[Message], int]:
    if instructions and history and isinstance(history[0], SystemMessage):
        history = history[1:]  # the run's instructions replace the stored ones
    messages: list[Message] = [SystemMessage(content=instructions)] if instructions else []
    messages.extend(repair_history(history))
    new_from = len(messages)
    if task is not None:
        messages.append(UserMessage(content=task))
    elif not history:
        raise ValueError("a run needs a task or a message_history to continue")
    return messages, new_from


def _completion_mode(output: Any, require: bool | None) -> CompletionMode:
    if require is None:
        return "off" if output is str else "required"
    return "required" if require else "optional"


def _tool_specs(
    tools: dict[str, Tool], plan: OutputPlan, mode: CompletionMode
) -> tuple[ToolSpec, ...]:
    specs = [ToolSpec(t.name, t.description, t.parameters) for t in tools.values()]
    if mode != "off":
        specs.append(plan.spec)
    return tuple(specs)


def _model(spec: RunSpec, kernel: Kernel | None) -> Model:
    given = spec.model
    if given is not None and not isinstance(given, str):
        return given  # a Model object (checked by use, not by a slow isinstance)
    if kernel is None:
        raise ValueError("a model name needs a kernel to resolve it")
    return kernel.model(given)


def _tools(spec: RunSpec, kernel: Kernel | None, mode: CompletionMode) -> dict[str, Tool]:
    tools: dict[str, Tool] = {}
    for t in _adapt_tools(spec.tools or (), kernel):
        if t.name in tools and tools[t.name] is not t:
            raise ValueError(f"two tools are named {t.name!r}")
        tools[t.name] = t
    if mode != "off" and COMPLETE in tools:
        raise ValueError(f"a tool may not be named {COMPLETE!r}: it is the completion tool")
    return tools


def _guardrails(spec: RunSpec, kernel: Kernel | None) -> dict[str, list[Any]]:
    guardrails: dict[str, list[Any]] = {}
    for g in _adapt_checks(spec.guardrails or (), "guardrail", kernel):
        if g.stage not in RUN_STAGES:  # never silently inactive: guardrails fail closed
            raise ValueError(
                f"guardrail {getattr(g, 'name', g)!r} has stage {g.stage!r}; a run checks "
                f"{', '.join(RUN_STAGES)}"
            )
        guardrails.setdefault(g.stage, []).append(g)
    return guardrails


def _handoff_tools(spec: RunSpec, tools: dict[str, Tool]) -> dict[str, Any]:
    """The starting agent's handoffs, their transfer tools added to ``tools``."""
    from ._handoffs import HandoffTool, handoff_table

    agents = tuple(spec.agents or ())
    start = _Start(spec.handoffs or (), agents[0].name if agents else spec.name)
    table = handoff_table(agents[0] if agents else start, agents)
    if agents:  # the first agent's own handoffs, and the run's
        table.update(handoff_table(start))
    for name, h in table.items():
        if name in tools:
            raise ValueError(f"a tool and a handoff are both named {name!r}")
        tools[name] = HandoffTool(h)  # type: ignore[assignment]
    return table


class _Start:
    """The starting agent as ``handoff_table`` reads one: its handoffs, its name."""

    def __init__(self, handoffs: Sequence[Any], name: str | None) -> None:
        self.options = {"handoffs": handoffs}
        self.name = name


def setup(spec: RunSpec, kernel: Kernel | None) -> RunState:
    """Resolve a run's spec into the state of a new run (no I/O)."""
    model = _model(spec, kernel)
    mode = _completion_mode(spec.output, spec.require_completion)
    tools = _tools(spec, kernel, mode)
    handoffs = _handoff_tools(spec, tools) if spec.handoffs or spec.agents else None
    plan = output_plan(spec.output)
    guardrails = _guardrails(spec, kernel) if spec.guardrails else {}
    run_id = spec.run_id or uuid.uuid4().hex
    messages, new_from = _messages(
        spec.task, spec.instructions, load_history(spec.message_history or ())
    )
    task, media = spec.task, False
    if (task.__class__ is not str and task is not None) or spec.message_history:
        from ._media import checked_task  # only runs with parts or a history pay for it

        task, media = checked_task(spec, model, messages)
    settings = spec.settings or DEFAULT_SETTINGS
    limits = effective_limits(spec)
    if kernel is not None and (spec.redact is None or spec.redact is True):
        redact: TextPolicy | None = kernel.default_redactor()  # compiled once per kernel
    else:
        redact = policy_from(spec.redact)
    if spec.previous_response_id is not None or spec.conversation is not None:
        from ._persist import server_state_settings  # only runs that name server state

        settings = server_state_settings(spec, model, settings)
    if mode == "required" and settings.tool_choice is None:
        # The run can only end through a call, so ask for one: a model that honours
        # tool_choice then never spends a turn on prose the loop would send back.
        settings = settings.merge(ModelSettings(tool_choice="required"))
    return RunState(
        spec=spec,
        run_id=run_id,
        parent_run_id=spec.parent_run_id,
        task=task,
        model=model,
        plan=plan,
        completion_mode=mode,
        tools=tools,
        params=RequestParams(tools=_tool_specs(tools, plan, mode), settings=settings),
        verifiers=_adapt_checks(spec.verifiers or (), "verifier", kernel) if spec.verifiers else [],
        guardrails=guardrails,
        limits=limits,
        retry_policy=spec.retry_policy or DEFAULT_RETRY_POLICY,
        emitter=Emitter(run_id, spec.name, spec.parent_run_id, redact, limits.event_chars),
        messages=messages,
        new_from=new_from,
        redact=redact,
        kernel=kernel,
        handoffs=handoffs,
        mesh=tuple(spec.agents or ()),
        media=media,
    )
