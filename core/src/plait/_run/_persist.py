"""Recording a run's steps in a store as they complete (threads and durable runs).

A ``Recorder`` belongs to one run. After each step of the loop it appends one store step
(one transaction) together with the messages the step added, under compare-and-set on
the thread's head: ``model_response`` (with the assistant message), ``tool_started``
(just before a tool with ``idempotent=False`` runs), ``tool_result`` (each call, as it
finishes), ``check`` (verdicts, output guardrail decisions) and ``completion``. Store
calls are shielded from cancellation: a step that was sent is known to be recorded, so
the step numbers kept here never go wrong. A run interrupted from outside (its task
cancelled, Ctrl-C) records what it had — the messages not yet recorded, in a
``completion`` step with stop reason ``interrupted`` — and is marked ``cancelled``; such
a run can be resumed. A step the store refuses as a whole — another run took the thread
(``ThreadConflict``), or a record over the store's ``max_record_bytes``
(``RecordTooLarge``; or a media part over ``max_blob_bytes``: ``BlobTooLarge``, a
subclass) — writes nothing: the run is marked ``failed`` in the store with
that error (every step before stays) and the error reaches the caller. Media parts in
the messages are written whole here; the store keeps their bytes apart, once (blobs).
See ``docs/threads.md``.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import anyio
import pydantic_core

from .._contracts import optional_attribute
from .._messages import Message, ModelResponse, ToolCall, ToolResultMessage
from .._settings import ModelSettings
from .._store._errors import RecordTooLarge, StoreError, ThreadConflict
from .._store._records import NewStep, StoredStepKind
from ._result import Result, Step

if TYPE_CHECKING:
    from .._store._contract import StoreConnection
    from ._options import RunSpec
    from ._state import RunState

__all__ = [
    "INTERRUPTED",
    "INTERRUPT_WRITE_TIMEOUT",
    "Recorder",
    "carry_server_state",
    "dump_messages",
    "jsonable",
    "last_response_id",
    "pass_response_id",
    "recorded_task",
    "server_state_key",
    "server_state_settings",
    "task_parts",
]

INTERRUPTED = "interrupted"
"""The stop reason of a run cancelled from outside (task cancelled, Ctrl-C): resumable."""
INTERRUPT_WRITE_TIMEOUT = 10.0
"""Seconds an interrupted run may spend recording what it had before it gives up."""


def jsonable(value: Any) -> Any:
    """``value`` as plain JSON data (pydantic models, dataclasses); ``repr`` as a last resort."""
    return pydantic_core.to_jsonable_python(value, fallback=repr, serialize_unknown=True)


def task_parts(task: Any) -> list[dict[str, Any]] | None:
    """A task of parts as JSON for the run's options record, so a run killed before its
    first step resumes with its media (their bytes become store blobs); ``None`` for a
    ``str`` task (the options' ``task`` holds it)."""
    if task is None or isinstance(task, str):
        return None
    return [part.model_dump(mode="json") for part in task]


def recorded_task(options: dict[str, Any]) -> Any:
    """The task as it was given, from a run's options record: its parts (their bytes
    back from the store's blobs) when it had any, else its text."""
    parts = options.get("task_parts")
    if isinstance(parts, list) and parts:
        from pydantic import TypeAdapter

        from .._parts import Part

        return TypeAdapter(list[Part]).validate_python(parts)
    task = options.get("task")
    return task if isinstance(task, str) else None


def server_state_key(model: object) -> str | None:
    """The ``settings.extra`` key under which ``model`` wants the last response id, if any
    (its provider keeps the conversation server-side: ``Model.server_state_key``)."""
    key = optional_attribute(model, "server_state_key")
    return key if isinstance(key, str) and key else None


def server_state_settings(spec: RunSpec, model: object, settings: ModelSettings) -> ModelSettings:
    """``settings`` with the run options ``previous_response_id=`` / ``conversation=`` in
    ``extra``, under the keys ``model`` declares (``server_state_key``,
    ``conversation_key``); a model that declares none refuses them (``ValueError``)."""
    if spec.previous_response_id is not None and spec.conversation is not None:
        raise ValueError(
            "pass previous_response_id= or conversation=, not both: a conversation keeps "
            "its own latest response"
        )
    option, value, attribute = (
        ("previous_response_id", spec.previous_response_id, "server_state_key")
        if spec.conversation is None
        else ("conversation", spec.conversation, "conversation_key")
    )
    key = optional_attribute(model, attribute)
    if not isinstance(value, str) or not value:
        raise TypeError(f"{option}= takes the provider's id (a non-empty str), not {value!r}")
    if not isinstance(key, str) or not key:
        name = getattr(model, "name", type(model).__name__)
        raise ValueError(
            f"{option}= given, but model {name!r} keeps no conversation on its provider's "
            f"server (it declares no {attribute}): use a model that does (see "
            "docs/threads.md), or pass the history as message_history= or thread="
        )
    return settings.merge(ModelSettings(extra={key: value}))


STATE_ATTRIBUTES = ("server_state_key", "conversation_key")


def carry_server_state(settings: ModelSettings, old: object, new: object) -> ModelSettings:
    """``settings`` for ``new``, the model taking over from ``old`` (a handoff): the
    ``extra`` keys ``old`` declared for server state and ``new`` does not are dropped
    (another provider's response id means nothing to it)."""
    drop = {optional_attribute(old, a) for a in STATE_ATTRIBUTES}
    drop -= {optional_attribute(new, a) for a in STATE_ATTRIBUTES}
    if drop.isdisjoint(settings.extra):
        return settings
    extra = {k: v for k, v in settings.extra.items() if k not in drop}
    return settings.model_copy(update={"extra": extra})


def pass_response_id(st: RunState, response_id: str | None) -> None:
    """Give a model with server-side state the id of the last response (settings.extra)."""
    key = server_state_key(st.model) if response_id else None
    if key is not None:
        extra = ModelSettings(extra={key: response_id})
        st.params = dataclasses.replace(st.params, settings=st.params.settings.merge(extra))


async def last_response_id(conn: StoreConnection, thread_id: str) -> str | None:
    """The response id of the thread's most recent recorded model response."""
    runs = await conn.list_runs(thread_id=thread_id, limit=1)
    state = await conn.load_run(runs[0].id) if runs else None
    for step in reversed(state.steps if state is not None else []):
        if step.kind == "model_response":
            rid = (step.payload.get("response") or {}).get("response_id")
            return rid if isinstance(rid, str) else None
    return None


def dump_messages(messages: Sequence[Message]) -> list[dict[str, Any]]:
    return [m.model_dump(mode="json") for m in messages]


class Recorder:
    """Appends the steps of one run to a store; keeps the step number and thread head."""

    def __init__(
        self,
        conn: StoreConnection,
        run_id: str,
        *,
        thread_id: str | None,
        head: int | None,
        seq: int = 0,
        cursor: int = 0,
    ) -> None:
        self.conn = conn
        self.run_id = run_id
        self.thread_id = thread_id
        self.head = head
        self.seq = seq
        self.cursor = cursor  # st.messages before this index were recorded (or are history)
        self.saved: set[int] = set()  # ids of messages recorded out of order (tool results)
        self.replay: dict[str, ToolResultMessage] = {}  # call id -> recorded result
        self.started: set[str] = set()  # idempotency keys with a tool_started step
        self.ended = False
        self._lock = anyio.Lock()

    def key(self, call_id: str) -> str:
        """The idempotency key of a tool call: the same on its started and result steps."""
        return f"{self.run_id}:{call_id}"

    def pending(self, st: RunState) -> list[Message]:
        """Messages added since the last recorded step (and not recorded on their own)."""
        new = [m for m in st.messages[self.cursor :] if id(m) not in self.saved]
        self.cursor = len(st.messages)
        self.saved.clear()
        return new

    async def append(
        self,
        kind: StoredStepKind,
        payload: dict[str, Any],
        messages: Sequence[Message] = (),
        key: str | None = None,
    ) -> None:
        """Record one step with its messages, in one transaction (shielded from cancel)."""
        with anyio.CancelScope(shield=True):
            await self._write(kind, payload, messages, key)

    async def _write(
        self,
        kind: StoredStepKind,
        payload: dict[str, Any],
        messages: Sequence[Message] = (),
        key: str | None = None,
    ) -> None:
        body = {**payload, "messages": dump_messages(messages)}
        step = NewStep(kind=kind, payload=body, idempotency_key=key)
        threaded = self.thread_id is not None
        async with self._lock:
            try:
                rec = await self.conn.append_step(
                    self.run_id,
                    step,
                    seq=self.seq + 1,
                    messages=messages if threaded else (),
                    expected_head=self.head if threaded else None,
                )
            except (ThreadConflict, RecordTooLarge) as exc:  # nothing of the step was written
                await self._give_up(exc)
                raise
            self.seq = rec.seq
            if threaded and messages and self.head is not None:
                self.head += len(messages)

    async def _give_up(self, exc: StoreError) -> None:
        """The store refused a step for good: end the run as failed there (best effort)."""
        self.ended = True
        with contextlib.suppress(StoreError):
            await self.conn.update_run(self.run_id, status="failed", error=str(exc))

    # --- the steps of the loop ---------------------------------------------------------

    async def after_step(self, st: RunState, step: Step) -> None:
        """Record what ``step`` completed (called by the loop after every step)."""
        kind = step.kind
        if self.ended:
            return
        if kind == "model" and step.response is not None:
            await self.model_response(st, step.response)
        elif kind == "tools":
            left = self.pending(st)  # results no tool call recorded: refusals, `complete`
            if left:
                await self.append("tool_result", {"turn": st.turns}, left)
        elif kind in ("verify", "output") and (step.verdicts or step.decisions):
            payload = {
                "stage": kind,
                "verdicts": jsonable(step.verdicts),
                "decisions": jsonable(step.decisions),
            }
            await self.append("check", payload, self.pending(st))
        elif kind == "end" and step.result is not None:
            await self.completion(st, step.result)

    async def model_response(self, st: RunState, response: ModelResponse) -> None:
        data = response.model_dump(mode="json", exclude={"message"})
        pass_response_id(st, response.response_id)
        await self.append("model_response", {"turn": st.turns, "response": data}, self.pending(st))

    async def tool_started(self, call: ToolCall) -> None:
        """Before a tool with ``idempotent=False`` runs: its outcome is now 'unknown'."""
        key = self.key(call.id)
        if key in self.started:  # an interrupted run started it; the policy let it run again
            return
        payload = {"tool": call.name, "call_id": call.id, "arguments": call.arguments}
        await self.append("tool_started", payload, key=key)
        self.started.add(key)

    async def tool_result(self, call: ToolCall, result: ToolResultMessage, called: bool) -> None:
        """A call finished: its result message is recorded now, whatever runs beside it."""
        payload = {
            "tool": call.name,
            "call_id": call.id,
            "is_error": result.is_error,
            "called": called,
        }
        await self.append("tool_result", payload, [result], key=self.key(call.id))
        self.saved.add(id(result))

    async def completion(self, st: RunState, result: Result[Any]) -> None:
        """The run ended: the completion step, then the run's status (in that order)."""
        payload = {
            "status": result.status,
            "stop_reason": result.stop_reason,
            "output": jsonable(result.output),
            "usage": result.usage.model_dump(mode="json"),
            "turns": result.turns,
            "error": result.error,
            "decisions": jsonable(result.guardrails),  # every stage, for the audit
            "verdicts": jsonable(result.verdicts),
        }
        if result.pending:  # a paused run: the calls it waits on, as they were asked
            payload["pending"] = [r.to_json() for r in result.pending]
        await self.append("completion", payload, self.pending(st))
        self.ended = True
        with anyio.CancelScope(shield=True):
            await self.conn.update_run(self.run_id, status=result.status, error=result.error)

    async def interrupted(self, st: RunState) -> None:
        """The run was cancelled from outside: keep what it had, mark it ``cancelled``.

        The messages not yet recorded (the task, a prompt the loop added) go into a
        ``completion`` step with stop reason ``interrupted``; every step completed before
        was recorded already. Shielded, and bounded by ``INTERRUPT_WRITE_TIMEOUT``: a
        store that does not answer leaves the run ``running`` (still resumable).
        """
        if self.ended:
            return
        self.ended = True
        error = "interrupted (the run's task was cancelled); resume it to continue"
        payload = {
            "status": "cancelled",
            "stop_reason": INTERRUPTED,
            "output": None,
            "usage": st.usage.model_dump(mode="json"),
            "turns": st.turns,
            "error": error,
        }
        messages = self.pending(st)  # the loop records a model turn as soon as it ends
        with (
            anyio.CancelScope(shield=True),
            anyio.move_on_after(INTERRUPT_WRITE_TIMEOUT),
            contextlib.suppress(StoreError),  # the interruption itself goes on
        ):
            await self._write("completion", payload, messages)
            await self.conn.update_run(self.run_id, status="cancelled", error=error)

    async def aclose(self) -> None:
        with anyio.CancelScope(shield=True):
            await self.conn.aclose()
