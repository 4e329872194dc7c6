"""Approvals that pause: a recorded run ends ``paused`` and a later resume decides.

With ``approve="pause"`` a call that needs approval is not run and nobody is asked: the
other calls of the turn run (up to the first sequential barrier after a paused call),
then the run ends with status ``paused`` and stop reason ``approval``. Its ``completion``
step records the pending ``ApprovalRequest``\\ s (tool, call id, canonical arguments),
so the pause is durable the moment the run returns.

``plait.resume(run_id, approvals={call_id: decision})`` binds each decision to the
recorded request of that call *before* anything runs or is written: a call that is not
pending, an ``Approval`` made for another run, tool, call or arguments, a run that is
not paused — ``ApprovalError``, nothing recorded. The bound decisions are recorded in
one ``check`` step (``stage: "approval"``) as the resumed run starts; the batch then
runs again (recorded results replayed), each decided call as decided, and a call left
undecided pauses the run again. A decision is used once: once the run went on it is no
longer paused, and a call whose result is recorded is never run again. See
``docs/approvals.md``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .._approval import Approval, ApprovalDecision, ApprovalRequest
from .._errors import ApprovalError

if TYPE_CHECKING:
    from .._kernel import Kernel
    from .._messages import ToolCall
    from .._store._records import StoredRun
    from ._options import RunSpec
    from ._persist import Recorder
    from ._state import RunState

__all__ = [
    "PAUSE",
    "PAUSED",
    "Pause",
    "apending_approvals",
    "bind_approvals",
    "check_options",
    "hold",
    "is_paused",
    "pause",
    "pending_approvals",
    "pending_requests",
    "start_resumed",
]

PAUSE = "pause"
"""``approve="pause"``: a call that needs approval pauses the (recorded) run."""
PAUSED = "approval"
"""The stop reason of a paused run."""


@dataclass(slots=True)
class Pause:
    """A run's approvals without a live approver: decisions given at resume (or recorded
    by an earlier resume), and the calls this run leaves pending when it pauses."""

    decisions: dict[str, Approval] = field(default_factory=dict)
    pending: list[ApprovalRequest] = field(default_factory=list)


def check_options(spec: RunSpec) -> None:
    """``approve="pause"`` needs a store; ``approvals=`` needs ``resume=`` (clear errors)."""
    approve = spec.approve
    if isinstance(approve, str):
        if approve != PAUSE:
            raise ValueError(f"approve= takes an approver (a callable) or 'pause', not {approve!r}")
        if not spec.durable:
            raise ValueError(
                "approve='pause' needs a recorded run, so that it can be resumed: pass "
                "store= (a store URL, or True for the configured store) or thread="
            )
    approvals = spec.approvals
    if approvals is not None:
        if not spec.resume:
            raise ValueError(
                "approvals= decides the pending calls of a paused run: pass it to "
                "plait.resume(run_id, approvals={...}) (or with resume=run_id)"
            )
        if not isinstance(approvals, Mapping):
            raise TypeError(
                "approvals= takes {call_id: plait.approve() | plait.deny(reason) | "
                f"plait.edit(args)}}, not {type(approvals).__name__}"
            )


def hold(st: RunState, request: ApprovalRequest) -> None:
    """``request``'s call waits for a decision: no result now (``approve="pause"``)."""
    if st.approvals is None:
        st.approvals = Pause()
    st.approvals.pending.append(request)


def pause(st: RunState, calls: Sequence[ToolCall]) -> None:
    """End the run ``paused`` after a batch that left calls waiting (in call order)."""
    order = {c.id: n for n, c in enumerate(calls)}  # whichever call asked first
    st.approvals.pending.sort(key=lambda r: order.get(r.call_id, 0))
    st.finish("paused", PAUSED)


def is_paused(record: StoredRun) -> bool:
    """The run paused for approval (its last step the ``paused`` completion)."""
    last = record.steps[-1] if record.steps else None
    return (
        record.run.status in ("paused", "running")  # running: reopened, then killed
        and last is not None
        and last.kind == "completion"
        and last.payload.get("status") == "paused"
    )


def pending_requests(record: StoredRun) -> list[ApprovalRequest]:
    """The calls a paused run waits on, as its last ``completion`` step recorded them."""
    done = next((s for s in reversed(record.steps) if s.kind == "completion"), None)
    if done is None or done.payload.get("status") != "paused":
        return []
    return [ApprovalRequest.from_json(p) for p in done.payload.get("pending") or ()]


async def apending_approvals(
    run_id: str, *, store: str | bool | None = None, kernel: Kernel | None = None
) -> list[ApprovalRequest]:
    """The calls the paused run ``run_id`` waits on, read from its store (any process).

    Empty when the run is not paused; ``StoreError`` when no such run is recorded.
    ``store`` is the run's store URL (``None``/``True``: the configured one).
    """
    from .._kernel import Kernel
    from .._store._errors import StoreError
    from .._thread import open_connection, store_url

    own = kernel is None
    k = Kernel() if kernel is None else kernel
    try:
        url = store_url(store if isinstance(store, str) else None, None, k)
        async with open_connection(url, k) as conn:
            record = await conn.load_run(run_id)
            where = conn.url
    finally:
        if own:
            await k.aclose()
    if record is None:
        raise StoreError(f"{where}: no run {run_id!r} is recorded (see `plait runs list`)")
    return pending_requests(record) if is_paused(record) else []


def pending_approvals(
    run_id: str, *, store: str | bool | None = None, kernel: Kernel | None = None
) -> list[ApprovalRequest]:
    """``apending_approvals`` for synchronous code (works inside a running event loop too)."""
    import functools

    from ._api import run_blocking

    return run_blocking(functools.partial(apending_approvals, run_id, store=store, kernel=kernel))


def _bind(request: ApprovalRequest, decision: Any) -> Approval:
    """``decision`` as an ``Approval`` of exactly ``request`` (refused if made for another)."""
    if isinstance(decision, ApprovalDecision):
        return decision.bind(request)
    if decision is True:
        return request.approve()
    if decision is False:
        return request.deny()
    if isinstance(decision, Approval):
        if decision.binds(request):
            return decision
        raise ApprovalError(
            f"the Approval given for call {request.call_id!r} of run {request.run_id!r} was "
            f"made for another call (tool {decision.tool!r}, call {decision.call_id!r}"
            f"{', run ' + repr(decision.run_id) if decision.run_id else ''}, or other "
            "arguments): an approval applies only to the call it was made for. Use "
            "result.pending's requests (request.approve()) or plait.approve()",
            run_id=request.run_id,
        )
    raise TypeError(
        f"approvals[{request.call_id!r}] must be plait.approve(), plait.deny(reason), "
        f"plait.edit(args), an Approval or a bool, not {type(decision).__name__}"
    )


def bind_approvals(
    run_id: str, record: StoredRun, approvals: Mapping[str, Any] | None, live: bool
) -> list[Approval]:
    """The decisions bound to the recorded pending calls; ``ApprovalError`` if they cannot be.

    ``live``: the caller gave an approver (a callable), which may decide instead.
    """
    paused = is_paused(record)
    if approvals and not paused:
        raise ApprovalError(
            f"run {run_id!r} is not paused (status {record.run.status!r}): approvals= only "
            "continue a run paused for approval, and each decision is used once",
            run_id=run_id,
        )
    pending = {r.call_id: r for r in pending_requests(record)} if paused else {}
    if paused and not approvals and not live:
        raise ApprovalError(
            f"run {run_id!r} is paused until its calls are approved: pass approvals="
            f"{{call_id: plait.approve() | plait.deny(reason) | plait.edit(args)}} for "
            f"{', '.join(pending) or 'its calls'} (see `plait runs show {run_id}`)",
            run_id=run_id,
        )
    bound: list[Approval] = []
    for call_id, decision in (approvals or {}).items():
        request = pending.get(call_id)
        if request is None:
            raise ApprovalError(
                f"run {run_id!r} has no call {call_id!r} waiting for approval (pending: "
                f"{', '.join(pending) or 'none'})",
                run_id=run_id,
            )
        bound.append(_bind(request, decision))
    return bound


def _recorded(record: StoredRun) -> dict[str, Approval]:
    """Decisions an earlier resume recorded (its process may have died before using them)."""
    found: dict[str, Approval] = {}
    for s in record.steps:
        if s.kind == "check" and s.payload.get("stage") == "approval":
            for d in s.payload.get("approvals") or ():
                found[str(d["call_id"])] = Approval(
                    d["decision"] != "deny",
                    str(d["call_id"]),
                    str(d["arguments"]),
                    d.get("reason"),
                    tool=str(d["tool"]),
                    edited=d.get("edited"),
                )
    return found


def _payload(approvals: list[Approval]) -> dict[str, Any]:
    rows = [
        {
            "call_id": a.call_id,
            "tool": a.tool,
            "arguments": a.arguments,
            "decision": a.decision,
            "reason": a.reason,
            "edited": a.edited,
        }
        for a in approvals
    ]
    return {"stage": "approval", "approvals": rows}


async def start_resumed(
    st: RunState, record: StoredRun, given: list[Approval], recorder: Recorder
) -> None:
    """A resumed run: record the decisions given now (one step), then hold every decision
    recorded for this run, for its calls to use (``_tools_exec._Batch.approve``)."""
    if given:
        await recorder.append("check", _payload(given))
    decisions = _recorded(record)
    decisions.update((a.call_id, a) for a in given)
    if decisions:
        st.approvals = Pause(decisions)
