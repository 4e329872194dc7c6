"""Provider benchmark (issue 4): plait-openai against a raw httpx loop, on one mock server.

Run by hand:  python tests/bench/bench_providers.py [--runs 300] [--rounds 5]
              [--concurrency 1,100,1000] [--clients raw,plait-model,plait-run,...]

One loopback OpenAI-compatible server (``_openai_mock.py``) runs in its own process.
Each client runs in a fresh process of its own, interleaved round by round
(raw, plait, peers, raw, plait, ...), and reports:

* CPU per tool run: ``time.process_time`` around N sequential tool round trips
  (call 1 answers a tool call, call 2 the final text), client process only;
* runs/s at each concurrency (C workers sharing one client, ``max(runs, C)`` runs);
* memory per in-flight run: tracemalloc growth once the slow server holds all C runs;
* CPU per streamed chunk: N streams of 500 chunks, process time / chunks.

Clients: ``raw`` (hand-written httpx loop, the baseline), ``plait-model`` (plait-openai
model through ``request_with_retry`` / ``stream_with_retry``), ``plait-run`` (the full
``plait.arun`` loop, unwatched: unstreamed turns, like the peers' ``run``), and, when
the optional ``bench`` dependency group is installed, ``pydantic-ai`` and
``openai-agents``. Figures are medians over
rounds; ratios are to ``raw``.
"""

from __future__ import annotations

import argparse
import gc
import json
import multiprocessing
import socket
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import httpx

sys.path.insert(0, str(Path(__file__).parent))
from _openai_mock import FINAL_TEXT, SLOW_SECONDS, serve

KEY = "sk-bench-not-a-real-key"
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Weather in a city.",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
            },
        },
    }
]
PROMPT = "What is the weather in Paris?"
SLOW_PROMPT = PROMPT + " [slow]"  # the mock server holds these requests
ALL_CLIENTS = ("raw", "plait-model", "plait-run", "pydantic-ai", "openai-agents")


def get_weather(city: str) -> str:
    """Weather in a city."""
    return f"{city}: sunny, 21 degrees"


def _limits() -> httpx.Limits:
    return httpx.Limits(max_connections=1000, max_keepalive_connections=1000)


# --- clients: each offers tool_run(prompt) -> final text, and stream_run() -> chunks -----------


class Raw:
    """The baseline: the two requests written by hand with httpx."""

    async def setup(self, base: str) -> None:
        self.client = httpx.AsyncClient(
            base_url=f"{base}/v1",
            headers={"authorization": f"Bearer {KEY}"},
            limits=_limits(),
            timeout=60,
        )

    async def tool_run(self, prompt: str = PROMPT) -> str:
        model = "bench-tool"
        messages: list[dict[str, Any]] = [{"role": "user", "content": prompt}]
        r = await self.client.post(
            "/chat/completions", json={"model": model, "messages": messages, "tools": TOOLS}
        )
        r.raise_for_status()
        message = r.json()["choices"][0]["message"]
        call = message["tool_calls"][0]
        result = get_weather(**json.loads(call["function"]["arguments"]))
        messages += [message, {"role": "tool", "tool_call_id": call["id"], "content": result}]
        r = await self.client.post(
            "/chat/completions", json={"model": model, "messages": messages, "tools": TOOLS}
        )
        r.raise_for_status()
        return str(r.json()["choices"][0]["message"]["content"])

    async def stream_run(self) -> int:
        chunks = 0
        body = {
            "model": "bench-stream",
            "messages": [{"role": "user", "content": PROMPT}],
            "stream": True,
        }
        async with self.client.stream("POST", "/chat/completions", json=body) as r:
            async for line in r.aiter_lines():
                if line.startswith("data: "):
                    if line == "data: [DONE]":
                        continue
                    for choice in json.loads(line[6:])["choices"]:
                        if choice["delta"].get("content"):
                            chunks += 1
        return chunks

    async def aclose(self) -> None:
        await self.client.aclose()


class PlaitModel:
    """plait-openai models driven through the kernel's retry layer."""

    async def setup(self, base: str) -> None:
        from plait import RequestParams, ToolSpec
        from plait_openai.provider import OpenAIProvider

        provider = OpenAIProvider("openai")
        self.models = {
            m: provider.model(m, base_url=f"{base}/v1", api_key=KEY, limits=_limits())
            for m in ("bench-tool", "bench-stream")
        }
        fn = TOOLS[0]["function"]
        self.params = RequestParams(
            tools=[ToolSpec(fn["name"], fn["description"], fn["parameters"])]
        )

    async def tool_run(self, prompt: str = PROMPT) -> str:
        from plait import ToolResultMessage, UserMessage
        from plait._retry import request_with_retry

        m = self.models["bench-tool"]
        messages: list[Any] = [UserMessage(content=prompt)]
        first = await request_with_retry(m, messages, self.params, deadline=600)
        call = first.message.tool_calls[0]
        result = get_weather(**call.parsed_arguments())
        messages += [
            first.message,
            ToolResultMessage(tool_call_id=call.id, name=call.name, content=result),
        ]
        return (await request_with_retry(m, messages, self.params, deadline=600)).message.text

    async def stream_run(self) -> int:
        from plait import RequestParams, TextDelta, UserMessage
        from plait._retry import stream_with_retry

        chunks = 0
        async for event in stream_with_retry(
            self.models["bench-stream"],
            [UserMessage(content=PROMPT)],
            RequestParams(),
            deadline=600,
        ):
            if type(event) is TextDelta:
                chunks += 1
        return chunks

    async def aclose(self) -> None:
        for m in self.models.values():
            await m.aclose()


class PlaitRun(PlaitModel):
    """The whole ``plait.arun`` loop (streamed turns, tool execution, events, result)."""

    async def setup(self, base: str) -> None:
        await super().setup(base)
        from plait._kernel import Kernel

        self.kernel = Kernel(entry_points=())

    async def tool_run(self, prompt: str = PROMPT) -> str:
        import plait

        model = self.models["bench-tool"]
        result = await plait.arun(prompt, model=model, tools=[get_weather], kernel=self.kernel)
        return str(result.output)


class PydanticAI:
    async def setup(self, base: str) -> None:
        from pydantic_ai import Agent
        from pydantic_ai.models.openai import OpenAIChatModel
        from pydantic_ai.providers.openai import OpenAIProvider

        http = httpx.AsyncClient(limits=_limits(), timeout=60)
        provider = OpenAIProvider(base_url=f"{base}/v1", api_key=KEY, http_client=http)
        self.agent = Agent(OpenAIChatModel("bench-tool", provider=provider), tools=[get_weather])
        self.streamer = Agent(OpenAIChatModel("bench-stream", provider=provider))

    async def tool_run(self, prompt: str = PROMPT) -> str:
        return str((await self.agent.run(prompt)).output)

    async def stream_run(self) -> int:
        chunks = 0
        async with self.streamer.run_stream(PROMPT) as result:
            async for _ in result.stream_text(delta=True, debounce_by=None):
                chunks += 1
        return chunks

    async def aclose(self) -> None:
        pass


class OpenAIAgents:
    async def setup(self, base: str) -> None:
        from agents import Agent, OpenAIChatCompletionsModel, function_tool, set_tracing_disabled
        from openai import AsyncOpenAI

        set_tracing_disabled(True)
        client = AsyncOpenAI(
            base_url=f"{base}/v1", api_key=KEY, http_client=httpx.AsyncClient(limits=_limits())
        )
        tool = function_tool(get_weather)
        model = OpenAIChatCompletionsModel("bench-tool", client)
        self.agent = Agent(name="b", model=model, tools=[tool])
        self.streamer = Agent(name="s", model=OpenAIChatCompletionsModel("bench-stream", client))

    async def tool_run(self, prompt: str = PROMPT) -> str:
        from agents import Runner

        return str((await Runner.run(self.agent, prompt)).final_output)

    async def stream_run(self) -> int:
        from agents import Runner

        chunks = 0
        result = Runner.run_streamed(self.streamer, PROMPT)
        async for event in result.stream_events():
            if (
                event.type == "raw_response_event"
                and getattr(event.data, "type", "") == "response.output_text.delta"
            ):
                chunks += 1
        return chunks

    async def aclose(self) -> None:
        pass


CLIENTS: dict[str, Callable[[], Any]] = {
    "raw": Raw,
    "plait-model": PlaitModel,
    "plait-run": PlaitRun,
    "pydantic-ai": PydanticAI,
    "openai-agents": OpenAIAgents,
}


# --- measuring one client in this process --------------------------------------------------


async def _concurrently(n_workers: int, total: int, job: Callable[[], Awaitable[Any]]) -> None:
    per_worker = [total // n_workers + (i < total % n_workers) for i in range(n_workers)]

    async def worker(count: int) -> None:
        for _ in range(count):
            await job()

    async with anyio.create_task_group() as tg:
        for count in per_worker:
            tg.start_soon(worker, count)


async def measure(
    name: str, base: str, runs: int, concurrency: list[int], memory_runs: int
) -> dict[str, float]:
    client = CLIENTS[name]()
    await client.setup(base)
    out: dict[str, float] = {}
    try:
        assert (await client.tool_run()).strip().rstrip(".") == FINAL_TEXT.rstrip(".")  # warm up
        assert await client.stream_run() == 500
        gc.collect()
        start = time.process_time()
        for _ in range(runs):
            await client.tool_run()
        out["cpu_per_tool_run_us"] = (time.process_time() - start) / runs * 1e6
        for c in concurrency:
            total = max(runs, c)
            wall, cpu = time.perf_counter(), time.process_time()
            await _concurrently(c, total, lambda: client.tool_run())
            out[f"runs_per_s_at_{c}"] = total / (time.perf_counter() - wall)
            out[f"cpu_per_run_at_{c}_us"] = (time.process_time() - cpu) / total * 1e6
        streams = max(3, runs // 10)
        start = time.process_time()
        chunks = 0
        for _ in range(streams):
            chunks += await client.stream_run()
        out["cpu_per_chunk_us"] = (time.process_time() - start) / chunks * 1e6
    finally:
        await client.aclose()
    if memory_runs:
        out["bytes_per_inflight_run"] = await _fresh_memory(name, base, memory_runs)
    return out


async def _fresh_memory(name: str, base: str, n: int) -> float:
    """Memory per in-flight run, on a fresh client: every client opens its ``n``
    connections inside the measure, and the other figures never see a pool of
    1,000 idle connections (httpcore scans its pool on every request)."""
    client = CLIENTS[name]()
    await client.setup(base)
    try:
        await client.tool_run()
        return await _memory(client, n, base)
    finally:
        await client.aclose()


async def _memory(client: Any, n: int, base: str) -> float:
    """tracemalloc growth once all ``n`` runs are held by the slow server, per run.

    The server says how many requests it holds (``GET /held``), so the figure is taken
    when every run is really in flight: after a fixed wait, a client slowed down by
    tracemalloc would be caught with only part of its runs started (and look small).
    tracemalloc runs only meanwhile; then the runs are cancelled.
    """
    async with httpx.AsyncClient(base_url=base) as probe:

        async def held() -> int:
            return int((await probe.get("/held")).json()["held"])

        before = await held()
        gc.collect()
        tracemalloc.start()
        start = tracemalloc.get_traced_memory()[0]
        try:
            async with anyio.create_task_group() as tg:
                for _ in range(n):
                    tg.start_soon(client.tool_run, SLOW_PROMPT)
                with anyio.fail_after(SLOW_SECONDS / 2):
                    while await held() < before + n:  # noqa: ASYNC110 (another process)
                        await anyio.sleep(0.05)
                used = 0
                for _ in range(3):  # settled: the last sends have returned
                    await anyio.sleep(0.1)
                    used = max(used, tracemalloc.get_traced_memory()[0] - start)
                tg.cancel_scope.cancel()
        finally:
            tracemalloc.stop()
    return used / n


# --- orchestration: server process, one process per client and round ------------------------


def _available(name: str) -> bool:
    module = {"pydantic-ai": "pydantic_ai", "openai-agents": "agents"}.get(name)
    if module is None:
        return True
    import importlib.util

    return importlib.util.find_spec(module) is not None


def _run_client(name: str, port: int, args: argparse.Namespace) -> dict[str, float]:
    command = [
        sys.executable,
        __file__,
        "--client",
        name,
        "--port",
        str(port),
        "--runs",
        str(args.runs),
        "--concurrency",
        args.concurrency,
        "--memory-runs",
        str(args.memory_runs),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=900)
    if done.returncode != 0:
        raise RuntimeError(f"client {name} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _table(medians: dict[str, dict[str, float]]) -> str:
    raw = medians["raw"]
    lines = ["| client | metric | median | ratio to raw |", "|---|---|---|---|"]
    for name, figures in medians.items():
        for metric, value in figures.items():
            ratio = value / raw[metric] if raw.get(metric) else float("nan")
            lines.append(f"| {name} | {metric} | {value:,.1f} | {ratio:.2f}× |")  # noqa: RUF001
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, dict[str, float]]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--concurrency", default="1,100,1000")
    parser.add_argument("--memory-runs", type=int, default=1000)
    parser.add_argument("--clients", default=",".join(ALL_CLIENTS))
    parser.add_argument("--client", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--json", action="store_true", help="print the medians as JSON")
    args = parser.parse_args(argv)
    concurrency = [int(c) for c in args.concurrency.split(",") if c]
    if args.client:  # child process: measure one client, print one JSON line
        base = f"http://127.0.0.1:{args.port}"
        print(
            json.dumps(
                anyio.run(measure, args.client, base, args.runs, concurrency, args.memory_runs)
            )
        )
        return {}
    clients = [c for c in args.clients.split(",") if c and _available(c)]
    sock = socket.create_server(("127.0.0.1", 0), backlog=4096)
    server = multiprocessing.get_context("spawn").Process(target=serve, args=(sock,), daemon=True)
    server.start()
    results: dict[str, list[dict[str, float]]] = {c: [] for c in clients}
    try:
        for _ in range(args.rounds):
            for name in clients:
                results[name].append(_run_client(name, sock.getsockname()[1], args))
    finally:
        server.kill()
        server.join()
        sock.close()
    medians = {
        name: {k: statistics.median(r[k] for r in rounds) for k in rounds[0]}
        for name, rounds in results.items()
    }
    print(json.dumps(medians, indent=1) if args.json else _table(medians))
    return medians


if __name__ == "__main__":
    main()
