"""Local model benchmark (issue 5): plait's ``local:smollm2`` vs. llama-cpp-python directly.

    python tests/bench/bench_local.py [--runs 9] [--max-tokens 128] [--threads 1] [--json]

Both sides run the same GGUF with the same settings (``n_ctx``, ``n_threads``, sampler
values and seed) on the same prompt text (plait's ChatML rendering of one user message),
each with its own ``Llama`` whose cache is reset before every run, so every run evaluates
the full prompt. Direct means ``Llama.create_completion(prompt, stream=True)``, the call
a llama-cpp-python user makes. Runs are interleaved (the order flips every repetition)
so machine load hits both alike; with the same seed both generate the same tokens, which
is checked. Reported: median time to first token, median decode rate (tokens after the
first, per second of generation after the first) and end-to-end time; ratios are plait
over direct for rates and direct over plait for times (above 1: plait is faster), both
as a ratio of medians and as the median of the per-pair ratios.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import anyio

from plait import ModelSettings, RequestParams, ResponseDone, TextDelta, UserMessage
from plait_local import LocalModel, LocalProvider
from plait_local._engine import import_llama_cpp
from plait_local._files import resolve
from plait_local._grammar import Plan
from plait_local._prompt import render

PROMPT = [UserMessage(content="Write a short story about a robot who learns to paint.")]
SAMPLING: dict[str, Any] = {
    "temperature": 0.2,
    "top_p": 0.95,
    "top_k": 40,
    "min_p": 0.05,
    "repeat_penalty": 1.1,
}


@dataclass
class Sample:
    ttft: float
    total: float
    tokens: int
    text: str

    @property
    def decode_rate(self) -> float:
        return (self.tokens - 1) / (self.total - self.ttft) if self.tokens > 1 else 0.0


async def _plait_run(model: LocalModel, seed: int, max_tokens: int) -> Sample:
    model._engine.llama().reset()  # no KV-cache reuse between runs: full prompt each time
    settings = ModelSettings(seed=seed, max_tokens=max_tokens)
    start = time.perf_counter()
    first = None
    async for event in model.stream(PROMPT, RequestParams(settings=settings)):
        if first is None and isinstance(event, TextDelta) and event.text:
            first = time.perf_counter()
        if isinstance(event, ResponseDone):
            total = time.perf_counter() - start
            response = event.response
    return Sample(
        (first or start) - start, total, response.usage.output_tokens, response.message.text
    )


def _direct_run(llama: Any, prompt: str, seed: int, max_tokens: int) -> Sample:
    llama.reset()
    start = time.perf_counter()
    first = None
    parts: list[str] = []
    chunks = llama.create_completion(
        prompt, max_tokens=max_tokens, stream=True, seed=seed, **SAMPLING
    )
    for chunk in chunks:
        text = chunk["choices"][0]["text"]
        if first is None and text:
            first = time.perf_counter()
        parts.append(text)
    total = time.perf_counter() - start
    return Sample((first or start) - start, total, -1, "".join(parts))


def _median(values: Sequence[float]) -> float:
    return statistics.median(values)


async def _bench(runs: int, max_tokens: int, threads: int) -> dict[str, Any]:
    provider = LocalProvider(n_threads=threads, n_ctx=2048, **SAMPLING)
    model = provider.model("smollm2")
    await model.request(PROMPT, RequestParams(settings=ModelSettings(max_tokens=1)))  # load
    llama_cpp = import_llama_cpp()
    llama = llama_cpp.Llama(
        model_path=str(resolve("smollm2").path),
        n_ctx=2048,
        n_batch=512,
        n_threads=threads,
        n_threads_batch=threads,
        verbose=False,
    )
    prompt = render(PROMPT, RequestParams(), Plan(grammar=None))
    plait_samples: list[Sample] = []
    direct_samples: list[Sample] = []
    same_text = 0
    for i in range(runs):
        seed = 1000 + i
        if i % 2 == 0:
            ours = await _plait_run(model, seed, max_tokens)
            theirs = _direct_run(llama, prompt, seed, max_tokens)
        else:
            theirs = _direct_run(llama, prompt, seed, max_tokens)
            ours = await _plait_run(model, seed, max_tokens)
        # Same seed and sampler: the same tokens. Otherwise count the direct text's tokens.
        same = theirs.text == ours.text
        theirs.tokens = ours.tokens if same else len(llama.tokenize(theirs.text.encode(), False))
        same_text += same
        plait_samples.append(ours)
        direct_samples.append(theirs)
    await model.aclose()
    await provider.aclose()
    llama.close()
    return _summary(plait_samples, direct_samples, same_text, threads, max_tokens)


def _summary(
    ours: list[Sample], theirs: list[Sample], same_text: int, threads: int, max_tokens: int
) -> dict[str, Any]:
    p_rate, d_rate = (
        _median([s.decode_rate for s in ours]),
        _median([s.decode_rate for s in theirs]),
    )
    p_ttft, d_ttft = _median([s.ttft for s in ours]), _median([s.ttft for s in theirs])
    p_total, d_total = _median([s.total for s in ours]), _median([s.total for s in theirs])
    # Each pair ran back to back, so its ratio sees one machine load: their median is the
    # steadiest figure on a shared machine.
    pairs = list(zip(ours, theirs, strict=True))
    paired_rate = _median([a.decode_rate / b.decode_rate for a, b in pairs])
    paired_ttft = _median([b.ttft / a.ttft for a, b in pairs])
    return {
        "runs": len(ours),
        "threads": threads,
        "max_tokens": max_tokens,
        "tokens_median": _median([s.tokens for s in ours]),
        "identical_outputs": same_text,
        "plait_tokens_per_s": p_rate,
        "direct_tokens_per_s": d_rate,
        "rate_ratio": p_rate / d_rate if d_rate else 0.0,
        "paired_rate_ratio": paired_rate,
        "plait_ttft_ms": p_ttft * 1000,
        "direct_ttft_ms": d_ttft * 1000,
        "ttft_ratio": d_ttft / p_ttft if p_ttft else 0.0,
        "paired_ttft_ratio": paired_ttft,
        "plait_total_ms": p_total * 1000,
        "direct_total_ms": d_total * 1000,
        "total_ratio": d_total / p_total if p_total else 0.0,
    }


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result: dict[str, Any] = anyio.run(_bench, args.runs, args.max_tokens, args.threads)
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:>22}: {value:.3f}" if isinstance(value, float) else f"{key:>22}: {value}")
    return result


if __name__ == "__main__":
    main()
