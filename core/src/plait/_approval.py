"""Tool approvals: a run's ``approve=`` callable decides calls that need a human's yes.

A tool with ``requires_approval=True``, or a tool-call guardrail deciding ``ask``, makes
the run build an ``ApprovalRequest`` for that one call (tool name, call id and the exact
arguments as canonical JSON) and ask the approver. The answer is bound to the request:
an ``Approval`` for another call, or for the same call with other arguments, counts as
a denial, and the tool runs with the arguments that were approved, decoded from the
request, never with anything else. Without an approver, or when the approver raises or
answers something unexpected, the call is denied (fail closed).
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import anyio
import anyio.to_thread

from ._call import plugin_failure

__all__ = ["Approval", "ApprovalRequest", "Approver", "ask_approver", "canonical_arguments"]


def canonical_arguments(args: Mapping[str, Any]) -> str:
    """The one JSON text of ``args`` an approval is bound to (sorted keys, no spaces)."""
    return json.dumps(args, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True, slots=True)
class Approval:
    """An approver's answer for one call: granted or not, and why.

    It binds the tool's name, the call id and the canonical arguments: an answer built by
    hand must name all three (``ApprovalRequest.approve``/``deny`` do).
    """

    approved: bool
    call_id: str
    arguments: str
    reason: str | None = None
    tool: str = field(default="", kw_only=True)

    def binds(self, request: ApprovalRequest) -> bool:
        """Whether this answer is for exactly ``request``'s tool, call and arguments."""
        return (
            self.call_id == request.call_id
            and self.tool == request.tool
            and self.arguments == request.arguments
        )


@dataclass(frozen=True, slots=True)
class ApprovalRequest:
    """One tool call waiting for approval. ``arguments`` is canonical JSON.

    ``reason`` says why approval is needed (the tool requires it, or a guardrail's
    reason for ``ask``); ``guardrail`` names the guardrail that asked, if one did.
    """

    run_id: str
    tool: str
    call_id: str
    arguments: str
    reason: str | None = None
    guardrail: str | None = None
    agent: str | None = None

    @property
    def args(self) -> dict[str, Any]:
        """The arguments as a dict (a fresh copy: changing it changes nothing)."""
        value: dict[str, Any] = json.loads(self.arguments)
        return value

    def approve(self, reason: str | None = None) -> Approval:
        """An approval of exactly this call."""
        return Approval(True, self.call_id, self.arguments, reason, tool=self.tool)

    def deny(self, reason: str | None = None) -> Approval:
        """A denial of this call; ``reason`` is told to the model."""
        return Approval(False, self.call_id, self.arguments, reason, tool=self.tool)


Approver = Callable[[ApprovalRequest], Any]
"""``(request) -> bool | Approval`` (sync or async). Sync approvers run in a worker
thread, so one may block (e.g. wait for ``input()``)."""


def _answer(request: ApprovalRequest, value: Any) -> Approval:
    if value is True:
        return request.approve()
    if value is False or value is None:
        return request.deny()
    if isinstance(value, Approval):
        if value.binds(request):
            return value
        return request.deny("the approval given was for a different tool, call or arguments")
    return request.deny(f"the approver answered {type(value).__name__}, not bool or Approval")


async def ask_approver(approver: Approver | None, request: ApprovalRequest) -> Approval:
    """The approver's answer for ``request``, bound to it; every failure is a denial.

    Cancellation propagates (the run is stopping); any other exception denies.
    """
    if approver is None:
        return request.deny("no approver was given")
    try:
        if inspect.iscoroutinefunction(approver) or inspect.iscoroutinefunction(
            getattr(approver, "__call__", None)  # noqa: B004 - objects with an async __call__
        ):
            value = await approver(request)
        else:
            value = await anyio.to_thread.run_sync(approver, request, abandon_on_cancel=True)
            if inspect.isawaitable(value):
                value = await value
    except BaseException as exc:  # fail closed; the text may hold secrets: the type only
        if not plugin_failure(exc, anyio.get_cancelled_exc_class()):
            raise  # the run's cancellation, or the user's Ctrl-C
        return request.deny(f"the approver failed ({type(exc).__name__})")
    return _answer(request, value)
