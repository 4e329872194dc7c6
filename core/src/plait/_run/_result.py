"""What a run returns (``Result``) and what ``plait.iter`` yields (``Step``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

from .._contracts import Completion, Decision, Verdict
from .._messages import Message, ModelResponse, ToolResultMessage, Usage

if TYPE_CHECKING:
    from .._approval import ApprovalRequest
    from ._planning import Plan

__all__ = ["STATUSES", "STOP_REASONS", "Result", "RunStatus", "Step", "StepKind"]

OutputT = TypeVar("OutputT")

RunStatus = Literal["success", "failed", "skipped", "incomplete", "cancelled", "blocked", "paused"]
STATUSES: tuple[RunStatus, ...] = (
    "success",
    "failed",
    "skipped",
    "incomplete",
    "cancelled",
    "blocked",
    "paused",
)

STOP_REASONS: dict[str, str] = {
    "answer": "the model answered in text without calling a tool",
    "completion": "the model called the completion tool",
    "refusal": "the model refused",
    "guardrail": "a guardrail blocked",
    "verifier": "verifiers kept failing beyond their retry budget",
    "output_retries": "the output stayed invalid beyond Limits.output_retries",
    "tool_retries": "a tool kept failing beyond its retry budget",
    "model_error": "the model request failed (after the retry layer)",
    "length": "the token limit cut off the model's tool calls twice in a row",
    "cancelled": "the run was cancelled",
    "limit:<name>": "a limit was reached (turns, tool_calls, *_tokens, seconds, steps)",
    "unknown_outcome": "resume: a non-idempotent call was interrupted (on_unknown_outcome='fail')",
    "store": "the run ended in the store without a completion step (e.g. ThreadConflict)",
    "approval": "calls wait for approval (approve='pause'): resume with approvals=",
}
"""Every ``Result.stop_reason`` and what it means."""


@dataclass(frozen=True, slots=True)
class Result(Generic[OutputT]):
    """The outcome of a run, the same for every entry point.

    ``output`` is the validated output (``None`` unless the run produced one);
    ``verified`` is ``None`` when no verifier ran; ``guardrails`` keeps every decision;
    ``new_messages`` are the messages this run added to ``message_history``;
    ``agent`` is the agent the run started as, ``last_agent`` the one answering at the
    end (another after a handoff); ``plan`` is the last version of the plan (planning
    mode, ``plan=``) and ``plan_revisions`` every version, the first is revision 0.
    ``pending`` holds the calls a ``paused`` run waits on (``approve="pause"``; resume it
    with ``approvals={call_id: plait.approve() | plait.deny(reason) | plait.edit(args)}``).
    """

    output: OutputT
    status: RunStatus
    stop_reason: str
    run_id: str
    usage: Usage = field(default_factory=Usage)
    completion: Completion | None = None
    verified: bool | None = None
    verdicts: tuple[Verdict, ...] = ()
    guardrails: tuple[Decision, ...] = ()
    messages: Sequence[Message] = ()
    new_messages: Sequence[Message] = ()
    duration: float = 0.0
    turns: int = 0
    agent: str | None = None
    last_agent: str | None = None
    thread_id: str | None = None
    parent_run_id: str | None = None
    error: str | None = None
    plan: Plan | None = None
    plan_revisions: tuple[Plan, ...] = ()
    pending: tuple[ApprovalRequest, ...] = ()

    @property
    def ok(self) -> bool:
        """True when the run succeeded."""
        return self.status == "success"


StepKind = Literal[
    "start", "resume", "model", "tools", "answer", "verify", "output", "limit", "end"
]


@dataclass(frozen=True, slots=True)
class Step:
    """One step of the run loop, as ``plait.iter`` yields it.

    ``kind`` names the step that ran; the other fields hold what it produced.
    ``result`` is set on the last step (``kind == "end"``).
    """

    kind: StepKind
    turn: int
    response: ModelResponse | None = None
    tool_results: tuple[ToolResultMessage, ...] = ()
    decisions: tuple[Decision, ...] = ()
    verdicts: tuple[Verdict, ...] = ()
    result: Result[Any] | None = None
