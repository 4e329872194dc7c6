"""Attaching a store to a run: a thread's history before it starts, or a run to resume.

``Runner.aprepare`` calls ``attach`` when a run has ``thread=``, ``store=`` or
``resume=``. A new run loads its thread's history (compare-and-set starts from the head
read here), is recorded with the options ``resume`` needs, and gets a ``Recorder``. A
resumed run is rebuilt from its recorded steps (``_resume``). See ``docs/threads.md``.

The model is recorded as ``provider:model-id`` whenever it has one: a name, the default,
or an object the kernel resolved from a name (what ``plait run`` passes). ``plait run``
also records its ``--tool`` / ``--output`` references (``COMMAND_LINE``), so ``plait
runs resume`` needs no flags.
"""

from __future__ import annotations

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
)
from ._resume import rebuild, resume_inputs

if TYPE_CHECKING:
    from .._kernel import Kernel
    from .._store._contract import StoreConnection
    from ._loop import Runner
    from ._state import RunState

__all__ = ["attach", "model_spec"]


def _kernel(runner: Runner) -> Kernel:
    kernel: Kernel | None = runner.options.get("kernel")
    if kernel is None:
        from .._kernel import Kernel

        kernel = Kernel()
        runner.options = {**runner.options, "kernel": kernel}
        runner._owns_kernel = True
    return kernel


def _explicit_url(options: dict[str, Any]) -> str | None:
    store = options.get("store")
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


async def attach(runner: Runner) -> RunState:
    """Open the store, then prepare the run (new or resumed) with a ``Recorder``."""
    kernel = _kernel(runner)
    options = runner.options
    thread = as_thread(options.get("thread"))
    conn = open_connection(store_url(_explicit_url(options), thread, kernel), kernel)
    try:
        if options.get("resume"):
            return await _attach_resume(runner, conn, kernel)
        return await _attach_new(runner, conn, thread)
    except BaseException:
        with anyio.CancelScope(shield=True):
            await conn.aclose()
        raise


async def _attach_new(runner: Runner, conn: StoreConnection, thread: Thread | None) -> RunState:
    options = runner.options
    head: int | None = None
    if thread is not None:
        if options.get("message_history"):
            raise ValueError(
                "pass either thread= (the history is kept in the store) or message_history= "
                "(you keep it), not both"
            )
        await conn.get_or_create_thread(thread.id, metadata=dict(thread.metadata) or None)
        history = await conn.load_messages(thread.id)
        head = history.head
        runner.options = {**options, "message_history": history.messages}
    st = runner.prepare()
    st.thread_id = thread.id if thread is not None else None
    if st.thread_id is not None and server_state_key(st.model) is not None:
        pass_response_id(st, await last_response_id(conn, st.thread_id))
    await conn.create_run(
        st.run_id,
        thread_id=st.thread_id,
        agent=st.agent,
        parent_run_id=st.parent_run_id,
        options=recorded_options(runner, st, head),
    )
    st.recorder = Recorder(conn, st.run_id, thread_id=st.thread_id, head=head, cursor=st.new_from)
    return st


def _names(items: Any) -> list[str]:
    return [i for i in items or () if isinstance(i, str)]


def model_spec(kernel: Any, option: Any, model: Any) -> str | None:
    """The ``provider:model-id`` that gives ``model`` again: the name it was given by, or
    the name the kernel resolved it from (the default, or a name resolved beforehand)."""
    if isinstance(option, str):
        return option
    resolved: dict[str, Any] = getattr(kernel, "_models", None) or {}
    return next((spec for spec, known in resolved.items() if known is model), None)


def recorded_options(runner: Runner, st: RunState, head: int | None) -> dict[str, Any]:
    """What ``resume`` needs to rebuild the run (JSON: functions and objects are named)."""
    options = runner.options
    spec = model_spec(options.get("kernel"), options.get("model"), st.model)
    output = runner.output
    history = None if head is not None else options.get("message_history")
    cli = COMMAND_LINE.get() if st.parent_run_id is None else None
    if cli is not None:
        cli.run_ids.append(st.run_id)
    return {
        "task": st.task,
        "instructions": options.get("instructions"),
        "model": spec,
        "model_object": spec is None and options.get("model") is not None,
        "model_name": getattr(st.model, "name", None),
        "tools": list(st.tools),
        "output": "str" if output is str else getattr(output, "__name__", repr(output)),
        "name": st.agent,
        "limits": st.limits.model_dump(mode="json"),
        "settings": jsonable(st.params.settings.model_dump()),
        "on_limit": st.on_limit,
        "require_completion": options.get("require_completion"),
        "raise_on_failure": st.raise_on_failure,
        "on_unknown_outcome": options.get("on_unknown_outcome", "tell_model"),
        "guardrails": _names(options.get("guardrails")),
        "verifiers": _names(options.get("verifiers")),
        "thread_head": head,
        "history": dump_messages(history) if history else None,
        "cli": cli.recorded() if cli is not None else None,
    }


async def _attach_resume(runner: Runner, conn: StoreConnection, kernel: Kernel) -> RunState:
    inputs = await resume_inputs(runner, conn, kernel)
    runner.task = inputs.task
    runner.options = inputs.options
    if inputs.output is not None:
        runner.output = inputs.output
    st = runner.prepare()
    st.thread_id = inputs.record.run.thread_id
    st.on_unknown_outcome = runner.options.get("on_unknown_outcome", "tell_model")
    recorder = Recorder(
        conn, st.run_id, thread_id=st.thread_id, head=inputs.head, seq=inputs.record.last_seq
    )
    st.recorder = recorder
    await rebuild(st, inputs, recorder)
    return st
