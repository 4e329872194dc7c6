"""ClientPool: one client per event loop, closed cleanly, no credentials in its repr."""

from __future__ import annotations

import anyio
import httpx
import pytest

from plait._http.client import ClientPool

KEY = "sk-pool-0123456789abcdef0123456789"


def test_one_client_per_event_loop() -> None:
    pool = ClientPool({"base_url": "http://127.0.0.1:9", "headers": {"authorization": KEY}})
    seen: list[httpx.AsyncClient] = []

    async def use() -> None:
        first = pool.get()
        assert pool.get() is first  # same loop, same client
        seen.append(first)
        await pool.aclose()
        assert first.is_closed

    anyio.run(use)
    anyio.run(use)
    assert seen[0] is not seen[1]
    assert KEY not in repr(pool)


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
async def test_pool_serves_many_concurrent_requests(anyio_backend: str) -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(200, json={"ok": True})

    pool = ClientPool({"transport": httpx.MockTransport(handler), "base_url": "http://test"})

    async def one() -> None:
        response = await pool.get().get("/x")
        assert response.json() == {"ok": True}

    async with anyio.create_task_group() as tg:
        for _ in range(1000):
            tg.start_soon(one)
    assert calls == 1000
    client = pool.get()
    await pool.aclose()
    await pool.aclose()  # idempotent
    assert client.is_closed
    assert pool.get() is not client  # a closed pool can be used again
    await pool.aclose()
