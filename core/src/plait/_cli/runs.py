"""``plait runs list|show|resume|approve``: recorded runs, resuming them, deciding approvals.

``resume`` rebuilds the run from what was recorded: the model (``provider:model-id``),
instructions, limits and, for a run ``plait run`` started, its ``--tool`` / ``--output``
references, imported again. Flags override them: ``--tool`` (repeatable; replaces the
recorded list), ``--output``, ``--model``, ``--instructions``, ``--max-turns``. A tool
or output type whose schema changed since the recording is refused (exit 2) unless
``--on-schema-change accept``. ``approve`` resumes a run paused for approval with a
decision for its pending calls (all of them, or ``--call ID``): approve, ``--deny REASON``
or ``--edit JSON``; it takes the same flags as ``resume``.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from .threads import add_store_option, describe, stamp, with_store

if TYPE_CHECKING:
    from .._store._contract import StoreConnection

__all__ = ["PAUSED_EXIT", "add_arguments", "run"]

PAUSED_EXIT = 5
"""Exit status of ``resume`` / ``approve`` when the run paused (again) for approval."""

STATUSES = (
    "running", "success", "failed", "skipped", "incomplete", "cancelled", "blocked", "paused"
)  # fmt: skip


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_store_option(parser)
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = sub.add_parser("list", help="runs, most recently started first")
    listing.add_argument("--thread", metavar="T", help="only the runs of this thread")
    listing.add_argument("--status", metavar="S", choices=STATUSES, help="only runs with it")
    listing.add_argument("--limit", type=int, default=100)
    listing.add_argument("--json", action="store_true", help="print JSON")
    show = sub.add_parser("show", help="a run and its recorded steps")
    show.add_argument("run_id", metavar="RUN_ID")
    show.add_argument("--json", action="store_true", help="print JSON")
    resume = sub.add_parser("resume", help="continue an interrupted run")
    _resume_flags(resume)
    approve = sub.add_parser("approve", help="decide the pending calls of a paused run")
    _resume_flags(approve)
    approve.add_argument("--call", metavar="ID", help="only this pending call (default: all)")
    decision = approve.add_mutually_exclusive_group()
    decision.add_argument("--deny", metavar="REASON", help="deny (the reason is told the model)")
    decision.add_argument("--edit", metavar="JSON", help="approve with these arguments instead")
    for action in (listing, show, resume, approve):
        add_store_option(action, sub=True)


def _resume_flags(resume: argparse.ArgumentParser) -> None:
    """The flags of ``resume`` (and ``approve``): what the resumed run is given again."""
    resume.add_argument("run_id", metavar="RUN_ID")
    resume.add_argument(
        "--tool", action="append", default=[], metavar="MODULE:FUNCTION",
        help="a tool (module:function or file.py:function; repeat for each); replaces the "
        "recorded ones",
    )  # fmt: skip
    resume.add_argument(
        "--output",
        metavar="SCHEMA.json|MODULE:TYPE",
        help="the run's output type (if not recorded)",
    )
    resume.add_argument("--model", metavar="SPEC", help="a different model (provider:model)")
    resume.add_argument("-i", "--instructions", help="different instructions for the model")
    resume.add_argument("--max-turns", type=int, metavar="N", help="a different turn limit")
    resume.add_argument(
        "--on-unknown-outcome", choices=["tell_model", "fail"], default=None,
        help="a non-idempotent call interrupted mid-way: tell the model (default) or fail",
    )  # fmt: skip
    resume.add_argument(
        "--on-schema-change", choices=["refuse", "accept"], default=None,
        help="a tool's parameters or the output type changed since the run was recorded: "
        "refuse (default) or resume anyway",
    )  # fmt: skip


async def _list(conn: StoreConnection, args: argparse.Namespace) -> int:
    runs = await conn.list_runs(thread_id=args.thread, status=args.status, limit=args.limit)
    if args.json:
        print(json.dumps([r.model_dump(mode="json") for r in runs], indent=2))
        return 0
    if not runs:
        print(f"no runs in {conn.url}")
    for r in runs:
        where = f"thread {r.thread_id}" if r.thread_id else "no thread"
        agent = f"  agent {r.agent}" if r.agent else ""
        print(f"{r.id}  {r.status:<10} {where}{agent}  started {stamp(r.started_at)}")
    return 0


def _step_line(step: Any) -> str:
    p = step.payload
    if step.kind == "model_response":
        response = p.get("response") or {}
        what = f"turn {p.get('turn')} {response.get('finish_reason')} ({response.get('model')})"
    elif step.kind in ("tool_started", "tool_result") and p.get("call_id"):
        what = f"{p.get('tool')} [{p.get('call_id')}]" + (" error" if p.get("is_error") else "")
    elif step.kind == "check" and p.get("stage") == "approval":
        what = "approval: " + ", ".join(
            f"{a.get('decision')} {a.get('tool')} [{a.get('call_id')}]"
            for a in p.get("approvals") or ()
        )
    elif step.kind == "completion":
        what = f"{p.get('status')} ({p.get('stop_reason')})"
    else:
        what = ", ".join(sorted(k for k in p if k != "messages"))
    return f"{step.seq:>4} {step.kind:<15} {what}"


async def _show(conn: StoreConnection, args: argparse.Namespace) -> int:
    from .._store._errors import StoreError

    state = await conn.load_run(args.run_id)
    if state is None:
        raise StoreError(f"{conn.url}: no run {args.run_id!r} is recorded (see `plait runs list`)")
    if args.json:
        print(state.model_dump_json(indent=2))
        return 0
    r = state.run
    print(f"run {r.id}: {r.status}  thread {r.thread_id or '-'}  agent {r.agent or '-'}")
    print(f"started {stamp(r.started_at)}  ended {stamp(r.ended_at)}")
    if r.error:
        print(f"error: {r.error}")
    _print_audit(r.options.get("provenance"), state.steps)
    _print_pending(state)
    for step in state.steps:
        print(_step_line(step))
        for message in step.payload.get("messages", ()):
            print(f"       {describe(_message(message))}")
    return 0


def _print_audit(provenance: Any, steps: Any) -> None:
    """Which plugins and stack were in force, and every guardrail and verifier decision."""
    if isinstance(provenance, dict):
        plugins = ", ".join(_plugin_label(p) for p in provenance.get("plugins") or ())
        print(f"plugins: {plugins or 'none'}")
        stack = provenance.get("stack") or {}
        items = ", ".join(
            f"{i['kind'][:-1]} {i['name']}{' (enforced)' if i['enforced'] else ''}"
            for i in stack.get("items") or ()
        )
        print(f"stack: {items or 'none'}")
    done = next((s for s in reversed(steps) if s.kind == "completion"), None)
    payload = done.payload if done is not None else {}
    for d in payload.get("decisions") or ():
        print(f"  {stamp(d.get('at'))} guardrail {d.get('guardrail')} ({d.get('stage')}): "
              f"{d.get('action')}{': ' + d['reason'] if d.get('reason') else ''}")  # fmt: skip
    for v in payload.get("verdicts") or ():
        verdict = "passed" if v.get("passed") else "failed"
        print(f"  {stamp(v.get('at'))} verifier {v.get('verifier')}: {verdict}"
              f"{': ' + v['reason'] if v.get('reason') else ''}")  # fmt: skip


def _print_pending(state: Any) -> None:
    """The calls a paused run waits on, and how to decide them."""
    from .._run._pause import is_paused, pending_requests

    if not is_paused(state):
        return
    for request in pending_requests(state):
        print(f"pending: {request.tool} [{request.call_id}] {request.arguments}"
              f"{'  (' + request.reason + ')' if request.reason else ''}")  # fmt: skip
    print(
        f"decide with: plait runs approve {state.run.id} [--call ID] [--deny REASON | --edit JSON]"
    )


def _plugin_label(p: dict[str, Any]) -> str:
    version = f" {p['version']}" if p.get("version") else ""
    return f"{p['name']} ({p.get('distribution') or 'built-in'}{version})"


def _message(data: Any) -> Any:
    from .._run._history import load_history

    return load_history([data])[0]


async def _recorded_cli(args: argparse.Namespace, kernel: Any) -> dict[str, Any]:
    """The ``--tool`` / ``--output`` references ``plait run`` recorded with the run."""
    from .._thread import open_connection, store_url

    async with open_connection(store_url(args.store, None, kernel), kernel) as conn:
        state = await conn.load_run(args.run_id)
    cli = state.run.options.get("cli") if state is not None else None
    return cli if isinstance(cli, dict) else {}


async def _resume_options(args: argparse.Namespace, kernel: Any) -> dict[str, Any]:
    """``aresume`` options: the flags, else what the run recorded."""
    from ._load import load_object, load_output

    recorded = await _recorded_cli(args, kernel)
    tool_refs = args.tool or [str(r) for r in recorded.get("tools") or ()]
    output_ref = args.output or recorded.get("output")
    options: dict[str, Any] = {
        "kernel": kernel,
        "tools": [load_object(ref, what="--tool") for ref in tool_refs],
        "raise_on_failure": False,
        "store": args.store or True,
    }
    if output_ref:
        options["output"] = load_output(str(output_ref))
    for name in ("model", "instructions", "max_turns", "on_unknown_outcome", "on_schema_change"):
        value = getattr(args, name)
        if value:
            options[name] = value
    return options


async def _approvals(args: argparse.Namespace, kernel: Any) -> dict[str, Any]:
    """``approve``'s decision for the pending calls it names (``ApprovalError`` if none)."""
    from .. import approve, deny, edit
    from .._errors import ApprovalError
    from .._run._pause import is_paused, pending_requests
    from .._thread import open_connection, store_url

    async with open_connection(store_url(args.store, None, kernel), kernel) as conn:
        state = await conn.load_run(args.run_id)
    if state is None:
        return {}  # resume says which run is missing, and where it looked
    run_id = args.run_id
    if not is_paused(state):
        why = f"run {run_id!r} is not paused (status {state.run.status!r}): nothing to approve"
        raise ApprovalError(why, run_id=run_id)
    pending = [r.call_id for r in pending_requests(state)]
    calls = [args.call] if args.call else pending
    if args.edit is None:
        decision = deny(args.deny) if args.deny is not None else approve()
        return {call_id: decision for call_id in calls}
    if len(calls) != 1:
        why = f"--edit changes one call: pass --call ID (pending: {', '.join(pending)})"
        raise ApprovalError(why, run_id=run_id)
    try:
        return {calls[0]: edit(json.loads(args.edit))}
    except (json.JSONDecodeError, TypeError) as exc:
        why = f"--edit takes the arguments as a JSON object ({exc})"
        raise ApprovalError(why, run_id=run_id) from None


def _resume(args: argparse.Namespace) -> int:
    import anyio

    from .. import aresume
    from .._errors import ApprovalError, SchemaChanged
    from .._kernel import Kernel

    async def main() -> Any:
        async with Kernel(strict=True if args.strict else None) as kernel:
            options = await _resume_options(args, kernel)
            if args.action == "approve":
                options["approvals"] = await _approvals(args, kernel)
            return await aresume(args.run_id, **options)

    try:
        result = anyio.run(main)
    except ApprovalError as exc:  # not paused, or no such pending call
        hint = f"`plait runs show {args.run_id}` lists the pending calls"
        print(f"plait: error: {exc} (hint: {hint})", file=sys.stderr)
        return 2
    except SchemaChanged as exc:  # the tools or output type are not the recorded ones
        hint = "pass --on-schema-change accept to resume with them anyway"
        print(f"plait: error: {exc} (hint: {hint})", file=sys.stderr)
        return 2
    except ValueError as exc:  # what resume needs and was not given (tools, model, output)
        hint = "pass --tool MODULE:FUNCTION / --output / --model"
        print(f"plait: error: {exc} (hint: {hint})", file=sys.stderr)
        return 2
    print(f"run {result.run_id}: {result.status} ({result.stop_reason})")
    for request in result.pending:  # paused again: the calls still waiting
        print(f"pending: {request.tool} [{request.call_id}] {request.arguments}")
    if result.error:
        print(f"error: {result.error}")
    if result.output is not None:
        out = result.output
        print(out if isinstance(out, str) else json.dumps(out, default=str, indent=2))
    return 0 if result.ok else PAUSED_EXIT if result.status == "paused" else 1


def run(args: argparse.Namespace) -> int:
    if args.action in ("resume", "approve"):
        return _resume(args)
    action = {"list": _list, "show": _show}[args.action]
    return with_store(args, lambda conn: action(conn, args))
