"""The store conformance tests of the record size cap (``max_record_bytes``).

A part of ``StoreConformance`` (which inherits it). Every JSON record a store writes — a
message, a step's payload, a run's options — is bounded: one over the cap raises
``RecordTooLarge`` and the call writes nothing. The tests open the store with
``max_record_bytes=4096`` appended to its URL (the ``capped_store_url`` fixture);
a store that refuses the option with ``ConfigError`` is skipped (it has no cap to test),
and a subclass can return ``None`` from ``capped_store_url`` to skip them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from .._contracts import Store
from .._errors import ConfigError
from .._messages import UserMessage
from .._store import NewStep, RecordTooLarge, StoreConnection

__all__ = ["RecordCapConformance"]

CAP = 4096


class RecordCapConformance:
    """The ``max_record_bytes`` tests (mixed into ``StoreConformance``)."""

    @pytest.fixture
    def capped_store_url(self, store_url: str) -> str | None:
        """``store_url`` with ``max_record_bytes=4096``; ``None`` skips the cap tests."""
        return f"{store_url}{'&' if '?' in store_url else '?'}max_record_bytes={CAP}"

    @pytest.fixture
    async def capped(
        self, store: Store, capped_store_url: str | None, anyio_backend: str
    ) -> AsyncIterator[Any]:
        if capped_store_url is None:
            pytest.skip("this store's tests opted out of the max_record_bytes tests")
        try:
            connection = store.open(capped_store_url)
        except ConfigError:
            pytest.skip("this store takes no max_record_bytes option")
        try:
            yield connection
        finally:
            await connection.aclose()

    @pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
    async def test_a_message_over_the_cap_is_refused(self, capped: StoreConnection) -> None:
        big = UserMessage(content="x" * (CAP + 1))
        with pytest.raises(RecordTooLarge, match="max_record_bytes=4096;") as info:
            await capped.append_messages("t", [UserMessage(content="fine"), big], expected_head=0)
        assert info.value.limit == CAP and info.value.size > CAP
        assert "message 2 (user)" in str(info.value)
        assert (await capped.load_messages("t")).head == 0  # not even the first one
        # bytes, not characters: 1,500 three-byte characters are 4,500 bytes
        with pytest.raises(RecordTooLarge):
            await capped.append_messages("t", [UserMessage(content="€" * 1500)], expected_head=0)
        head = await capped.append_messages("t", [UserMessage(content="y" * 1000)], expected_head=0)
        assert head == 1

    async def test_a_step_over_the_cap_writes_nothing(self, capped: StoreConnection) -> None:
        await capped.create_run("r", thread_id="t")
        await capped.append_step("r", NewStep(kind="check", payload={"ok": True}))
        big = UserMessage(content="x" * (CAP + 1))
        payload = {"messages": [big.model_dump(mode="json")]}
        with pytest.raises(RecordTooLarge, match="payload of a tool_result step of run 'r'"):
            await capped.append_step("r", NewStep(kind="tool_result", payload=payload))
        with pytest.raises(RecordTooLarge):  # its messages, appended to the thread with it
            await capped.append_step(
                "r", NewStep(kind="model_response"), messages=[big], expected_head=0
            )
        state = await capped.load_run("r")
        assert state is not None and [s.seq for s in state.steps] == [1]
        assert (await capped.load_messages("t")).head == 0
        assert (await capped.append_step("r", NewStep(kind="check"))).seq == 2

    async def test_run_options_over_the_cap_are_refused(self, capped: StoreConnection) -> None:
        with pytest.raises(RecordTooLarge, match="options of run 'r'"):
            await capped.create_run("r", options={"task": "x" * (CAP + 1)})
        assert await capped.load_run("r") is None
