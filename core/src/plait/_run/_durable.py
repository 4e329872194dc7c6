"""Attaching a store to a run: a thread's history before it starts, or a run to resume.

``Runner.aprepare`` calls ``attach`` when a run has ``thread=``, ``store=`` or
``resume=``. ``attach`` opens the store and returns a new ``RunSpec`` (never changing the
given one): a new run's spec gets its thread's history (compare-and-set starts from the
head read here); a resumed run's spec is rebuilt from its record (``_resume``). Once the
runner has prepared the run from that spec, ``Attached.bind`` records a new run with the
options ``resume`` needs, or loads a resumed run's history into the state for its
``resume`` step, and gives the run its ``Recorder``. See ``docs/threads.md``.

The model is recorded as ``provider:model-id`` whenever it has one: a name, the default,
or an object the kernel resolved from a name (what ``plait run`` passes). ``plait run``
also records its ``--tool`` / ``--output`` references (``COMMAND_LINE``), so ``plait
runs resume`` needs no flags.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import anyio

from .._thread import Thread, open_connection, store_url
from ._command_line import COMMAND_LINE
from ._persist import (
    Recorder,
    dump_messages,
    jsonable,
    last_response_id,
    pass_response_id,
    server_state_key,
    task_parts,
)
from ._resume import ResumeInputs, load, resume_inputs
from ._schemas import check, output_name, record_schemas

if TYPE_CHECKING:
    from .._kernel import Kernel
    from .._store._contract import StoreConnection
    from ._options import RunSpec
    from ._state import RunState

__all__ = ["Attached", "attach", "model_spec"]


def _explicit_url(spec: RunSpec) -> str | None:
    store = spec.store
    if store is None or store is True:
        return None
    if not isinstance(store, str):
        raise TypeError(f"store= takes a store URL (str) or True, not {type(store).__name__}")
    return store


def as_thread(value: Any) -> Thread | None:
    if value is None:
        return None
    if isinstance(value, Thread):
        return value
    if isinstance(value, str):
        return Thread(value)
    raise TypeError(f"thread= takes a name (str) or a plait.Thread, not {type(value).__name__}")


@dataclass(slots=True)
class Attached:
    """An open store and the spec it gave; ``bind`` hands both to the prepared run."""

    spec: RunSpec
    kernel: Kernel
    conn: StoreConnection
    thread_id: str | None
    head: int | None
    resumed: ResumeInputs | None = None

    async def bind(self, st: RunState) -> None:
        """Record the new run (or load the resumed one) and give it its ``Recorder``."""
        st.thread_id = self.thread_id
        if self.resumed is not None:
            await self._check(st, self.resumed)
            seq = self.resumed.record.last_seq
            recorder = Recorder(
                self.conn, st.run_id, thread_id=st.thread_id, head=self.head, seq=seq
            )
            load(st, self.resumed, recorder)
            st.resuming = self.resumed  # the loop's ``resume`` step picks up from here
            st.recorder = recorder
            return
        if st.thread_id is not None and server_state_key(st.model) is not None:
            pass_response_id(st, await last_response_id(self.conn, st.thread_id))
        await self.conn.create_run(
            st.run_id,
            thread_id=st.thread_id,
            agent=st.spec.name,
            parent_run_id=st.parent_run_id,
            options=recorded_options(self.kernel, st, self.head),
        )
        st.recorder = Recorder(
            self.conn, st.run_id, thread_id=st.thread_id, head=self.head, cursor=st.new_from
        )

    async def _check(self, st: RunState, inputs: ResumeInputs) -> None:
        """Refuse (``SchemaChanged``) tools or an output type changed since the recording,
        before anything runs again; then reopen an interrupted run."""
        if not inputs.finished:  # a finished run calls no tool and asks no model again
            accept = st.spec.on_schema_change == "accept"
            run = inputs.record.run
            inputs.schemas, inputs.schema_changes = check(run.id, run.options, st, accept)
        if inputs.reopen:
            await self.conn.update_run(inputs.record.run.id, status="running")

    async def aclose(self) -> None:
        """Close the store connection (when the run could not be bound to it)."""
        with anyio.CancelScope(shield=True):
            await self.conn.aclose()


async def attach(spec: RunSpec, kernel: Kernel) -> Attached:
    """Open the store; the spec of the new run (with its thread's history) or resumed run."""
    thread = as_thread(spec.thread)
    conn = open_connection(store_url(_explicit_url(spec), thread, kernel), kernel)
    try:
        if spec.resume:
            inputs = await resume_inputs(spec, conn, kernel)
            thread_id = inputs.record.run.thread_id
            return Attached(inputs.spec, kernel, conn, thread_id, inputs.head, inputs)
        if thread is None:
            return Attached(spec, kernel, conn, None, None)
        if spec.message_history:
            raise ValueError(
                "pass either thread= (the history is kept in the store) or message_history= "
                "(you keep it), not both"
            )
        await conn.get_or_create_thread(thread.id, metadata=dict(thread.metadata) or None)
        history = await conn.load_messages(thread.id)
        spec = spec._replace(message_history=history.messages)
        return Attached(spec, kernel, conn, thread.id, history.head)
    except BaseException:
        with anyio.CancelScope(shield=True):
            await conn.aclose()
        raise


def _names(items: Any) -> list[str]:
    return [i for i in items or () if isinstance(i, str)]


def model_spec(kernel: Kernel | None, option: Any, model: Any) -> str | None:
    """The ``provider:model-id`` that gives ``model`` again: the name it was given by, or
    the name the kernel resolved it from (the default, or a name resolved beforehand)."""
    if isinstance(option, str):
        return option
    return kernel.model_spec(model) if kernel is not None else None


def _planning_options(spec: RunSpec) -> dict[str, Any]:
    """Planning mode's options, when given (a resumed run plans as it did)."""
    if spec.plan is None and spec.max_steps is None:
        return {}
    from ._planning import recorded_plan

    return {
        "plan": recorded_plan(spec.plan),
        "planning_interval": spec.planning_interval,
        "max_steps": spec.max_steps,
    }


def recorded_options(kernel: Kernel, st: RunState, head: int | None) -> dict[str, Any]:
    """What ``resume`` needs to rebuild the run (JSON: functions and objects are named)."""
    spec = st.spec
    model = model_spec(kernel, spec.model, st.model)
    history = None if head is not None else spec.message_history
    cli = COMMAND_LINE.get() if st.parent_run_id is None else None
    if cli is not None:
        cli.run_ids.append(st.run_id)
    return {
        "task": st.task,  # readable: media as markers (``_media``)
        "task_parts": task_parts(spec.task),  # the parts themselves (bytes: store blobs)
        "instructions": spec.instructions,
        "model": model,
        "model_object": model is None and spec.model is not None,
        "model_name": getattr(st.model, "name", None),
        "tools": [n for n in st.tools if not (st.handoffs and n in st.handoffs)],
        "output": output_name(spec.output),
        "name": spec.name,
        "limits": st.limits.model_dump(mode="json"),
        "settings": jsonable(st.params.settings.model_dump()),
        "on_limit": spec.on_limit or "raise",
        "require_completion": spec.require_completion,
        "raise_on_failure": spec.raise_on_failure is not False,
        "on_unknown_outcome": spec.on_unknown_outcome or "tell_model",
        "approve": "pause" if spec.approve == "pause" else None,  # an approver is not stored
        "guardrails": _names(spec.guardrails),
        "verifiers": _names(spec.verifiers),
        **_planning_options(spec),
        "thread_head": head,
        "history": dump_messages(history) if history else None,
        "cli": cli.recorded() if cli is not None else None,
        "provenance": kernel.provenance(),
        "schemas": record_schemas(st.tools, st.plan),
    }
