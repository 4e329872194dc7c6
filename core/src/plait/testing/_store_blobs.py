"""The store conformance tests of media blobs (images, documents, audio in records).

A part of ``StoreConformance`` (which inherits it). A store keeps the bytes of a media
part once, under its ``sha256:<hex>`` key, apart from the record that mentions it: a
message, a step's payload, a run's options. Reading a record gives the bytes back;
deleting a thread deletes the blobs no other thread or run references. The tests read
the tables ``plait_messages``, ``plait_steps`` and ``plait_blobs`` through ``raw_sql``
(every store built on ``SqlEngine`` has them). The blob cap is tested by opening
``store_url`` with ``max_blob_bytes=2048`` added (skipped for a store that refuses the
option with ``ConfigError``).
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Callable
from typing import Any

import anyio
import pytest

from .._contracts import Store
from .._errors import ConfigError
from .._messages import AssistantMessage, Message, ToolResultMessage, UserMessage
from .._parts import Image, Text
from .._store import (
    BlobTooLarge,
    NewStep,
    StoreConnection,
    StoreCorrupted,
    StoreError,
    ThreadConflict,
)

__all__ = ["BlobConformance", "sample_png"]

RawSQL = Callable[[str], Any]
BLOB_CAP = 2048


def sample_png(seed: int = 0, size: int = 4096) -> bytes:
    """``size`` bytes that start like a PNG; a different ``seed`` gives different bytes."""
    body = bytes((i * 7 + seed) % 256 for i in range(size - 8))
    return b"\x89PNG\r\n\x1a\n" + body


def _look(image: Image, text: str = "What is this?") -> UserMessage:
    return UserMessage(content=[Text(text), image])


def _inline(data: bytes) -> list[str]:
    """The ways the bytes could appear inline in stored JSON (standard, URL-safe base64)."""
    return [base64.b64encode(data).decode()[:64], base64.urlsafe_b64encode(data).decode()[:64]]


class BlobConformance:
    """The media-blob tests (mixed into ``StoreConformance``)."""

    @pytest.fixture
    def blob_capped_store_url(self, store_url: str) -> str | None:
        """``store_url`` with ``max_blob_bytes=2048``; ``None`` skips the cap test."""
        return f"{store_url}{'&' if '?' in store_url else '?'}max_blob_bytes={BLOB_CAP}"

    @pytest.fixture
    async def blob_capped(
        self, store: Store, blob_capped_store_url: str | None, anyio_backend: str
    ) -> AsyncIterator[Any]:
        if blob_capped_store_url is None:
            pytest.skip("this store's tests opted out of the max_blob_bytes test")
        try:
            connection = store.open(blob_capped_store_url)
        except ConfigError:
            pytest.skip("this store takes no max_blob_bytes option")
        try:
            yield connection
        finally:
            await connection.aclose()

    @pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
    async def test_media_are_stored_once_and_read_back(
        self, conn: StoreConnection, raw_sql: RawSQL
    ) -> None:
        png = sample_png()
        image = Image.from_bytes(png, name="cat.png")
        result = ToolResultMessage(tool_call_id="c1", name="snap", content="a photo", parts=[image])
        messages: list[Message] = [
            _look(image), AssistantMessage(text="A cat."), result, _look(image, "Again?")
        ]  # fmt: skip
        await conn.append_messages("t", messages, expected_head=0)
        history = await conn.load_messages("t")
        assert history.messages == messages  # the bytes are back
        stored = [row[0] for row in raw_sql("SELECT payload FROM plait_messages")]
        assert not any(chunk in text for text in stored for chunk in _inline(png))
        assert sum(image.digest() in text for text in stored) == 3
        rows = raw_sql("SELECT key, media_type, size FROM plait_blobs")
        assert [tuple(r) for r in rows] == [(image.digest(), "image/png", len(png))]

    async def test_media_in_steps_and_run_options(
        self, conn: StoreConnection, raw_sql: RawSQL
    ) -> None:
        png, other = sample_png(1), sample_png(2)
        task = [
            Text("Describe").model_dump(mode="json"),
            Image.from_bytes(png).model_dump(mode="json"),
        ]
        await conn.create_run("r", options={"task": task})
        reply = ToolResultMessage(
            tool_call_id="c1", name="chart", content="chart", parts=[Image.from_bytes(other)]
        )
        payload = {"messages": [reply.model_dump(mode="json")], "turn": 1}
        await conn.append_step("r", NewStep(kind="tool_result", payload=payload))
        state = await conn.load_run("r")
        assert state is not None
        assert state.run.options["task"] == task and state.steps[0].payload == payload
        listed = (await conn.list_runs())[0].options["task"][1]  # listings stay light
        assert listed["blob"] == Image.from_bytes(png).digest() and listed["data"] is None
        stored = raw_sql("SELECT payload FROM plait_steps")[0][0]
        assert not any(chunk in stored for chunk in _inline(other))
        assert len(raw_sql("SELECT key FROM plait_blobs")) == 2

    async def test_a_step_appending_media_keeps_them_once(
        self, conn: StoreConnection, raw_sql: RawSQL
    ) -> None:
        image = Image.from_bytes(sample_png(3))
        await conn.create_run("r", thread_id="t")
        message = _look(image)
        body = {"messages": [message.model_dump(mode="json")]}
        await conn.append_step(
            "r", NewStep(kind="check", payload=body), messages=[message], expected_head=0
        )
        assert (await conn.load_messages("t")).messages == [message]
        state = await conn.load_run("r")
        assert state is not None and state.steps[0].payload == body
        assert len(raw_sql("SELECT key FROM plait_blobs")) == 1

    async def test_a_refused_append_writes_no_blob(
        self, conn: StoreConnection, raw_sql: RawSQL
    ) -> None:
        await conn.append_messages("t", [UserMessage(content="hi")], expected_head=0)
        with pytest.raises(ThreadConflict):
            await conn.append_messages(
                "t", [_look(Image.from_bytes(sample_png()))], expected_head=0
            )
        assert raw_sql("SELECT key FROM plait_blobs") == []
        assert raw_sql("SELECT blob FROM plait_blob_refs") == []
        assert (await conn.load_messages("t")).head == 1

    async def test_a_reference_to_a_missing_blob_is_refused(
        self, conn: StoreConnection, raw_sql: RawSQL
    ) -> None:
        ghost = Image(blob="sha256:" + "0" * 64, media_type="image/png")
        with pytest.raises(StoreError, match="does not hold"):
            await conn.append_messages("t", [_look(ghost)], expected_head=0)
        assert (await conn.load_messages("t")).head == 0
        # a reference to a blob the store holds is kept as a reference to it
        image = Image.from_bytes(sample_png())
        head = await conn.append_messages("t", [_look(image)], expected_head=0)
        ref = Image(blob=image.digest(), media_type="image/png")
        await conn.append_messages("t", [_look(ref)], expected_head=head)
        assert (await conn.load_messages("t")).messages == [_look(image), _look(image)]

    async def test_a_missing_blob_is_corruption(
        self, conn: StoreConnection, raw_sql: RawSQL
    ) -> None:
        await conn.append_messages("t", [_look(Image.from_bytes(sample_png()))], expected_head=0)
        raw_sql("DELETE FROM plait_blobs")
        with pytest.raises(StoreCorrupted, match=r"thread 't' message 1.*refers to blob 'sha256:"):
            await conn.load_messages("t")

    async def test_a_media_part_over_the_blob_cap_is_refused(
        self, blob_capped: StoreConnection
    ) -> None:
        big = Image.from_bytes(sample_png(size=BLOB_CAP + 1))
        with pytest.raises(BlobTooLarge, match="max_blob_bytes=2048;") as info:
            await blob_capped.append_messages(
                "t", [UserMessage(content="fine"), _look(big)], expected_head=0
            )
        assert (info.value.size, info.value.limit) == (BLOB_CAP + 1, BLOB_CAP)
        assert (await blob_capped.load_messages("t")).head == 0
        small = _look(Image.from_bytes(sample_png(size=BLOB_CAP)))
        assert await blob_capped.append_messages("t", [small], expected_head=0) == 1

    async def test_deleting_a_thread_deletes_the_blobs_only_it_used(
        self, conn: StoreConnection, raw_sql: RawSQL
    ) -> None:
        shared, own, kept = (Image.from_bytes(sample_png(i)) for i in (10, 11, 12))
        await conn.append_messages("a", [_look(shared), _look(own)], expected_head=0)
        await conn.append_messages("b", [_look(shared)], expected_head=0)
        await conn.create_run("solo", options={"task": [kept.model_dump(mode="json")]})
        await conn.create_run("r", thread_id="c", options={"task": [kept.model_dump(mode="json")]})

        def keys() -> set[str]:
            return {row[0] for row in raw_sql("SELECT key FROM plait_blobs")}

        assert keys() == {shared.digest(), own.digest(), kept.digest()}
        assert await conn.delete_thread("a") is True
        assert keys() == {shared.digest(), kept.digest()}
        assert (await conn.load_messages("b")).messages == [_look(shared)]
        await conn.delete_thread("b")
        await conn.delete_thread("c")
        assert keys() == {kept.digest()}  # the run without a thread still uses it
        state = await conn.load_run("solo")
        assert state is not None and state.run.options["task"] == [kept.model_dump(mode="json")]

    async def test_export_holds_the_bytes_inline(self, conn: StoreConnection) -> None:
        image = Image.from_bytes(sample_png())
        await conn.append_messages("t", [_look(image)], expected_head=0)
        exported = await conn.export_thread("t")
        assert exported is not None and exported.messages == [_look(image)]
        assert base64.b64encode(image.data or b"").decode() in exported.model_dump_json()

    async def test_blobs_survive_concurrent_deletes(self, store: Store, store_url: str) -> None:
        """Writers that add and delete threads sharing one image never lose its bytes:
        a blob is not deleted under a transaction committing a reference to it."""
        image = Image.from_bytes(sample_png(20))

        async def churner(name: str) -> None:
            own = store.open(store_url)
            try:
                for i in range(25):
                    thread = f"{name}-{i}"
                    await own.append_messages(thread, [_look(image)], expected_head=0)
                    assert (await own.load_messages(thread)).messages == [_look(image)]
                    await own.delete_thread(thread)
            finally:
                await own.aclose()

        async with anyio.create_task_group() as tg:
            for n in range(3):
                tg.start_soon(churner, f"w{n}")
