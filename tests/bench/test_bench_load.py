"""The load benchmark must keep running, and keep its promises, at a size CI can afford.

``bench_load.py`` at small numbers, on asyncio and trio: concurrent runs with no error
and every connection back in the pool, a pool of 3 connections serving 30 slow streams
(queued, none failed, never a 4th connection), and 200 runs (20 of them cancelled
mid-stream) without a file descriptor or connection left behind. The full sizes
(1,000 / 200 / 10,000) are run by hand; see docs/reliability.md.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

HERE = Path(__file__).parent
SMALL = ["--concurrent", "100", "--rounds", "1", "--latency", "0.02", "--streams", "30",
         "--pool", "3", "--pieces", "5", "--gap", "0.01", "--sequential", "200",
         "--batch", "50", "--cancel-every", "10"]  # fmt: skip


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_load", HERE / "bench_load.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# httpx wraps a request body in an async generator (ByteStream.__aiter__); a stream
# cancelled while its request is sent leaves it suspended, and trio warns when it is
# garbage-collected (nothing leaks: the leak figures below are what says so)
@pytest.mark.filterwarnings(
    "ignore:Exception ignored in. <async_generator object ByteStream"
    ":pytest.PytestUnraisableExceptionWarning"
)
@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="counts descriptors in /proc")
@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_load_bench_keeps_its_promises(backend: str, capsys: pytest.CaptureFixture[str]) -> None:
    figures: dict[str, Any] = _load().main([*SMALL, "--backend", backend])
    capsys.readouterr()
    concurrent, exhausted, leaks = figures["concurrent"], figures["exhausted"], figures["leaks"]
    assert concurrent["errors"] == exhausted["errors"] == leaks["errors"] == 0, figures
    assert concurrent["requests"] == 2 * concurrent["runs"]  # nothing failed and retried
    assert concurrent["pool_idle"] == concurrent["pool_connections"] == concurrent["server_open"]
    assert concurrent["pool_waiting"] == 0
    assert exhausted["requests"] == 30 and exhausted["pool_timeouts"] == 0
    assert 1 <= exhausted["peak_connections"] <= 3  # queued for the pool, not beyond it
    assert leaks["runs"] == 200 and leaks["cancelled"] == 20
    assert leaks["unpooled_fd_growth"] <= 2, leaks
    assert leaks["server_open_vs_pooled"] == 0, leaks  # no socket the pools forgot
    assert figures["problems"]["found"] == []
