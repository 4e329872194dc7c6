"""examples/approval_app.py end to end through ``httpx.ASGITransport``: a task pauses on
one app instance, the decisions arrive at another (as on a second worker process)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

APP = Path(__file__).resolve().parents[2] / "examples" / "approval_app.py"


@pytest.fixture
def example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("approval_app", APP)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _client(example: ModuleType, db: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=example.create_app(db))
    return httpx.AsyncClient(transport=transport, base_url="http://inbox")


@pytest.mark.anyio
async def test_pause_on_one_worker_and_decide_on_another(example: ModuleType, db: str) -> None:
    async with _client(example, db) as first, _client(example, db) as second:
        started = await first.post("/runs", json={"task": "pay eve:500 bob:20 ann:3"})
        assert started.status_code == 202
        body: dict[str, Any] = started.json()
        assert body["status"] == "paused" and body["output"] is None
        assert [p["call_id"] for p in body["pending"]] == ["t0", "t1", "t2"]
        assert body["pending"][0] == {
            "call_id": "t0",
            "tool": "transfer",
            "arguments": {"amount": 500, "to": "eve"},
            "reason": "the tool requires approval",
        }
        run_id = body["run_id"]
        inbox = await second.get(f"/runs/{run_id}")
        assert inbox.status_code == 200 and len(inbox.json()["pending"]) == 3

        decisions = {
            "t0": {"decision": "approve"},
            "t1": {"decision": "deny", "reason": "unknown payee"},
            "t2": {"decision": "edit", "args": {"amount": 30, "to": "ann"}},
        }
        done = await second.post(f"/runs/{run_id}/decisions", json=decisions)
        assert done.status_code == 200
        assert done.json()["output"] == (
            "sent 500 to eve; Tool 'transfer' was not approved: unknown payee.; sent 30 to ann"
        )
        replay = await first.post(f"/runs/{run_id}/decisions", json=decisions)
        assert replay.status_code == 409 and "is not paused" in replay.json()["error"]
        emptied = await first.get(f"/runs/{run_id}")
        assert emptied.json()["pending"] == []


@pytest.mark.anyio
async def test_bad_requests_are_told_apart(example: ModuleType, db: str) -> None:
    async with _client(example, db) as http:
        assert (await http.post("/runs", json={"job": 1})).status_code == 400
        assert (await http.get("/runs/nope")).status_code == 404
        assert (await http.get("/elsewhere")).status_code == 404
        run_id = (await http.post("/runs", json={"task": "pay eve:5"})).json()["run_id"]
        bad = await http.post(f"/runs/{run_id}/decisions", json={"t0": {"decision": "maybe"}})
        assert bad.status_code == 400
        stale = await http.post(f"/runs/{run_id}/decisions", json={"t7": {"decision": "approve"}})
        assert stale.status_code == 409 and "no call 't7'" in stale.json()["error"]
        still = await http.get(f"/runs/{run_id}")
        assert [p["call_id"] for p in still.json()["pending"]] == ["t0"]
