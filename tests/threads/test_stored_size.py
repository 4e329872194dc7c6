"""Stored records are bounded: a message, a step or a run's options over the store's
``max_record_bytes`` raises ``RecordTooLarge``, writes nothing, and ends the run ``failed``
in the store with everything recorded before it kept."""

from __future__ import annotations

import pickle
from typing import Any

import pytest

import plait
from plait import ConfigError
from plait._kernel import Kernel
from plait._store._sqlite import SQLiteStore
from plait._store._url import parse_sqlite_url
from plait.store import DEFAULT_MAX_RECORD_BYTES, RecordTooLarge, StoreError
from plait.testing import ScriptedModel, call


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def capped(db: str) -> str:
    return f"{db}?max_record_bytes=4096"


@plait.tool(idempotent=True)
def dump(size: int) -> str:
    """Return ``size`` characters."""
    return "x" * size


async def _state(db: str, run_id: str) -> Any:
    async with SQLiteStore().open(db) as conn:
        return await conn.load_run(run_id), await conn.load_messages("t")


@pytest.mark.anyio
async def test_an_oversized_tool_result_ends_the_run_and_keeps_what_was_recorded(
    db: str, capped: str, kernel: Kernel
) -> None:
    model = ScriptedModel([[call("dump", size=10_000, id="c1")], "never asked"])
    with pytest.raises(RecordTooLarge, match="max_record_bytes=4096") as info:
        await plait.arun("dump it", model=model, tools=[dump], store=capped, thread="t",
                         run_id="r1", kernel=kernel)  # fmt: skip
    assert info.value.limit == 4096 and info.value.size > 10_000
    assert len(model.requests) == 1  # the run stopped at the refused step
    state, history = await _state(db, "r1")
    assert state.run.status == "failed" and "max_record_bytes" in (state.run.error or "")
    assert [s.kind for s in state.steps] == ["model_response"]  # recorded before: kept
    assert [m.role for m in history.messages] == ["user", "assistant"]  # no half-written turn
    # resuming gives the failed run as it was recorded; nothing runs again
    again = await plait.aresume("r1", store=db, tools=[dump], kernel=kernel,
                                raise_on_failure=False)  # fmt: skip
    assert again.status == "failed" and "max_record_bytes" in (again.error or "")


@pytest.mark.anyio
async def test_an_oversized_task_is_refused_before_the_model_is_asked(
    db: str, capped: str, kernel: Kernel
) -> None:
    model = ScriptedModel(["never asked"])
    with pytest.raises(RecordTooLarge, match="options of run 'r1'"):
        await plait.arun("y" * 5000, model=model, store=capped, run_id="r1", kernel=kernel)
    assert model.requests == []
    state, _ = await _state(db, "r1")
    assert state is None


@pytest.mark.anyio
async def test_records_within_the_cap_are_kept(db: str, capped: str, kernel: Kernel) -> None:
    model = ScriptedModel([[call("dump", size=2000, id="c1")], "done"])
    result = await plait.arun("dump it", model=model, tools=[dump], store=capped, thread="t",
                              run_id="r1", kernel=kernel)  # fmt: skip
    assert result.ok
    state, history = await _state(db, "r1")
    assert state.run.status == "success" and len(history.messages) == 4


def test_the_cap_is_a_store_url_option() -> None:
    assert DEFAULT_MAX_RECORD_BYTES == 16 * 1024 * 1024
    assert parse_sqlite_url("sqlite:///x.db").max_record_bytes == DEFAULT_MAX_RECORD_BYTES
    assert parse_sqlite_url("sqlite:///x.db?max_record_bytes=65536").max_record_bytes == 65536
    for bad in ("abc", "100", "-5", "1e6", ""):
        with pytest.raises(ConfigError, match="max_record_bytes must be a whole number"):
            parse_sqlite_url(f"sqlite:///x.db?max_record_bytes={bad}")
    with pytest.raises(
        ConfigError, match="allowed: busy_timeout, max_blob_bytes, max_record_bytes, synchronous"
    ):
        parse_sqlite_url("sqlite:///x.db?max_message_bytes=5000")


def test_the_error_is_a_picklable_store_error() -> None:
    error = RecordTooLarge("too large", 5000, 4096)
    again = pickle.loads(pickle.dumps(error))
    assert isinstance(again, RecordTooLarge) and isinstance(again, StoreError)
    assert (str(again), again.size, again.limit) == ("too large", 5000, 4096)
