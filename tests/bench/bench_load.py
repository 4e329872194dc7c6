"""Load benchmark (issue 12): many runs on one kernel against a loopback server.

Run by hand:  python tests/bench/bench_load.py [--concurrent 1000] [--rounds 3]
              [--latency 0.2] [--streams 200] [--pool 10] [--sequential 10000]
              [--batch 100] [--cancel-every 20] [--backend asyncio|trio] [--json]

Exits 1 when a promise is broken (``problems``): an error, a connection not returned
to its pool, a retried request, more connections than the pool allows, a leak.

One OpenAI-compatible server (``_load_server.py``, in its own process, on 127.0.0.1)
counts the connections it has open, the most it had at once and the requests it
answered. The client is one kernel and plait-openai; every answer is held
``--latency`` seconds (so the runs really are in flight together). It measures:

* **concurrent**: ``--rounds`` x ``--concurrent`` ``plait.arun`` at once (a tool call,
  then the final answer: two requests each) on the default pool (512 connections):
  errors, wall time, RSS growth, and afterwards the pool's connections (all idle,
  nobody waiting) against the server's count of open ones;
* **pool exhaustion**: ``--streams`` streamed runs at once through a pool of ``--pool``
  connections, each answer trickling in (``--pieces`` pieces ``--gap`` s apart): every
  run must queue for a connection and succeed (no pool timeout, no retried request);
* **leaks**: ``--sequential`` runs in batches of ``--batch`` (one run in
  ``--cancel-every`` is a slow stream cancelled mid-answer): open file descriptors and
  sockets of the process, outside the pools' own connections, before and after.

Linux only (``/proc``). ``tests/bench/test_bench_load.py`` runs ``main`` with small
numbers on asyncio and trio; the figures are in docs/reliability.md.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import httpx

import plait
from plait.testing import make_kernel

SERVER = Path(__file__).with_name("_load_server.py")
KEY = "sk-bench-not-a-real-key"
PROMPT = "What is the weather in Paris?"
Job = Callable[[], Awaitable[str | None]]  # None, or what went wrong
STREAMED = plait.ModelSettings(stream=True)


def get_weather(city: str) -> str:
    """Weather in a city."""
    return f"{city}: sunny, 21 degrees"


# --- what the client process measures --------------------------------------------------


def _fds() -> tuple[int, int]:
    """Open file descriptors of this process, and how many of them are sockets."""
    fds = sockets = 0
    for entry in os.scandir("/proc/self/fd"):
        try:
            target = os.readlink(entry.path)
        except OSError:  # the descriptor scandir itself used, closed meanwhile
            continue
        fds += 1
        sockets += target.startswith("socket:")
    return fds, sockets


def _rss_mib() -> tuple[float, float]:
    """This process's resident memory now and at its peak (VmRSS, VmHWM), in MiB."""
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def _pool(model: Any) -> tuple[int, int, int]:
    """(connections, idle ones, requests waiting) of a model's httpx pool.

    Reads httpx/httpcore internals on purpose: the benchmark checks what the pool holds.
    """
    pool = model._pool.get()._transport._pool
    conns = pool.connections
    return len(conns), sum(c.is_idle() for c in conns), len(pool._requests)


async def _server(probe: httpx.AsyncClient, reset: bool = False) -> dict[str, int]:
    """The server's figures (and a reset of its peak and request count)."""
    return dict((await probe.get("/stats?reset" if reset else "/stats")).json())


async def _batch(n: int, job: Job) -> list[str]:
    """Run ``n`` jobs at once; what went wrong in each failed one."""
    errors: list[str] = []

    async def one() -> None:
        error = await job()
        if error is not None:
            errors.append(error)

    async with anyio.create_task_group() as tg:
        for _ in range(n):
            tg.start_soon(one)
    return errors


def _runner(model: Any, kernel: Any, **options: Any) -> Job:
    """A job: one ``plait.arun``; any exception or unsuccessful end is an error."""
    tools = [get_weather] if model.model_id.startswith("tool:") else []

    async def job() -> str | None:
        try:
            result = await plait.arun(PROMPT, model=model, tools=tools, kernel=kernel, **options)
        except Exception as exc:
            return f"{type(exc).__name__}: {exc}"
        if result.status != "success" or not str(result.output):
            return f"ended {result.status}: {result.error!r}"
        return None

    return job


def _cancelled(model: Any, kernel: Any, after: float) -> Job:
    """A job: a streamed run cancelled ``after`` seconds in (mid-answer); never an error."""
    run = _runner(model, kernel, settings=STREAMED)

    async def job() -> str | None:
        with anyio.move_on_after(after):
            return f"not cancelled: {await run()}"
        return None

    return job


# --- the three measures ----------------------------------------------------------------


async def concurrent(
    probe: httpx.AsyncClient, kernel: Any, model: Any, n: int, rounds: int
) -> dict[str, Any]:
    """``rounds`` x ``n`` runs at once on the default pool; memory and pool afterwards."""
    job = _runner(model, kernel)
    await _batch(min(n, 20), job)  # warm-up: imports, caches, first connections
    gc.collect()
    rss_start, _ = _rss_mib()
    await _server(probe, reset=True)
    walls, errors, rss = [], [], []
    for _ in range(rounds):
        began = time.perf_counter()
        errors += await _batch(n, job)
        walls.append(time.perf_counter() - began)
        rss.append(_rss_mib()[0])
    await anyio.sleep(0.5)  # let the connections the pool closed reach the server
    conns, idle, waiting = _pool(model)
    server = await _server(probe)
    return {
        "runs": n * rounds, "errors": len(errors), "first_errors": errors[:3],
        "wall_s_median": statistics.median(walls), "runs_per_s": n / statistics.median(walls),
        "requests": server["requests"], "rss_start_mib": rss_start,
        "rss_peak_growth_mib": _rss_mib()[1] - rss_start,
        "rss_growth_after_first_round_mib": rss[-1] - rss[0],
        "pool_connections": conns, "pool_idle": idle, "pool_waiting": waiting,
        "server_open": server["open"], "server_peak_open": server["peak"],
    }  # fmt: skip


async def exhausted(probe: httpx.AsyncClient, kernel: Any, model: Any, streams: int, pool: int,
                    stream_s: float) -> dict[str, Any]:  # fmt: skip
    """``streams`` slow streamed runs at once through a pool of ``pool`` connections."""
    others = (await _server(probe, reset=True))["open"]  # idle in the other pools
    began, job = time.perf_counter(), _runner(model, kernel, settings=STREAMED)
    errors = await _batch(streams, job)
    wall = time.perf_counter() - began
    server = await _server(probe)
    return {
        "streams": streams, "pool": pool, "errors": len(errors), "first_errors": errors[:3],
        "pool_timeouts": sum("pool" in e.lower() for e in errors), "wall_s": wall,
        "queued_wall_s_ideal": math.ceil(streams / pool) * stream_s,
        "requests": server["requests"], "peak_connections": server["peak"] - others,
    }  # fmt: skip


async def leaks(probe: httpx.AsyncClient, kernel: Any, model: Any, slow: Any,
                args: argparse.Namespace, stream_s: float) -> dict[str, Any]:  # fmt: skip
    """``args.sequential`` runs in batches; descriptors outside the pools, before and after."""
    cancels = args.batch // args.cancel_every if args.cancel_every else 0
    run, cancel = _runner(model, kernel), _cancelled(slow, kernel, stream_s / 4)

    async def batch() -> list[str]:
        errors: list[str] = []

        async def part(n: int, job: Job) -> None:
            errors.extend(await _batch(n, job))

        async with anyio.create_task_group() as tg:
            tg.start_soon(part, cancels, cancel)
            tg.start_soon(part, args.batch - cancels, run)
        return errors

    async def snapshot() -> tuple[int, int, int, float]:
        await anyio.sleep(0.5)  # closed connections: let both ends see it
        gc.collect()
        fds, sockets = _fds()
        return fds, sockets, _pool(model)[0] + _pool(slow)[0], _rss_mib()[0]

    await batch()  # warm-up: the pools reach their working size
    fds0, sockets0, pooled0, rss0 = await snapshot()
    errors: list[str] = []
    began, batches = time.perf_counter(), max(1, args.sequential // args.batch)
    for _ in range(batches):
        errors += await batch()
    wall = time.perf_counter() - began
    fds1, sockets1, pooled1, rss1 = await snapshot()
    server = await _server(probe)
    return {
        "runs": batches * args.batch, "cancelled": batches * cancels, "errors": len(errors),
        "first_errors": errors[:3], "wall_s": wall,
        "fds_before": fds0, "fds_after": fds1, "sockets_before": sockets0,
        "sockets_after": sockets1, "pooled_before": pooled0, "pooled_after": pooled1,
        "unpooled_fd_growth": (fds1 - pooled1) - (fds0 - pooled0),
        "server_open": server["open"], "rss_growth_mib": rss1 - rss0,
    }  # fmt: skip


async def measure(base: str, args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    """All three measures on one kernel; the models close at the end."""
    from plait_openai.provider import OpenAIProvider

    provider, kernel = OpenAIProvider("openai"), make_kernel()
    url, slow_id = f"{base}/v1", f"slow:{args.pieces}:{args.gap}"
    limits = httpx.Limits(max_connections=args.pool, max_keepalive_connections=args.pool)
    tool = provider.model(f"tool:{args.latency}", base_url=url, api_key=KEY)
    narrow = provider.model(slow_id, base_url=url, api_key=KEY, limits=limits)
    slow = provider.model(slow_id, base_url=url, api_key=KEY)
    stream_s = args.pieces * args.gap
    # the benchmark's own connection to the server: opened once, never counted
    probe = httpx.AsyncClient(base_url=base, limits=httpx.Limits(keepalive_expiry=None))
    try:
        out = {"concurrent": await concurrent(probe, kernel, tool, args.concurrent, args.rounds)}
        out["exhausted"] = await exhausted(probe, kernel, narrow, args.streams, args.pool, stream_s)
        out["leaks"] = await leaks(probe, kernel, tool, slow, args, stream_s)
        pooled = sum(_pool(m)[0] for m in (tool, narrow, slow))
        out["leaks"]["server_open_vs_pooled"] = out["leaks"]["server_open"] - pooled
    finally:
        for model in (tool, narrow, slow):
            await model.aclose()
        await kernel.aclose()
        await probe.aclose()
        # A cancelled request leaves httpx's request-body generator suspended; collect it
        # while this event loop still runs to finalize it (not in the next test's loop).
        gc.collect()
        await anyio.sleep(0.1)
    return out


def problems(figures: dict[str, dict[str, Any]], fd_tolerance: int = 2) -> list[str]:
    """What breaks issue 12's promises in these figures (empty: all kept)."""
    c, x, s = figures["concurrent"], figures["exhausted"], figures["leaks"]
    found = [f"{name}: {f['errors']} errors, e.g. {f['first_errors']}"
             for name, f in figures.items() if f["errors"]]  # fmt: skip
    if c["pool_waiting"] or c["pool_idle"] != c["pool_connections"]:
        found.append(f"concurrent: connections not returned to the pool: {c}")
    if c["requests"] != 2 * c["runs"] or x["requests"] != x["streams"]:
        found.append("a request was retried (a failure the retry layer hid)")
    if x["peak_connections"] > x["pool"]:
        found.append(f"exhausted: {x['peak_connections']} connections for a pool of {x['pool']}")
    if s["unpooled_fd_growth"] > fd_tolerance or s["server_open_vs_pooled"] > 0:
        found.append(f"leaks: descriptors or connections leaked: {s}")
    return found


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    add = parser.add_argument
    add("--concurrent", type=int, default=1000, help="runs at once (default 1000)")
    add("--rounds", type=int, default=3, help="rounds of concurrent runs (default 3)")
    add("--latency", type=float, default=0.2, help="seconds the server holds each answer")
    add("--streams", type=int, default=200, help="slow streams at once (default 200)")
    add("--pool", type=int, default=10, help="connections of their pool (default 10)")
    add("--pieces", type=int, default=20, help="pieces per slow stream (default 20)")
    add("--gap", type=float, default=0.01, help="seconds between pieces (default 0.01)")
    add("--sequential", type=int, default=10_000, help="runs of the leak check (default 10000)")
    add("--batch", type=int, default=100, help="runs at once in the leak check (default 100)")
    add("--cancel-every", type=int, default=20, help="1 run in N cancelled mid-stream")
    add("--backend", choices=("asyncio", "trio"), default="asyncio")
    add("--json", action="store_true", help="print the figures as JSON")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict[str, dict[str, Any]]:
    """Start the server process, measure on ``--backend``, print and return the figures."""
    args = _parse(argv)
    server = subprocess.Popen([sys.executable, str(SERVER)], stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        base = f"http://127.0.0.1:{int(server.stdout.readline())}"
        figures = anyio.run(measure, base, args, backend=args.backend)
    finally:
        server.kill()  # our own child, by its handle
        server.wait()
        if server.stdout is not None:
            server.stdout.close()
    figures["problems"] = {"found": problems(figures)}
    if args.json:
        print(json.dumps(figures, indent=1))
    else:
        for name, values in figures.items():
            print(name, " ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}"
                                  for k, v in values.items()))  # fmt: skip
    return figures


if __name__ == "__main__":
    sys.exit(1 if main()["problems"]["found"] else 0)
