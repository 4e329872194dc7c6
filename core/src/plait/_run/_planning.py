"""Planning mode: the model writes a plan, works through it with its tools, revises it.

``plan=True`` (or a ``plait.Plan``) offers the kernel's ``update_plan`` tool (taken by the
loop itself, like ``complete``): the first turn forces it, so the model writes its plan
before it acts (a given ``Plan`` is shown to the model instead, and it starts at once).
A **step** is one turn's batch of tool calls that ran at least one of the run's own tools
(``update_plan``, ``complete`` and handoffs are not steps). Every ``planning_interval``
steps the loop asks for a review and forces ``update_plan`` for the next turn;
``max_steps`` ends the run after that many steps (``limit:steps``, through ``on_limit``).

The plan lives in the history (the ``update_plan`` calls and their results), so a
resumed run rebuilds it from its messages (``start``). Only runs given ``plan``,
``planning_interval`` or ``max_steps`` import this module's loop half; a plain run pays
one ``None`` check per step.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .._contracts import ToolSpec
from .._messages import AssistantMessage, ToolCall, ToolResultMessage, UserMessage

if TYPE_CHECKING:
    from ._options import RunSpec
    from ._result import Step
    from ._state import Phase, RunState

__all__ = ["PLAN_TOOL", "Plan", "PlanStep", "Planning", "check_options", "recorded_plan"]

PLAN_TOOL = "update_plan"
"""The planning tool's name."""

StepStatus = Literal["pending", "doing", "done", "skipped"]
STEPS_MAX = 20
TITLE_MAX = 200
NOTE_MAX = 500
"""Bounds the tool's schema declares (a constrained sampler reaches the end of the call);
validation accepts longer values from other models, as ``complete`` does."""

REVIEW = "{done} steps done. Review your plan: call `update_plan` with the revised plan."
GIVEN = (
    "Your plan:\n{plan}\nWork through it with your tools; call `update_plan` to mark "
    "progress or to change the plan."
)
_DESCRIPTION = (
    "Write or revise your plan for the task: every step in order, each with a short title "
    "and a status (pending, doing, done, skipped), and an optional note on what changed. "
    "Plan first, then work through the steps with your tools; call this again when you "
    "learn something that changes the plan, or when asked to review it."
)
_PARAMETERS: dict[str, Any] = {
    "type": "object",
    "properties": {
        "steps": {
            "type": "array",
            "minItems": 1,
            "maxItems": STEPS_MAX,
            "items": {
                "type": "object",
                "properties": {
                    "title": {"type": "string", "maxLength": TITLE_MAX},
                    "status": {"type": "string", "enum": ["pending", "doing", "done", "skipped"]},
                },
                "required": ["title", "status"],
                "additionalProperties": False,
            },
        },
        "note": {"type": "string", "maxLength": NOTE_MAX},
    },
    "required": ["steps"],
    "additionalProperties": False,
}
SPEC = ToolSpec(PLAN_TOOL, _DESCRIPTION, _PARAMETERS)


def _titles(value: Any) -> Any:
    """A bare title is a pending step (a plan given in code, a model's terse call)."""
    if isinstance(value, Sequence) and not isinstance(value, str):
        return tuple({"title": v} if isinstance(v, str) else v for v in value)
    return value


class PlanStep(BaseModel):
    """One step of a plan: what to do, and how far it got."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    title: str = Field(min_length=1)
    status: StepStatus = "pending"


class Plan(BaseModel):
    """A plan: its steps in order, its revision (0 is the first plan), the model's note.

    ``plait.Plan(steps=["Find the file", "Read it"])`` gives an initial plan (titles become
    pending steps); ``Result.plan`` is the last version, ``Result.plan_revisions`` all.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    steps: tuple[PlanStep, ...] = Field(min_length=1)
    revision: int = Field(default=0, ge=0)
    note: str | None = None

    @field_validator("steps", mode="before")
    @classmethod
    def _titles(cls, value: Any) -> Any:
        return _titles(value)

    @property
    def next_step(self) -> PlanStep | None:
        """The step in progress, else the first pending one (``None``: nothing left)."""
        doing = next((s for s in self.steps if s.status == "doing"), None)
        return doing or next((s for s in self.steps if s.status == "pending"), None)

    def render(self) -> str:
        """The plan as numbered lines, ``1. [done] Find the file``."""
        return "\n".join(f"{i}. [{s.status}] {s.title}" for i, s in enumerate(self.steps, 1))

    def data(self) -> list[dict[str, str]]:
        """The steps as plain data (events)."""
        return [{"title": s.title, "status": s.status} for s in self.steps]


class _PlanCall(BaseModel):
    """The arguments of an ``update_plan`` call."""

    model_config = ConfigDict(extra="forbid")

    steps: tuple[PlanStep, ...] = Field(min_length=1)
    note: str | None = None

    @field_validator("steps", mode="before")
    @classmethod
    def _titles(cls, value: Any) -> Any:
        return _titles(value)


@dataclass(slots=True)
class Planning:
    """One run's planning: the options, every version of the plan, the steps done."""

    tool: bool  # ``update_plan`` is offered (``plan`` given)
    interval: int | None
    max_steps: int | None
    revisions: tuple[Plan, ...] = ()
    done: int = 0  # steps executed
    forced: bool = False  # the next turn's tool_choice is ``update_plan``
    saved_choice: Any = None  # the tool_choice to restore after the forced call

    @property
    def current(self) -> Plan | None:
        return self.revisions[-1] if self.revisions else None


def _positive(name: str, value: Any, unset: str) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} takes a whole number of steps, not {value!r}")
    if value <= 0:
        raise ValueError(f"{name} must be at least 1 (got {value}); leave it out {unset}")


def check_options(spec: RunSpec) -> Plan | None:
    """Check ``plan``, ``planning_interval`` and ``max_steps``; the given plan, if any."""
    plan = spec.plan
    given: Plan | None = None
    if isinstance(plan, Mapping):  # a recorded plan (JSON)
        given = Plan.model_validate(plan)
    elif isinstance(plan, Plan):
        given = plan
    elif plan is not None and not isinstance(plan, bool):
        raise TypeError(f"plan= takes True, False or a plait.Plan, not {type(plan).__name__}")
    _positive("planning_interval", spec.planning_interval, "to revise when the model chooses")
    _positive("max_steps", spec.max_steps, "for no step limit")
    if spec.planning_interval is not None and not plan:
        raise ValueError("planning_interval= revises a plan: pass plan=True (or a plait.Plan)")
    return given


def recorded_plan(plan: Any) -> Any:
    """``plan=`` as a recorded run keeps it (JSON): ``True``/``False``, or the given plan's
    data, which ``check_options`` reads back when the run is resumed."""
    return plan.model_dump(mode="json") if isinstance(plan, Plan) else plan


def start(st: RunState) -> None:
    """Set the run's planning up (``step_start``): offer the tool; show a given plan to
    the model (a new run), or rebuild the plan from the recorded history (resumed)."""
    given = check_options(st.spec)
    tool = bool(st.spec.plan)
    p = Planning(tool, st.spec.planning_interval, st.spec.max_steps)
    st.planning = p
    if not tool:
        return
    if PLAN_TOOL in st.tools:
        raise ValueError(f"a tool may not be named {PLAN_TOOL!r} in planning mode: rename it")
    _offer(st)
    if given is not None:
        p.revisions = (given.model_copy(update={"revision": 0}),)
    if st.resuming is not None:
        _rebuild(st, p)
    elif given is not None:
        st.messages.append(UserMessage(content=GIVEN.format(plan=given.render())))
        _announce(st, p.revisions[0])


def _offer(st: RunState) -> None:
    """The tool is offered (again after a handoff rebuilt the run's tools)."""
    if not any(s.name == PLAN_TOOL for s in st.params.tools):
        st.params = replace(st.params, tools=(*st.params.tools, SPEC))


def _announce(st: RunState, plan: Plan) -> None:
    kind = "plan.created" if plan.revision == 0 else "plan.revised"
    st.emitter.emit(kind, {"revision": plan.revision, "steps": plan.data(), "note": plan.note})


def _force(st: RunState, p: Planning) -> None:
    """The next turn must call ``update_plan`` (released once it is called)."""
    from .._settings import ModelSettings

    if not p.forced:
        p.saved_choice = st.params.settings.tool_choice
    p.forced = True
    settings = st.params.settings.merge(ModelSettings(tool_choice=PLAN_TOOL))
    st.params = replace(st.params, settings=settings)


def _release(st: RunState, p: Planning) -> None:
    """``update_plan`` was called: the run's own tool_choice is back."""
    p.forced = False
    settings = st.params.settings.model_copy(update={"tool_choice": p.saved_choice})
    st.params = replace(st.params, settings=settings)


def before_turn(st: RunState) -> tuple[Phase, Step] | None:
    """Before a model turn: stop at ``max_steps``; force the first plan; keep the tool
    offered. A ``(phase, step)`` when the run stops here."""
    p: Planning = st.planning
    if p.max_steps is not None and p.done >= p.max_steps:
        from ._finish import on_limit

        return on_limit(st, "steps")  # a final answer is asked without tools (``_narrowed``)
    if p.tool:
        _offer(st)
        if not p.revisions and not p.forced:
            _force(st, p)
    return None


def take_calls(
    st: RunState, calls: list[ToolCall]
) -> tuple[list[ToolCall], list[ToolResultMessage]]:
    """Answer the turn's ``update_plan`` calls; the other calls, and the answers."""
    p: Planning = st.planning
    if not p.tool or all(c.name != PLAN_TOOL for c in calls):
        return calls, []
    results = []
    for c in calls:
        if c.name == PLAN_TOOL:
            results.append(_update(st, p, c))
    if p.forced:  # a valid plan lets go; an invalid one stays forced (the loop let go)
        (_release if any(not r.is_error for r in results) else _force)(st, p)
    return [c for c in calls if c.name != PLAN_TOOL], results


def _parse(arguments: str) -> _PlanCall | str:
    from ._completion import format_validation_error

    try:
        raw = json.loads(arguments) if arguments.strip() else {}
        return _PlanCall.model_validate(raw)
    except json.JSONDecodeError as exc:
        return f"The arguments of `{PLAN_TOOL}` are not valid JSON ({exc.msg} at {exc.pos})."
    except ValidationError as exc:
        return f"Invalid `{PLAN_TOOL}` call:\n{format_validation_error(exc)}\nCall it again."


def _update(st: RunState, p: Planning, c: ToolCall) -> ToolResultMessage:
    parsed = _parse(c.arguments)
    if isinstance(parsed, str):
        st.count_failure(PLAN_TOOL)
        return ToolResultMessage(tool_call_id=c.id, name=c.name, content=parsed, is_error=True)
    plan = _apply(p, parsed)
    _announce(st, plan)
    nxt = plan.next_step
    then = f"Next: {nxt.title}" if nxt is not None else "Every step is done or skipped: finish."
    text = f"Plan saved (revision {plan.revision}).\n{plan.render()}\n{then}"
    return ToolResultMessage(tool_call_id=c.id, name=c.name, content=text)


def _apply(p: Planning, call: _PlanCall) -> Plan:
    plan = Plan(steps=call.steps, revision=len(p.revisions), note=call.note)
    p.revisions = (*p.revisions, plan)
    return plan


def after_batch(st: RunState) -> None:
    """A step ran (its results are in the history): count it; ask for a review every
    ``planning_interval`` steps (not when ``max_steps`` ends the run next)."""
    p: Planning = st.planning
    p.done += 1
    st.emitter.emit("plan.step", {"done": p.done, "max_steps": p.max_steps})
    if not p.tool or p.interval is None or p.done % p.interval:
        return
    if p.max_steps is not None and p.done >= p.max_steps:
        return
    st.messages.append(UserMessage(content=REVIEW.format(done=p.done)))
    _force(st, p)


def _counted(m: AssistantMessage, handoffs: Mapping[str, Any]) -> bool:
    """A step: a turn that called one of the run's own tools (not ``update_plan`` or
    ``complete``) and no handoff (a turn that hands over is not counted, as in the loop)."""
    from ._completion import COMPLETE

    names = {c.name for c in m.tool_calls}
    return not any(n in handoffs for n in names) and bool(names - {PLAN_TOOL, COMPLETE})


def _rebuild(st: RunState, p: Planning) -> None:
    """A resumed run: the plan versions and steps done, from the recorded history."""
    answered = {
        m.tool_call_id: m for m in st.messages[st.new_from :] if isinstance(m, ToolResultMessage)
    }
    for m in st.messages[st.new_from :]:
        if not isinstance(m, AssistantMessage) or not m.tool_calls:
            continue
        if not all(c.id in answered for c in m.tool_calls):
            continue  # the interrupted batch: it runs again
        if _counted(m, st.handoffs or {}):
            p.done += 1
        for c in m.tool_calls:
            if c.name == PLAN_TOOL and not answered[c.id].is_error:
                parsed = _parse(c.arguments)
                if not isinstance(parsed, str):
                    _apply(p, parsed)
    last = st.messages[-1] if st.messages else None
    if isinstance(last, UserMessage) and last.content == REVIEW.format(done=p.done):
        _force(st, p)  # interrupted after asking for a review
