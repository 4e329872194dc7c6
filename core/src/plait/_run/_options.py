"""The options every entry point accepts, resolved once into a ``RunSpec``.

``RunOptions`` types the keyword options of the entry points; ``run_spec`` checks them
and freezes them, with the task and output type, into one ``RunSpec`` before anything
runs. Nothing changes a spec: a thread's history and a resumed run's recorded options
make a new one (``RunSpec._replace``). An agent's defaults merge with a run's options
first (``merge_options``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, TypedDict

from .._settings import Limits, ModelSettings

if TYPE_CHECKING:
    from .._contracts import Model
    from .._kernel import Kernel
    from .._retry import RetryPolicy

__all__ = [
    "OPTION_NAMES",
    "OnLimit",
    "OnSchemaChange",
    "RunOptions",
    "RunSpec",
    "merge_options",
    "run_spec",
]

OnLimit = Literal["raise", "partial", "final_answer"]
OnSchemaChange = Literal["refuse", "accept"]
"""``resume=``: a recorded tool's parameters or the output type changed since the run was
recorded — refuse (``SchemaChanged``, the default) or resume anyway."""


class RunOptions(TypedDict, total=False):
    """Keyword options of ``plait.run`` / ``arun`` / ``stream`` / ``iter`` / ``start``.

    ``output`` (default ``str``) is passed separately for typing. ``max_turns`` is a
    shorthand for ``limits=Limits(turns=...)``.
    """

    tools: Sequence[Any]
    model: Model | str | None
    instructions: str | None
    deps: Any
    message_history: Sequence[Any]
    settings: ModelSettings | None
    limits: Limits | None
    max_turns: int | None
    guardrails: Sequence[Any]
    verifiers: Sequence[Any]
    handlers: Sequence[Any]
    require_completion: bool | None
    raise_on_failure: bool
    on_limit: OnLimit
    kernel: Kernel | None
    name: str | None
    run_id: str | None
    parent_run_id: str | None
    retry_policy: RetryPolicy | None
    redact: Any  # a plait.Redactor, a str -> str callable, or False (off)
    approve: Any  # (ApprovalRequest) -> bool | Approval, sync or async; or "pause"
    approvals: Any  # resume: {call_id: plait.approve() | deny(reason) | edit(args)}
    thread: Any  # a thread name (str) or a plait.Thread: history kept in a store
    store: str | bool | None  # a store URL (True: the configured default) to record the run
    resume: str | None  # the id of a recorded run to continue
    on_unknown_outcome: Literal["tell_model", "fail"]  # resume: started, unrecorded calls
    on_schema_change: OnSchemaChange  # resume: a tool's or the output's schema changed
    handoffs: Sequence[Any]  # agents (or plait.handoff(...)) the model may pass the run to
    agents: Sequence[Any]  # marvin's shape: start as the first, any may hand off to any
    plan: Any  # True, or a plait.Plan to start from: the model plans (docs/orchestration.md)
    planning_interval: int | None  # ask for a plan review every N steps
    max_steps: int | None  # end the run after N steps (limit:steps)
    previous_response_id: str | None  # continue from the provider's copy (server state)
    conversation: str | None  # a conversation the provider keeps (server state)
    attachments: Sequence[Any]  # parts appended after the task's text (docs/inputs.md)
    fetch_urls: bool  # plait may download a URL part a model needs as bytes


OPTION_NAMES = frozenset(RunOptions.__annotations__) | {"output"}


class RunSpec(NamedTuple):
    """One run's task, output type and options, checked and frozen before it starts.

    A tuple, not a dataclass: building one is a single allocation (the plain run's cost
    is measured in docs/performance.md). Fields are the ``RunOptions`` with their
    defaults; ``None`` means "not given" (so a resumed run can tell what was passed).
    """

    task: str | list[Any] | None  # a str, or a list of parts (``plait._parts.task_content``)
    output: Any = str
    tools: Sequence[Any] | None = None
    model: Model | str | None = None
    instructions: str | None = None
    deps: Any = None
    message_history: Sequence[Any] | None = None
    settings: ModelSettings | None = None
    limits: Limits | None = None
    max_turns: int | None = None
    guardrails: Sequence[Any] | None = None
    verifiers: Sequence[Any] | None = None
    handlers: Sequence[Any] | None = None
    require_completion: bool | None = None
    raise_on_failure: bool | None = None  # None: not given (True)
    on_limit: OnLimit | None = None  # None: not given ("raise")
    kernel: Kernel | None = None
    name: str | None = None
    run_id: str | None = None
    parent_run_id: str | None = None
    retry_policy: RetryPolicy | None = None
    redact: Any = None
    approve: Any = None
    approvals: Any = None
    thread: Any = None
    store: str | bool | None = None
    resume: str | None = None
    on_unknown_outcome: Literal["tell_model", "fail"] | None = None  # None: "tell_model"
    on_schema_change: OnSchemaChange | None = None  # None: "refuse"
    handoffs: Sequence[Any] | None = None
    agents: Sequence[Any] | None = None
    plan: Any = None  # None: not given (no planning); True/False, a Plan (or its JSON)
    planning_interval: int | None = None
    max_steps: int | None = None
    previous_response_id: str | None = None
    conversation: str | None = None
    attachments: Sequence[Any] | None = None  # folded into ``task`` by ``run_spec``
    fetch_urls: bool | None = None  # None: not given (False)

    @property
    def durable(self) -> bool:
        """The run reads or writes a store (a thread, ``store=``, or ``resume=``)."""
        return bool(self.thread or self.store or self.resume)


def run_spec(task: Any, output: Any, options: dict[str, Any]) -> RunSpec:
    """Check ``options`` and freeze them with the task and output type.

    A task that is not a ``str`` (a list of parts), or ``attachments=``, becomes a list of
    parts here, once; a ``str`` task is kept as it is (one type check).
    """
    if not OPTION_NAMES.issuperset(options):
        unknown = sorted(set(options) - OPTION_NAMES)
        raise TypeError(f"unknown run option(s): {', '.join(unknown)}")
    spec = RunSpec(task, output, **options)
    if (task is not None and task.__class__ is not str) or spec.attachments is not None:
        from .._parts import task_content  # only runs with parts pay for it

        spec = spec._replace(task=task_content(task, spec.attachments), attachments=None)
    if spec.plan is not None or spec.planning_interval is not None or spec.max_steps is not None:
        from ._planning import check_options  # only planning runs import it

        check_options(spec)
    if spec.approvals is not None or isinstance(spec.approve, str):
        from ._pause import check_options as check_pause  # only pausing runs import it

        check_pause(spec)
    return spec


def merge_options(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """``override`` wins option by option; ``settings`` merge field by field (base < run)."""
    unknown = set(override) - OPTION_NAMES
    if unknown:
        raise TypeError(f"unknown run option(s): {', '.join(sorted(unknown))}")
    if not base:
        return override  # nothing to merge: no copy
    merged = {**base, **override}
    a, b = base.get("settings"), override.get("settings")
    if a is not None and b is not None:
        merged["settings"] = a.merge(b)
    return merged


DEFAULT_LIMITS = Limits()
"""Shared by runs that set no limits (frozen): one object less per run in flight."""


def effective_limits(spec: RunSpec) -> Limits:
    """``limits`` with the ``max_turns`` shorthand applied."""
    limits = spec.limits or DEFAULT_LIMITS
    max_turns = spec.max_turns
    if max_turns is not None:
        limits = Limits.model_validate({**limits.model_dump(), "turns": max_turns})
    return limits
