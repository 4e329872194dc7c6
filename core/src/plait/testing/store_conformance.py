"""The conformance suite every thread/run store must pass (SQLite, PostgreSQL, yours).

Subclass ``StoreConformance`` in a test module and provide three fixtures::

    class TestMyStore(StoreConformance):
        @pytest.fixture
        def store(self): return MyStore()            # the registered Store object
        @pytest.fixture
        def store_url(self): ...                     # a fresh, empty store per test
        @pytest.fixture
        def raw_sql(self, store_url): ...            # run one SQL statement on it, directly

The record size cap (``max_record_bytes``) is tested by the ``RecordCapConformance`` part
(``_store_caps.py``): it opens ``store_url`` with ``max_record_bytes=4096`` added, and is
skipped for a store that refuses that option with ``ConfigError``. Media blobs (bytes
of images, documents, audio kept once, apart from the records) are tested by the
``BlobConformance`` part (``_store_blobs.py``), its cap with ``max_blob_bytes=2048``.

``raw_sql(statement)`` lets the suite damage rows (corruption, a newer schema) the way a
crash, a bug or a newer plait would. The concurrency tests open several connections, so
they exercise the database's locking, not just one connection's serialisation.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import anyio
import pytest

from .._contracts import Store
from .._messages import (
    AssistantMessage,
    SystemMessage,
    Thinking,
    ToolCall,
    ToolResultMessage,
    UserMessage,
)
from .._store import (
    SCHEMA_VERSION,
    DuplicateRun,
    NewStep,
    SchemaTooNew,
    StepConflict,
    StoreConnection,
    StoreCorrupted,
    StoredStepKind,
    StoreError,
    ThreadConflict,
    ThreadExport,
)
from ._store_blobs import BlobConformance
from ._store_caps import RecordCapConformance

__all__ = ["StoreConformance", "sample_messages"]

RawSQL = Callable[[str], Any]


def sample_messages() -> list[Any]:
    """One message of every kind, with the fields a provider round-trip depends on."""
    return [
        SystemMessage(content="Be brief."),
        UserMessage(content="Weather in Zürich? 🌦"),
        AssistantMessage(
            text="",
            tool_calls=[ToolCall(id="c1", name="weather", arguments='{"city": "Zürich"}')],
            thinking=[Thinking(text="look it up", signature="sig==")],
            provider_data={"response_id": "r-1"},
        ),
        ToolResultMessage(tool_call_id="c1", name="weather", content="12 °C", is_error=False),
        AssistantMessage(text="12 °C and rain."),
    ]


class StoreConformance(RecordCapConformance, BlobConformance):
    """Behaviour shared by every store; see the module docstring for the fixtures to give."""

    pytestmark = pytest.mark.anyio

    @pytest.fixture
    async def conn(self, store: Store, store_url: str, anyio_backend: str) -> AsyncIterator[Any]:
        connection = store.open(store_url)
        try:
            yield connection
        finally:
            await connection.aclose()

    # --- threads ----------------------------------------------------------------------

    async def test_connection_fits_the_contract(self, conn: StoreConnection) -> None:
        assert isinstance(conn, StoreConnection)

    @pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
    async def test_thread_is_got_or_created(self, conn: StoreConnection) -> None:
        assert await conn.get_thread("support-42") is None
        first = await conn.get_or_create_thread("support-42", metadata={"customer": 7})
        again = await conn.get_or_create_thread("support-42", metadata={"ignored": True})
        assert (first.id, first.head, first.metadata) == ("support-42", 0, {"customer": 7})
        assert again == first
        assert await conn.get_thread("support-42") == first

    async def test_threads_are_listed_most_recent_first(self, conn: StoreConnection) -> None:
        for name in ("a", "b", "c"):
            await conn.get_or_create_thread(name)
        await conn.append_messages("a", [UserMessage(content="x")], expected_head=0)
        listed = [t.id for t in await conn.list_threads()]
        assert listed[0] == "a" and sorted(listed) == ["a", "b", "c"]
        assert len(await conn.list_threads(limit=2)) == 2

    # --- messages and compare-and-set ---------------------------------------------------

    @pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
    async def test_messages_round_trip(self, conn: StoreConnection) -> None:
        messages = sample_messages()
        head = await conn.append_messages("t", messages[:2], expected_head=0)
        head = await conn.append_messages("t", messages[2:], expected_head=head)
        history = await conn.load_messages("t")
        assert (history.head, history.messages) == (len(messages), messages)

    async def test_unknown_thread_has_empty_history(self, conn: StoreConnection) -> None:
        history = await conn.load_messages("nobody")
        assert (history.head, history.messages) == (0, [])

    async def test_stale_head_is_refused_and_writes_nothing(self, conn: StoreConnection) -> None:
        await conn.append_messages("t", [UserMessage(content="1")], expected_head=0)
        with pytest.raises(ThreadConflict) as info:
            await conn.append_messages("t", [UserMessage(content="late")], expected_head=0)
        assert (info.value.thread_id, info.value.expected, info.value.actual) == ("t", 0, 1)
        assert "another run appended" in str(info.value)
        assert (await conn.load_messages("t")).messages == [UserMessage(content="1")]

    async def test_nonzero_head_on_missing_thread_conflicts(self, conn: StoreConnection) -> None:
        with pytest.raises(ThreadConflict) as info:
            await conn.append_messages("ghost", [UserMessage(content="x")], expected_head=3)
        assert info.value.actual is None
        assert await conn.get_thread("ghost") is None

    async def test_concurrent_appenders_never_interleave(
        self, store: Store, store_url: str, conn: StoreConnection
    ) -> None:
        await conn.get_or_create_thread("shared")
        winners: dict[int, list[str]] = {}
        conflicts = 0

        async def writer(name: str) -> None:
            nonlocal conflicts
            own = store.open(store_url)
            try:
                for block in range(5):
                    while True:
                        head = (await own.load_messages("shared")).head
                        batch = [UserMessage(content=f"{name}-{block}-{i}") for i in range(3)]
                        try:
                            await own.append_messages("shared", batch, expected_head=head)
                        except ThreadConflict:
                            conflicts += 1
                            continue
                        winners.setdefault(head, []).append(name)
                        break
            finally:
                await own.aclose()

        async with anyio.create_task_group() as tg:
            for name in ("w0", "w1", "w2", "w3"):
                tg.start_soon(writer, name)
        history = await conn.load_messages("shared")
        contents = [m.text for m in history.messages if isinstance(m, UserMessage)]
        blocks = [contents[i : i + 3] for i in range(0, len(contents), 3)]
        assert history.head == 4 * 5 * 3
        assert all(len({c.rsplit("-", 1)[0] for c in block}) == 1 for block in blocks)
        assert all(len(names) == 1 for names in winners.values())  # one winner per head
        assert sorted(winners) == list(range(0, 60, 3))

    # --- runs ---------------------------------------------------------------------------

    async def test_run_is_created_updated_and_listed(self, conn: StoreConnection) -> None:
        run = await conn.create_run(
            "run-1", thread_id="t", agent="helper", options={"model": "test:echo", "turns": 8}
        )
        assert (run.status, run.ended_at, run.options["turns"]) == ("running", None, 8)
        assert (await conn.get_thread("t")) is not None
        await conn.create_run("run-2", agent="other")
        ended = await conn.update_run("run-1", status="failed", error="tool exploded")
        assert (ended.status, ended.error) == ("failed", "tool exploded")
        assert ended.ended_at is not None and ended.ended_at >= ended.started_at
        assert [r.id for r in await conn.list_runs(thread_id="t")] == ["run-1"]
        assert [r.id for r in await conn.list_runs(status="running")] == ["run-2"]
        assert {r.id for r in await conn.list_runs()} == {"run-1", "run-2"}

    async def test_run_ids_are_unique(self, conn: StoreConnection) -> None:
        await conn.create_run("dup")
        with pytest.raises(DuplicateRun, match="dup"):
            await conn.create_run("dup")

    async def test_unknown_runs(self, conn: StoreConnection) -> None:
        assert await conn.load_run("missing") is None
        with pytest.raises(StoreError, match="missing"):
            await conn.update_run("missing", status="success")
        with pytest.raises(StoreError, match="missing"):
            await conn.append_step("missing", NewStep(kind="check"))

    # --- steps --------------------------------------------------------------------------

    @pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
    async def test_steps_are_numbered_and_loaded_in_order(self, conn: StoreConnection) -> None:
        await conn.create_run("r")
        kinds: list[StoredStepKind] = [
            "model_response",
            "tool_started",
            "tool_result",
            "check",
            "completion",
        ]
        for i, kind in enumerate(kinds):
            payload = {"i": i, "ü": [1.5, None]}
            step = await conn.append_step("r", NewStep(kind=kind, payload=payload))
            assert step.seq == i + 1
        state = await conn.load_run("r")
        assert state is not None
        assert [(s.seq, s.kind, s.payload["i"]) for s in state.steps] == [
            (i + 1, k, i) for i, k in enumerate(kinds)
        ]
        assert state.steps[0].payload["ü"] == [1.5, None] and state.last_seq == 5

    async def test_explicit_seq_must_be_next(self, conn: StoreConnection) -> None:
        await conn.create_run("r")
        await conn.append_step("r", NewStep(kind="check"), seq=1)
        with pytest.raises(StepConflict, match="next is 2"):
            await conn.append_step("r", NewStep(kind="check"), seq=1)
        assert (await conn.append_step("r", NewStep(kind="check"), seq=2)).seq == 2

    async def test_an_ended_run_takes_no_more_steps(self, conn: StoreConnection) -> None:
        await conn.create_run("r")
        await conn.append_step("r", NewStep(kind="completion", payload={"status": "success"}))
        await conn.update_run("r", status="success")
        with pytest.raises(StepConflict, match="ended with status 'success'"):
            await conn.append_step("r", NewStep(kind="check"))
        await conn.update_run("r", status="running")  # resuming it
        assert (await conn.append_step("r", NewStep(kind="check"))).seq == 2

    async def test_idempotency_keys_tell_what_was_done(self, conn: StoreConnection) -> None:
        await conn.create_run("r")
        started = NewStep(kind="tool_started", payload={"name": "pay"}, idempotency_key="r:c1")
        await conn.append_step("r", started)
        await conn.append_step("r", NewStep(kind="tool_started", idempotency_key="r:c2"))
        await conn.append_step(
            "r", NewStep(kind="tool_result", payload={"ok": 1}, idempotency_key="r:c1")
        )
        with pytest.raises(StepConflict, match="r:c1"):
            await conn.append_step("r", NewStep(kind="tool_result", idempotency_key="r:c1"))
        state = await conn.load_run("r")
        assert state is not None
        recorded = state.recorded("r:c1")
        assert recorded is not None and recorded.payload == {"ok": 1}
        assert state.recorded("r:c2") is None
        assert [s.idempotency_key for s in state.unfinished_calls()] == ["r:c2"]

    async def test_step_and_its_messages_are_one_transaction(self, conn: StoreConnection) -> None:
        await conn.create_run("r", thread_id="t")
        head = await conn.append_messages("t", [UserMessage(content="hi")], expected_head=0)
        reply = AssistantMessage(text="hello")
        step = await conn.append_step(
            "r", NewStep(kind="model_response"), messages=[reply], expected_head=head
        )
        assert step.seq == 1
        await conn.append_messages("t", [UserMessage(content="other run")], expected_head=2)
        with pytest.raises(ThreadConflict):
            await conn.append_step(
                "r", NewStep(kind="model_response"), messages=[reply], expected_head=2
            )
        state = await conn.load_run("r")
        assert state is not None and state.last_seq == 1  # the refused step was not written
        assert (await conn.load_messages("t")).head == 3

    async def test_unserialisable_payload_is_refused(self, conn: StoreConnection) -> None:
        await conn.create_run("r")
        with pytest.raises(StoreError, match="not JSON-serialisable"):
            await conn.append_step("r", NewStep(kind="check", payload={"x": object()}))
        state = await conn.load_run("r")
        assert state is not None and state.steps == []

    async def test_concurrent_step_writers_get_distinct_seqs(
        self, store: Store, store_url: str, conn: StoreConnection
    ) -> None:
        await conn.create_run("r")
        taken: list[int] = []

        async def writer(n: int) -> None:
            own = store.open(store_url)
            try:
                for i in range(10):
                    step = await own.append_step(
                        "r", NewStep(kind="check", payload={"w": n, "i": i})
                    )
                    taken.append(step.seq)
            finally:
                await own.aclose()

        async with anyio.create_task_group() as tg:
            for n in range(3):
                tg.start_soon(writer, n)
        state = await conn.load_run("r")
        assert state is not None
        assert sorted(taken) == [s.seq for s in state.steps] == list(range(1, 31))

    async def test_cancelled_call_leaves_whole_steps(self, conn: StoreConnection) -> None:
        await conn.create_run("r")
        for _ in range(20):
            with anyio.move_on_after(0.0005):  # cancelled at some point of the call, or not
                await conn.append_step("r", NewStep(kind="check", payload={"blob": "x" * 10_000}))
        state = await conn.load_run("r")
        assert state is not None
        assert [s.seq for s in state.steps] == list(range(1, state.last_seq + 1))
        assert all(s.payload == {"blob": "x" * 10_000} for s in state.steps)
        assert (await conn.append_step("r", NewStep(kind="check"))).seq == state.last_seq + 1

    # --- threads as a whole -------------------------------------------------------------

    async def test_export_and_delete(self, conn: StoreConnection) -> None:
        await conn.create_run("r", thread_id="t")
        await conn.append_messages("t", sample_messages(), expected_head=0)
        await conn.append_step("r", NewStep(kind="completion", payload={"status": "success"}))
        exported = await conn.export_thread("t")
        assert exported is not None
        assert ThreadExport.model_validate_json(exported.model_dump_json()) == exported
        assert exported.messages == sample_messages()
        assert [s.kind for s in exported.runs[0].steps] == ["completion"]
        assert await conn.delete_thread("t") is True
        assert await conn.delete_thread("t") is False
        assert await conn.load_run("r") is None
        assert (await conn.load_messages("t")).messages == []
        assert await conn.export_thread("t") is None

    async def test_data_outlives_the_connection(self, store: Store, store_url: str) -> None:
        first = store.open(store_url)
        await first.create_run("r", thread_id="t")
        await first.append_step("r", NewStep(kind="check", payload={"ok": True}))
        await first.aclose()
        second = store.open(store_url)
        try:
            state = await second.load_run("r")
            assert state is not None and state.steps[0].payload == {"ok": True}
        finally:
            await second.aclose()

    async def test_closed_connection_refuses_calls(self, store: Store, store_url: str) -> None:
        connection = store.open(store_url)
        await connection.get_or_create_thread("t")
        await connection.aclose()
        await connection.aclose()  # idempotent
        with pytest.raises(StoreError, match="closed"):
            await connection.get_thread("t")

    # --- damage: what a crash, a bug or a newer plait leaves behind ---------------------

    async def test_corrupt_step_names_run_and_seq(
        self, conn: StoreConnection, raw_sql: RawSQL
    ) -> None:
        await conn.create_run("run-x")
        for _ in range(3):
            await conn.append_step("run-x", NewStep(kind="check"))
        raw_sql("UPDATE plait_steps SET payload = '{not json' WHERE run_id = 'run-x' AND seq = 2")
        with pytest.raises(StoreCorrupted, match=r"run 'run-x' step 2: payload is not valid JSON"):
            await conn.load_run("run-x")

    async def test_unknown_payload_version_is_corrupt(
        self, conn: StoreConnection, raw_sql: RawSQL
    ) -> None:
        await conn.create_run("run-x")
        await conn.append_step("run-x", NewStep(kind="check"))
        raw_sql("UPDATE plait_steps SET v = 99 WHERE run_id = 'run-x'")
        with pytest.raises(StoreCorrupted, match=r"step 1: unknown payload version 99"):
            await conn.load_run("run-x")

    async def test_corrupt_message_names_thread_and_position(
        self, conn: StoreConnection, raw_sql: RawSQL
    ) -> None:
        await conn.append_messages("t", sample_messages(), expected_head=0)
        raw_sql('UPDATE plait_messages SET payload = \'{"role": "robot"}\' WHERE position = 3')
        with pytest.raises(StoreCorrupted, match=r"thread 't' message 3"):
            await conn.load_messages("t")

    async def test_newer_schema_is_refused(
        self, store: Store, store_url: str, conn: StoreConnection, raw_sql: RawSQL
    ) -> None:
        await conn.get_or_create_thread("t")  # the first call migrates
        newer = SCHEMA_VERSION + 1
        raw_sql(f"INSERT INTO plait_schema_version (version, applied_at) VALUES ({newer}, 0)")
        later = store.open(store_url)
        try:
            with pytest.raises(SchemaTooNew, match=f"schema version {newer}.*upgrade plait"):
                await later.get_thread("t")
        finally:
            await later.aclose()

    async def test_migrations_run_once(self, store: Store, store_url: str, raw_sql: RawSQL) -> None:
        for _ in range(3):
            connection = store.open(store_url)
            await connection.list_threads()
            await connection.aclose()
        rows = raw_sql("SELECT version FROM plait_schema_version ORDER BY version")
        assert [r[0] for r in rows] == list(range(1, SCHEMA_VERSION + 1))
