"""An approval inbox as a small ASGI app: a run pauses, a person decides over HTTP.

    POST /runs                  {"task": "pay eve:500 bob:20"}
        -> 202 {"run_id", "status": "paused", "pending": [{call_id, tool, arguments, reason}]}
           (200 with the output when no call needed approval)
    GET  /runs/{run_id}         -> 200 {"run_id", "pending": [...]}   (read from the store)
    POST /runs/{run_id}/decisions
                                {"t0": {"decision": "approve"},
                                 "t1": {"decision": "deny", "reason": "..."},
                                 "t2": {"decision": "edit", "args": {...}}}
        -> 200 {"run_id", "status", "output", "pending"}
        -> 409 {"error"} when the run is not paused, a call is not pending (a replayed or
           stale decision), or an approval was made for another call

Every request may land in another process: the paused run lives in the store, and
``plait.aresume`` continues it wherever the decisions arrive. Serve it with any ASGI
server (``uvicorn --factory approval_app:create_app``, store from ``APPROVAL_STORE``).
Run as a script, it drives itself through ``httpx.ASGITransport`` (no server, no
network) with a test model, and prints each exchange. See docs/approvals.md.
"""

from __future__ import annotations

import json
import os
import tempfile
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import anyio
import httpx

import plait
from plait import Message, ToolResultMessage, UserMessage
from plait.testing import FunctionModel, call

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


@plait.tool(requires_approval=True)
def transfer(amount: int, to: str) -> str:
    """Send money to someone."""
    return f"sent {amount} to {to}"


def clerk(messages: list[Message], params: Any) -> Any:
    """The test model: a transfer per ``name:amount`` of the task, then a report."""
    results = [m.content for m in messages if isinstance(m, ToolResultMessage)]
    if results:
        return "; ".join(str(r) for r in results)
    task = next(m.content for m in messages if isinstance(m, UserMessage))
    payees = [p.split(":") for p in str(task).split()[1:]]
    return [call("transfer", amount=int(a), to=n, id=f"t{i}") for i, (n, a) in enumerate(payees)]


DECISIONS: dict[str, Callable[..., plait.ApprovalDecision]] = {
    "approve": lambda d: plait.approve(d.get("reason")),
    "deny": lambda d: plait.deny(d.get("reason")),
    "edit": lambda d: plait.edit(d["args"], d.get("reason")),
}


def _decisions(body: Any) -> dict[str, plait.ApprovalDecision]:
    """``{call_id: {"decision": ..., ...}}`` from the request body (``ValueError`` if bad)."""
    if not isinstance(body, dict):
        raise ValueError("send {call_id: {decision: approve|deny|edit, ...}}")
    try:
        return {cid: DECISIONS[d["decision"]](d) for cid, d in body.items()}
    except (KeyError, TypeError) as exc:
        raise ValueError(f"a decision is approve, deny(reason) or edit(args): {exc}") from None


def _pending(requests: Any) -> list[dict[str, Any]]:
    return [
        {"call_id": r.call_id, "tool": r.tool, "arguments": r.args, "reason": r.reason}
        for r in requests
    ]


def _outcome(result: plait.Result[Any]) -> tuple[int, dict[str, Any]]:
    data = {
        "run_id": result.run_id,
        "status": result.status,
        "output": result.output,
        "pending": _pending(result.pending),
    }
    return (202 if result.status == "paused" else 200), data


def create_app(store: str | None = None) -> ASGIApp:
    """The app, recording its runs in ``store`` (default: ``APPROVAL_STORE``, else the
    configured plait store)."""
    where: str | bool = store or os.environ.get("APPROVAL_STORE") or True
    options: dict[str, Any] = {"tools": [transfer], "store": where}

    async def start(body: Any) -> tuple[int, dict[str, Any]]:
        task = body.get("task") if isinstance(body, dict) else None
        if not isinstance(task, str):
            return 400, {"error": 'send {"task": "..."}'}
        run_id = uuid.uuid4().hex
        model = FunctionModel(clerk)
        result = await plait.arun(task, model=model, approve="pause", run_id=run_id, **options)
        return _outcome(result)

    async def show(run_id: str) -> tuple[int, dict[str, Any]]:
        try:
            pending = await plait.apending_approvals(run_id, store=where)
        except plait.StoreError as exc:
            return 404, {"error": str(exc)}
        return 200, {"run_id": run_id, "pending": _pending(pending)}

    async def decide(run_id: str, body: Any) -> tuple[int, dict[str, Any]]:
        try:
            approvals = _decisions(body)
            result = await plait.aresume(
                run_id, model=FunctionModel(clerk), approvals=approvals, **options
            )
        except plait.ApprovalError as exc:  # not paused, not pending, another call's
            return 409, {"error": str(exc)}
        except (ValueError, TypeError) as exc:
            return 400, {"error": str(exc)}
        return _outcome(result)

    async def route(method: str, path: str, body: Any) -> tuple[int, dict[str, Any]]:
        parts = path.strip("/").split("/")
        if method == "POST" and parts == ["runs"]:
            return await start(body)
        if method == "GET" and len(parts) == 2 and parts[0] == "runs":
            return await show(parts[1])
        if method == "POST" and len(parts) == 3 and parts[::2] == ["runs", "decisions"]:
            return await decide(parts[1], body)
        return 404, {"error": f"no route for {method} {path}"}

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while (message := await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        raw = b""
        while True:
            message = await receive()
            raw += message.get("body", b"")
            if not message.get("more_body"):
                break
        try:
            body = json.loads(raw) if raw else None
        except json.JSONDecodeError:
            status, data = 400, {"error": "the body is not JSON"}
        else:
            status, data = await route(scope["method"], scope["path"], body)
        payload = json.dumps(data).encode()
        headers = [(b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": payload})

    return app


async def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        app = create_app(f"sqlite:///{folder}/approvals.db")
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://inbox") as http:
            started = await http.post("/runs", json={"task": "pay eve:500 bob:20"})
            run_id = started.json()["run_id"]
            calls = [(p["call_id"], p["arguments"]) for p in started.json()["pending"]]
            print(f"POST /runs -> {started.status_code} {started.json()['status']}: {calls}")
            inbox = await http.get(f"/runs/{run_id}")
            print(f"GET /runs/ID -> {len(inbox.json()['pending'])} calls waiting")
            stale = await http.post(
                f"/runs/{run_id}/decisions", json={"t9": {"decision": "approve"}}
            )
            print(f"decision for an unknown call -> {stale.status_code}")
            decisions = {
                "t0": {"decision": "edit", "args": {"amount": 50, "to": "eve"}},
                "t1": {"decision": "deny", "reason": "bob is not a known payee"},
            }
            done = await http.post(f"/runs/{run_id}/decisions", json=decisions)
            print(f"decided -> {done.status_code} {done.json()['status']}: {done.json()['output']}")
            again = await http.post(f"/runs/{run_id}/decisions", json=decisions)
            print(f"the same decisions again -> {again.status_code} (used once)")


if __name__ == "__main__":
    anyio.run(main)
