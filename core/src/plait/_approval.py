"""Tool approvals: a run's ``approve=`` callable decides calls that need a human's yes.

A tool with ``requires_approval=True``, or a tool-call guardrail deciding ``ask``, makes
the run build an ``ApprovalRequest`` for that one call (tool name, call id and the exact
arguments as canonical JSON) and ask the approver. The answer is bound to the request:
an ``Approval`` for another call, or for the same call with other arguments, counts as
a denial, and the tool runs with the arguments that were approved, decoded from the
request, never with anything else. Without an approver, or when the approver raises or
answers something unexpected, the call is denied (fail closed).

``approve="pause"`` (a recorded run) does not ask anyone: the run ends ``paused`` with the
requests in ``Result.pending``, and ``plait.resume(run_id, approvals={call_id: ...})``
continues it with ``plait.approve()``, ``plait.deny(reason)`` or ``plait.edit(args)``
(``ApprovalDecision``), or with an ``Approval`` a request made (see docs/approvals.md).
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import anyio
import anyio.to_thread

from ._call import plugin_failure

__all__ = [
    "Approval",
    "ApprovalDecision",
    "ApprovalRequest",
    "Approver",
    "approve",
    "ask_approver",
    "canonical_arguments",
    "deny",
    "edit",
]


def canonical_arguments(args: Mapping[str, Any]) -> str:
    """The one JSON text of ``args`` an approval is bound to (sorted keys, no spaces)."""
    return json.dumps(args, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True, slots=True)
class Approval:
    """An approver's answer for one call: granted or not, and why.

    It binds the tool's name, the call id and the canonical arguments: an answer built by
    hand must name all three (``ApprovalRequest.approve``/``deny``/``edit`` do). ``edited``
    is the canonical JSON the call runs with instead (an approval with changed
    arguments); ``run_id``, when set, binds the answer to that run too.
    """

    approved: bool
    call_id: str
    arguments: str
    reason: str | None = None
    tool: str = field(default="", kw_only=True)
    edited: str | None = field(default=None, kw_only=True)
    run_id: str | None = field(default=None, kw_only=True)

    def binds(self, request: ApprovalRequest) -> bool:
        """Whether this answer is for exactly ``request``'s tool, call and arguments."""
        return (
            self.call_id == request.call_id
            and self.tool == request.tool
            and self.arguments == request.arguments
            and (self.run_id is None or self.run_id == request.run_id)
        )

    @property
    def decision(self) -> str:
        """``"approve"``, ``"edit"`` or ``"deny"``."""
        if not self.approved:
            return "deny"
        return "approve" if self.edited is None else "edit"

    @property
    def args(self) -> dict[str, Any]:
        """The arguments the call runs with: the edited ones, else the approved ones."""
        text = self.edited if self.edited is not None else self.arguments
        value: dict[str, Any] = json.loads(text)
        return value


@dataclass(frozen=True, slots=True)
class ApprovalDecision:
    """A decision not yet bound to a call: ``plait.approve()``, ``deny(reason)``, ``edit(args)``.

    Given as ``approvals={call_id: decision}`` to resume a paused run (the key names the
    call; the run's record gives its tool and arguments), or returned by an approver.
    """

    kind: Literal["approve", "deny", "edit"]
    reason: str | None = None
    args: Mapping[str, Any] | None = None

    def bind(self, request: ApprovalRequest) -> Approval:
        """This decision as an ``Approval`` of exactly ``request``."""
        if self.kind == "approve":
            return request.approve(self.reason)
        if self.kind == "deny":
            return request.deny(self.reason)
        return request.edit(self.args or {}, self.reason)


def approve(reason: str | None = None) -> ApprovalDecision:
    """Approve a pending call as it was asked for."""
    return ApprovalDecision("approve", reason)


def deny(reason: str | None = None) -> ApprovalDecision:
    """Deny a pending call; ``reason`` is told to the model."""
    return ApprovalDecision("deny", reason)


def edit(args: Mapping[str, Any], reason: str | None = None) -> ApprovalDecision:
    """Approve a pending call with other arguments (the tool validates them when it runs)."""
    if not isinstance(args, Mapping):
        raise TypeError(f"plait.edit takes the arguments as a dict, not {type(args).__name__}")
    try:
        canonical_arguments(args)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"plait.edit: the arguments have no JSON form ({exc})") from None
    return ApprovalDecision("edit", reason, dict(args))


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
        """An approval of exactly this call (of this run)."""
        return Approval(
            True, self.call_id, self.arguments, reason, tool=self.tool, run_id=self.run_id
        )

    def deny(self, reason: str | None = None) -> Approval:
        """A denial of this call; ``reason`` is told to the model."""
        return Approval(
            False, self.call_id, self.arguments, reason, tool=self.tool, run_id=self.run_id
        )

    def edit(self, args: Mapping[str, Any], reason: str | None = None) -> Approval:
        """An approval of this call with ``args`` instead of the arguments it asked for."""
        if not isinstance(args, Mapping):
            raise TypeError(f"edit takes the arguments as a dict, not {type(args).__name__}")
        edited = canonical_arguments(args)
        return Approval(
            True,
            self.call_id,
            self.arguments,
            reason,
            tool=self.tool,
            edited=edited,
            run_id=self.run_id,
        )

    def to_json(self) -> dict[str, Any]:
        """The request as JSON data (how a paused run records it; ``from_json`` reads it)."""
        return {f: getattr(self, f) for f in _REQUEST_FIELDS}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ApprovalRequest:
        """A request recorded by ``to_json``."""
        values: dict[str, Any] = {f: data.get(f) for f in _REQUEST_FIELDS}
        return cls(**values)


_REQUEST_FIELDS = ("run_id", "tool", "call_id", "arguments", "reason", "guardrail", "agent")


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
    if isinstance(value, ApprovalDecision):
        try:
            return value.bind(request)
        except (TypeError, ValueError):  # edited arguments with no JSON form
            return request.deny("the edited arguments cannot be used")
    return request.deny(
        f"the approver answered {type(value).__name__}, not bool, Approval or ApprovalDecision"
    )


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
