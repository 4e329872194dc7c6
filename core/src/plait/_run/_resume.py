"""Resuming a recorded run: its options, its history, and where the loop picks up.

The history is rebuilt from the recorded steps (each carries the messages it added), so
finished model turns are not requested again and recorded tool results are reused as
they are. A tool call that was started but has no recorded result follows the policy
``on_unknown_outcome`` (see ``docs/threads.md``): an idempotent tool runs again; a
non-idempotent one is never repeated — the model is told the outcome is unknown
(``"tell_model"``, the default) or the run fails (``"fail"``).

A run is resumed when it is still ``running`` (killed), was ``cancelled`` by an
interruption (its last step a ``completion`` with stop reason ``interrupted``) or is
``paused`` for approval (``_pause``: ``approvals=`` decide its calls); any other ended run
is rebuilt as it finished.

Three parts, in order: ``resume_inputs`` reads the record and makes the resumed run's
``RunSpec``; ``load`` puts the recorded history and counters into the prepared state;
the loop's ``resume`` step (after ``start``, so ``run.start`` reaches every handler)
decides where the run picks up and returns that phase.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .._errors import RunError
from .._messages import AssistantMessage, Message, ToolCall, ToolResultMessage, Usage
from .._settings import Limits, ModelSettings
from .._store._errors import StoreError, ThreadConflict
from .._store._records import StoredRun
from ._completion import COMPLETE, parse_completion
from ._finish import next_turn, repair
from ._history import load_history
from ._options import RunSpec
from ._pause import bind_approvals, is_paused, start_resumed
from ._persist import INTERRUPTED, pass_response_id, recorded_task
from ._result import Step

if TYPE_CHECKING:
    from .._approval import Approval
    from .._kernel import Kernel
    from .._store._contract import StoreConnection
    from ._persist import Recorder
    from ._state import Phase, RunState

__all__ = [
    "UNKNOWN_OUTCOME",
    "ResumeInputs",
    "interrupted",
    "load",
    "resume_inputs",
    "step_resume",
]

UNKNOWN_OUTCOME = (
    "The outcome of this call is unknown: the run was interrupted while the tool was "
    "running, and the tool was not called again because it is not idempotent. Check "
    "whether it took effect before calling it again."
)
_FORBIDDEN = ("thread", "message_history", "run_id")
_RESTORED = (
    "instructions",
    "name",
    "on_limit",
    "require_completion",
    "raise_on_failure",
    "on_unknown_outcome",
    "plan",
    "planning_interval",
    "max_steps",
    "approve",
)


@dataclass(slots=True)
class ResumeInputs:
    """What a recorded run gives the resumed one."""

    record: StoredRun
    spec: RunSpec  # the resumed run's: recorded options, less what the caller passed
    head: int | None
    run_messages: list[Message]
    finished: bool
    reopen: bool = False  # an interrupted run: its status goes back to ``running``
    schemas: str = "not checked"  # how the schema check went (``_schemas.check``)
    schema_changes: list[str] | None = None  # what changed, when the caller accepted it
    approvals: list[Approval] | None = None  # approvals= bound to the pending calls


class RecordedModel:
    """Stands in for the model of a finished run, which is never asked again."""

    def __init__(self, name: str | None) -> None:
        self.name = name or "recorded"

    async def request(self, messages: Any, params: Any) -> Any:
        raise RunError("a finished run is not run again")

    def stream(self, messages: Any, params: Any) -> Any:
        raise RunError("a finished run is not run again")

    async def aclose(self) -> None:
        return None


def _tool_names(items: Sequence[Any]) -> set[str]:
    names: set[str] = set()
    for item in items:
        if isinstance(item, str):
            names.add(item)
        elif callable(getattr(item, "tools", None)):
            names.update(str(getattr(t, "name", "")) for t in item.tools())
        else:
            names.add(str(getattr(item, "name", None) or getattr(item, "__name__", "")))
    return names


def _tools(run_id: str, given: RunSpec, recorded: list[str], kernel: Kernel) -> list[Any]:
    tools = list(given.tools or ())
    missing = [n for n in recorded if n not in _tool_names(tools)]
    known = kernel.tools()
    tools.extend(n for n in missing if n in known)  # plugin tools are found by name
    missing = [n for n in missing if n not in known]
    if missing:
        raise ValueError(
            f"resuming run {run_id!r} needs its tools again (functions are not stored): "
            f"missing {', '.join(missing)}; pass tools=[...]"
        )
    return tools


def _model(run_id: str, given: RunSpec, rec: dict[str, Any], finished: bool) -> Any:
    if given.model is not None:
        return given.model  # a different model is allowed: it was asked for explicitly
    if rec.get("model_object"):
        if finished:
            return RecordedModel(rec.get("model_name"))
        raise ValueError(
            f"run {run_id!r} used a model object ({rec.get('model_name')}), which is not "
            "stored; pass model= to resume it"
        )
    return rec.get("model")


def _known(model: type[Limits] | type[ModelSettings], data: dict[str, Any]) -> dict[str, Any]:
    """The recorded fields this plait still has (a run recorded by an older one resumes)."""
    return {k: v for k, v in data.items() if k in model.model_fields}


def _spec(
    given: RunSpec, record: StoredRun, base: list[Message], kernel: Kernel, finished: bool
) -> RunSpec:
    """The resumed run's spec: what the caller passed wins over what was recorded."""
    rec, run = record.run.options, record.run
    changes: dict[str, Any] = {
        name: rec[name]
        for name in _RESTORED
        if getattr(given, name) is None and rec.get(name) is not None
    }
    if given.limits is None and given.max_turns is None and rec.get("limits"):
        changes["limits"] = Limits.model_validate(_known(Limits, rec["limits"]))
    if given.settings is None and rec.get("settings"):
        changes["settings"] = ModelSettings.model_validate(_known(ModelSettings, rec["settings"]))
    for kind in ("guardrails", "verifiers"):
        if getattr(given, kind) is None and rec.get(kind):
            changes[kind] = list(rec[kind])
    if not finished:
        changes["tools"] = _tools(run.id, given, list(rec.get("tools") or ()), kernel)
    task = recorded_task(rec)
    return given._replace(
        **changes,
        task=task,
        model=_model(run.id, given, rec, finished),
        message_history=base,
        run_id=run.id,
        parent_run_id=given.parent_run_id or run.parent_run_id,
    )


async def _base_history(
    conn: StoreConnection, record: StoredRun, added: int, finished: bool
) -> tuple[list[Message], int | None]:
    """The history the run started from, and the thread head to append at."""
    thread_id = record.run.thread_id
    rec = record.run.options
    if thread_id is None:
        return load_history(rec.get("history") or ()), None
    history = await conn.load_messages(thread_id)
    start = int(rec.get("thread_head") or 0)
    expected = start + added
    if not finished and history.head != expected:  # another run appended meanwhile
        raise ThreadConflict(thread_id, expected, history.head)
    return list(history.messages[:start]), history.head


def interrupted(record: StoredRun) -> bool:
    """The run was interrupted (Ctrl-C, its task cancelled) and recorded what it had."""
    last = record.steps[-1] if record.steps else None
    return (
        record.run.status in ("cancelled", "running")
        and last is not None
        and last.kind == "completion"
        and last.payload.get("stop_reason") == INTERRUPTED
    )


async def resume_inputs(given: RunSpec, conn: StoreConnection, kernel: Kernel) -> ResumeInputs:
    """Load the run named by ``resume=``, check what the caller passed, make its spec."""
    run_id = str(given.resume)
    if given.task is not None:
        raise ValueError("resume= continues a recorded run: pass no task")
    if given.on_schema_change not in (None, "refuse", "accept"):
        raise ValueError(
            f"on_schema_change must be 'refuse' or 'accept', not {given.on_schema_change!r}"
        )
    clash = [n for n in _FORBIDDEN if getattr(given, n)]
    if clash:
        raise ValueError(
            f"resume= cannot be combined with {', '.join(clash)}: the run's own are recorded"
        )
    record = await conn.load_run(run_id)
    if record is None:
        raise StoreError(f"{conn.url}: no run {run_id!r} is recorded (see `plait runs list`)")
    if record.run.status == "running":
        # A killed owner's last step may still be committing on a database server (its
        # COMMIT was sent): a write on the run waits for that transaction's row lock to be
        # released, then the run is read again, complete. (Found by the crash test.)
        await conn.update_run(run_id, status="running")
        record = await conn.load_run(run_id) or record
    steps = record.steps
    again = interrupted(record) or is_paused(record)
    approvals = bind_approvals(run_id, record, given.approvals, callable(given.approve))
    finished = not again and (
        record.run.status != "running" or bool(steps and steps[-1].kind == "completion")
    )
    rec = record.run.options
    if not finished and rec.get("output", "str") != "str" and given.output is str:
        raise ValueError(f"run {run_id!r} returns {rec['output']}: pass output= to resume it")
    run_messages = load_history([m for s in steps for m in s.payload.get("messages", ())])
    base, head = await _base_history(conn, record, len(run_messages), finished)
    spec = _spec(given, record, base, kernel, finished)
    # it runs again from here, once its tools are checked (``Attached.bind``)
    reopen = again and record.run.status != "running"
    return ResumeInputs(record, spec, head, run_messages, finished, reopen, approvals=approvals)


def _counters(st: RunState, record: StoredRun) -> None:
    usage, turns, calls = Usage(), 0, 0
    for s in record.steps:
        if s.kind == "model_response":
            turns += 1
            usage = usage + Usage.model_validate((s.payload.get("response") or {}).get("usage", {}))
        elif s.kind == "tool_result" and s.payload.get("called"):
            calls += 1
            if s.payload.get("is_error"):
                name = str(s.payload.get("tool"))
                st.count_failure(name)
    st.turns, st.usage, st.tool_calls = turns, usage, calls


def _finished(st: RunState, record: StoredRun) -> None:
    """A run that ended: the loop only builds its recorded result (nothing runs again)."""
    done = next((s for s in reversed(record.steps) if s.kind == "completion"), None)
    if done is None:  # ended without a completion step (e.g. it lost its thread)
        status = record.run.status if record.run.status != "running" else "failed"
        st.finish(status, "cancelled" if status == "cancelled" else "store", record.run.error)
        return
    p = done.payload
    output = p.get("output")
    if output is not None and not st.plan.is_text:
        with contextlib.suppress(ValueError):  # if it no longer validates: the recorded JSON
            output = st.plan.validate(output)
    st.output = output
    st.usage = Usage.model_validate(p.get("usage") or {})
    st.turns = int(p.get("turns") or st.turns)
    st.finish(p["status"], p.get("stop_reason"), p.get("error"))


def _last_assistant(st: RunState) -> int | None:
    for idx in range(len(st.messages) - 1, st.new_from - 1, -1):
        if isinstance(st.messages[idx], AssistantMessage):
            return idx
    return None


def _complete_call(st: RunState, msg: AssistantMessage, trailing: list[Message]) -> Phase:
    """A recorded ``complete`` call that was accepted: go on to verification."""
    accepted = {m.tool_call_id for m in trailing if isinstance(m, ToolResultMessage)}
    accepted -= {
        m.tool_call_id for m in trailing if isinstance(m, ToolResultMessage) and m.is_error
    }
    call = next((c for c in msg.tool_calls if c.name == COMPLETE and c.id in accepted), None)
    parsed = None if call is None else parse_completion(call.arguments, st.plan)
    if parsed is None or isinstance(parsed, str):
        return next_turn(st)
    st.completion, st.output = parsed
    st.stop_reason = "completion"
    if parsed[0].status == "failed":
        return st.finish("failed", "completion", parsed[0].summary or "the model reported failure")
    st.outcome = "success"
    return "verify"


def _phase(st: RunState, recorder: Recorder) -> Phase:
    """Where the loop picks up, from the last recorded messages."""
    idx = _last_assistant(st)
    if idx is None:
        return "model"
    msg = st.messages[idx]
    assert isinstance(msg, AssistantMessage)
    trailing = st.messages[idx + 1 :]
    if any(not isinstance(m, ToolResultMessage) for m in trailing):
        return "model"  # a prompt followed the answer (retry, verification, limit)
    if not msg.tool_calls:
        return "answer"
    answered = {m.tool_call_id for m in trailing if isinstance(m, ToolResultMessage)}
    if all(c.id in answered for c in msg.tool_calls):
        return _complete_call(st, msg, trailing)
    del st.messages[idx + 1 :]  # the batch runs again: recorded results are replayed
    for m in trailing:
        assert isinstance(m, ToolResultMessage)
        recorder.replay[m.tool_call_id] = m
        recorder.saved.add(id(m))
    st.finish_reason = "tool_calls"
    return "tools"


async def _unknown_outcomes(st: RunState, record: StoredRun, recorder: Recorder) -> None:
    """Calls started but not recorded: idempotent ones run again, others are never repeated."""
    failed: list[str] = []
    for s in record.unfinished_calls():
        name, call_id = str(s.payload.get("tool")), str(s.payload.get("call_id"))
        tool = st.tools.get(name)
        if tool is not None and getattr(tool, "idempotent", False):
            continue
        call = ToolCall(id=call_id, name=name, arguments=str(s.payload.get("arguments") or "{}"))
        result = ToolResultMessage(
            tool_call_id=call_id, name=name, is_error=True, content=UNKNOWN_OUTCOME
        )
        await recorder.tool_result(call, result, called=True)
        recorder.replay[call_id] = result
        failed.append(f"{name} ({call_id})")
    if failed and st.spec.on_unknown_outcome == "fail":
        st.messages.extend(recorder.replay.values())
        recorder.replay.clear()
        repair(st, "the run failed")
        st.finish(
            "failed",
            "unknown_outcome",
            f"the outcome of {', '.join(failed)} is unknown (interrupted while running); "
            "the call was not repeated",
        )


def load(st: RunState, inputs: ResumeInputs, recorder: Recorder) -> None:
    """Put the recorded history and counters into the prepared state (no I/O)."""
    record = inputs.record
    if inputs.run_messages:
        st.messages[st.new_from :] = inputs.run_messages
        if st.handoffs:  # the handoffs taken before the interruption, taken again
            from ._handoffs import replay

            replay(st)
    # input guardrails ran if the model was asked; otherwise they run now
    st.input_checked = any(s.kind == "model_response" for s in record.steps)
    _counters(st, record)
    # nothing recorded yet: the task (st.messages[new_from:]) is still to be recorded
    recorder.cursor = len(st.messages) if inputs.run_messages else st.new_from
    if inputs.finished:
        recorder.ended = True  # nothing of a finished run is recorded again
    else:
        recorder.started = {
            s.idempotency_key
            for s in record.steps
            if s.kind == "tool_started" and s.idempotency_key
        }


async def step_resume(st: RunState) -> tuple[Phase, Step]:
    """The ``resume`` step: where the recorded run left off, from its last messages."""
    inputs, st.resuming = st.resuming, None
    recorder: Recorder = st.recorder
    record = inputs.record
    if inputs.finished:
        _finished(st, record)
        phase: Phase = "end"
        if record.run.status == "running" and st.status is not None:
            # killed between the completion step and ending the run: end it now
            await recorder.conn.update_run(record.run.id, status=st.status, error=st.error)
    else:
        phase = _phase(st, recorder)
        recorder.cursor = len(st.messages) if inputs.run_messages else st.new_from
        await _unknown_outcomes(st, record, recorder)
        await start_resumed(st, record, inputs.approvals or [], recorder)
        responses = [s for s in record.steps if s.kind == "model_response"]
        if responses:
            pass_response_id(st, (responses[-1].payload.get("response") or {}).get("response_id"))
    data = {"run_id": st.run_id, "from_step": recorder.seq, "schemas": inputs.schemas}
    if inputs.schema_changes:
        data["schema_changes"] = list(inputs.schema_changes)
    st.emitter.emit("run.resume", data)
    return ("end" if st.ended else phase), Step("resume", st.turns)
